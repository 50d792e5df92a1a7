"""Running nbgrader's own commands on a course folder, and making scratch course folders.

Every step is one of nbgrader's commands, run in the course folder with that folder's
nbgrader_config.py, exactly as an instructor would type it; the assignment is the course's
(``Course.assignment``).  Scratch course folders - a copy of the course's source notebooks and
config, for example runs, author checks, the corpus and the tests - are made by ``scratch_course``
alone, so they all look like the real course.

May import: course.settings, course.notebooks, course.authoring.submissions.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import ROOT, notebooks, settings as course_settings
from .authoring import submissions


class NbgraderError(RuntimeError):
    """An nbgrader command exited with an error."""


def nbgrader(root, *args, check=True):
    """Run ``nbgrader ARGS`` in the course folder ``root``; return the completed process."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader runs `alembic` and the kernel from PATH: put this environment's scripts first.
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PATH": path, "PYTHONUNBUFFERED": "1"})
    if check and proc.returncode != 0:
        raise NbgraderError(f"`nbgrader {' '.join(args)}` failed with exit code "
                            f"{proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


def scratch_course(folder, names=None, config_lines=(), course=ROOT):
    """A course folder at ``folder``: the source notebooks ``names`` (default: all) of ``course``,
    the assignment's helper files and ``course``'s nbgrader_config.py, plus ``config_lines``
    appended to it (settings for this scratch course only).  Returns its Settings."""
    folder = Path(folder)
    original = course_settings.load(course)
    source = folder / "source" / original.assignment
    source.mkdir(parents=True, exist_ok=True)
    for path in original.source.iterdir():
        if path.is_file() and (path.suffix != ".ipynb" or names is None or path.stem in names):
            shutil.copy(path, source)
    text = (Path(course) / course_settings.CONFIG_FILE).read_text()
    if config_lines:
        text += "\n# this scratch course only\n" + "\n".join(config_lines) + "\n"
    (folder / course_settings.CONFIG_FILE).write_text(text)
    return course_settings.load(folder)


def generate(root):
    """``nbgrader generate_assignment ASSIGNMENT``: the release, and the assignment in the gradebook."""
    return nbgrader(root, "generate_assignment", course_settings.load(root).assignment, "--force")


def submit(root, student, built):
    """Put a student's notebooks (``{name: notebook}``) in submitted/, as nbgrader collect would."""
    folder = course_settings.load(root).submitted(student)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, nb in built.items():
        notebooks.write(nb, folder / f"{name}.ipynb")
    return folder


def build_student(root, code_by_notebook=None, base=submissions.BLANK):
    """``{name: submission notebook}`` for every notebook of the course at ``root``."""
    settings = course_settings.load(root)
    code_by_notebook = code_by_notebook or {}
    built = {}
    for path in sorted(settings.source.glob("*.ipynb")):
        built[path.stem] = submissions.build(
            notebooks.read(settings.release / path.name), notebooks.read(path),
            code_by_notebook.get(path.stem), base)
    return built


def autograde(root, student=None):
    """``nbgrader autograde ASSIGNMENT`` for every student in submitted/ (or one)."""
    args = ["autograde", course_settings.load(root).assignment, "--force"]
    if student:
        args.append(f"--student={student}")
    return nbgrader(root, *args)


def feedback(root):
    """``nbgrader generate_feedback ASSIGNMENT``."""
    return nbgrader(root, "generate_feedback", course_settings.load(root).assignment, "--force")
