"""Making submissions from the release notebooks and a student's code.

A submission is never a hand-edited notebook: it is the release with its
answer cells replaced, so that example submissions and the test corpus follow
the notebooks whenever they change.

A student's code for one notebook is a plain Python file.  Its top-level
functions and assignments replace the definitions of the same names in the
answer cells (the names each answer cell of the source defines); its imports
are put at the top of every answer cell it fills, and its other top-level
definitions (helper functions, constants) go into the first cell it fills.  Names the file does not
define are taken from ``base``: the release's unanswered stub (a student who
left them blank) or the reference solution (a student whose only mistake is
the code in the file).  Written answers keep the release's stub, except in the
reference submission, which carries the model answers.
"""
import copy

from .. import notebooks
from ..notebooks import answer_cells, definitions

BLANK, REFERENCE = "release", "reference"


def reference_code(source_nb):
    """The reference solution of one notebook as one Python file's text."""
    return "\n\n\n".join(text for kind, text, _ in answer_cells(source_nb).values()
                         if kind == "code") + "\n"


def build(release_nb, source_nb, code=None, base=BLANK):
    """A submission: the release with the answer cells filled from ``code``.

    ``code`` is a student's Python file for this notebook (None: nothing
    answered); ``base`` says what fills the names it does not define.
    """
    student_defs, student_imports = definitions(code or "")
    answers = answer_cells(source_nb)
    answer_names = {name for _, _, names in answers.values() for name in names}
    # the student's own helpers (functions, constants) go with their first filled answer cell
    helpers = [text for name, text in student_defs.items() if name not in answer_names and name != "LOSES"]
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if not meta.get("solution") or meta.get("grade_id") not in answers:
            continue
        kind, reference, names = answers[meta["grade_id"]]
        if code is None:
            if base == REFERENCE:
                cell.source = reference
            continue
        if kind != "code":
            continue
        if not any(name in student_defs for name in names) and base == BLANK:
            continue  # nothing answered in this cell: keep the stub as released
        ref_defs, ref_imports = definitions(reference)
        # an unanswered function keeps its released stub (signature, docstring, raise)
        fallback = ref_defs if base == REFERENCE else definitions(cell.source)[0]
        parts = [student_defs.get(name, fallback.get(name)) for name in names]
        parts = [part for part in parts if part]
        header = student_imports + (ref_imports if base == REFERENCE else [])
        if any(name in student_defs for name in names):
            parts, helpers = list(dict.fromkeys(helpers)) + parts, []
        cell.source = "\n".join(dict.fromkeys(header)) + ("\n\n" if header else "") + "\n\n\n".join(parts)
    return nb


def reference_namespace(source_path):
    """Run a source notebook's reference solution (its answer cells only) and return the namespace.

    For benchmarks and tests outside the notebooks, which need the reference
    functions without executing the whole notebook.
    """
    import importlib.util
    import sys
    from pathlib import Path

    source_path = Path(source_path)
    # the answer cells may import the assignment's helper modules (hw4_checks): load them from the
    # source folder by file, for the time of the run, without touching sys.path
    helpers = {}
    for path in source_path.parent.glob("*.py"):
        if path.stem not in sys.modules:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            helpers[path.stem] = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = helpers[path.stem]
            spec.loader.exec_module(helpers[path.stem])
    try:
        namespace = {"__name__": f"reference_{source_path.stem}"}
        exec(compile(reference_code(notebooks.read(source_path)), str(source_path), "exec"), namespace)
    finally:
        for name in helpers:
            sys.modules.pop(name, None)
    return namespace
