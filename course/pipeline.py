"""Running nbgrader on a course folder and reading what it graded.

Every step is one of nbgrader's own commands, run in the course folder with
the course's nbgrader_config.py, exactly as an instructor would type it.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from . import ASSIGNMENT, notebooks, submissions


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


def db_url(root):
    return "sqlite:///" + str(Path(root) / "gradebook.db")


def generate(root):
    """``nbgrader generate_assignment hw4``: the release, and the assignment in the gradebook."""
    return nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")


def submit(root, student, built):
    """Put a student's notebooks (``{name: notebook}``) in submitted/, as nbgrader collect would."""
    folder = Path(root) / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, nb in built.items():
        notebooks.write(nb, folder / f"{name}.ipynb")
    return folder


def build_student(root, code_by_notebook=None, base=submissions.BLANK):
    """``{name: submission notebook}`` for every notebook of the course at ``root``."""
    source = Path(root) / "source" / ASSIGNMENT
    release = Path(root) / "release" / ASSIGNMENT
    code_by_notebook = code_by_notebook or {}
    built = {}
    for path in sorted(source.glob("*.ipynb")):
        built[path.stem] = submissions.build(
            notebooks.read(release / path.name), notebooks.read(path),
            code_by_notebook.get(path.stem), base)
    return built


def autograde(root, student=None):
    """``nbgrader autograde hw4`` for every student in submitted/ (or one)."""
    args = ["autograde", ASSIGNMENT, "--force"]
    if student:
        args.append(f"--student={student}")
    return nbgrader(root, *args)


def feedback(root):
    """``nbgrader generate_feedback hw4``."""
    return nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")


def scores(root):
    """student -> notebook -> grade_id -> (score, max_score, autograded?), from the gradebook.

    A manually graded cell that nobody has graded yet has score None.
    """
    result = {}
    with Gradebook(db_url(root)) as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            per_nb = result.setdefault(submission.student.id, {})
            for nb in submission.notebooks:
                per_nb[nb.name] = {
                    g.name: (g.auto_score if g.cell.cell_type == "code" else g.manual_score,
                             g.max_score, g.cell.cell_type == "code")
                    for g in nb.grades}
    return result


def auto_total(cells):
    """(points earned, points possible) over the autograded cells of one notebook."""
    auto = [(s or 0, m) for s, m, is_auto in cells.values() if is_auto]
    return sum(s for s, _ in auto), sum(m for _, m in auto)
