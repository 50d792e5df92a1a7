"""The repository's course as the tests see it: its settings, read from nbgrader_config.py."""
from course import EXAMPLES, ROOT, settings

SETTINGS = settings.load(ROOT)
ASSIGNMENT = SETTINGS.assignment
SOURCE = SETTINGS.source
RELEASE = SETTINGS.release

__all__ = ["ASSIGNMENT", "EXAMPLES", "RELEASE", "ROOT", "SETTINGS", "SOURCE"]


def source_module(name):
    """Import one of the assignment's helper modules (hw4_checks) from source/, by file."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, SOURCE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
