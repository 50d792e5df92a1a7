"""Each student's answer code: the only part of a submission that says anything about who wrote it.

A submitted notebook is mostly the release: provided cells, test cells and, in each answer cell,
the stub's signature and docstring.  All of that is the same in every submission, so it would make
every pair look alike; it is left out.  What remains is, per notebook, the lines of each answer
cell (nbgrader ``solution`` cells, matched to the release by ``grade_id``) that the release's stub
of that cell does not have, and every code cell the student added.  Written (markdown) answers are
not code and are left out.

May import: course.settings, course.notebooks.
"""
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import notebooks

FOLDERS = ("submitted", "autograded")


@dataclass(frozen=True)
class Passage:
    """One piece of a student's answer code: where it is (notebook, cell) and the code."""

    notebook: str
    cell: str
    code: str


def release_cells(release_nb):
    """(grade_id -> the release's text of that answer cell, the sources of all other code cells)."""
    stubs, provided = {}, set()
    for cell in release_nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id"):
            stubs[meta["grade_id"]] = cell.source
        elif cell.cell_type == "code":
            provided.add(cell.source.strip())
    return stubs, provided


def without_stub(code, stub):
    """The lines of ``code`` that the stub does not hold (each stub line cancels one equal line)."""
    left = Counter(line.strip() for line in stub.splitlines() if line.strip())
    kept = []
    for line in code.splitlines():
        key = line.strip()
        if key and left[key] > 0:
            left[key] -= 1
            continue
        kept.append(line)
    return "\n".join(kept).strip("\n")


def notebook_passages(submitted_nb, release_nb, name):
    """The answer code of one submitted notebook, as Passages in notebook order."""
    stubs, provided = release_cells(release_nb)
    passages = []
    added = 0
    for cell in submitted_nb.cells:
        if cell.cell_type != "code":
            continue
        meta = notebooks.nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if meta.get("solution") and grade_id in stubs:
            code, label = without_stub(cell.source, stubs[grade_id]), grade_id
        elif not meta and cell.source.strip() not in provided:
            added += 1
            code, label = cell.source.strip("\n"), f"added cell {added}"
        else:
            continue  # provided or test cell: the release's, whoever submitted it
        if code.strip():
            passages.append(Passage(name, label, code))
    return passages


def student_passages(settings, student, folder="submitted"):
    """Every Passage of one student's submission of ``settings.assignment``.

    A notebook that cannot be read (not JSON, not a notebook) is skipped: it holds no code to compare.
    """
    where = settings.submitted(student) if folder == "submitted" else settings.autograded(student)
    passages = []
    for name in notebooks.notebook_names(settings.release):
        path = where / f"{name}.ipynb"
        if not path.exists():
            continue
        try:
            submitted_nb = notebooks.read(path)
        except Exception:  # a broken notebook is graded as unanswered; here it has nothing to compare
            continue
        passages += notebook_passages(submitted_nb, notebooks.read(settings.release / path.name), name)
    return passages


def students(settings, folder="submitted"):
    """The students who have a submission of the assignment in ``folder`` (submitted/ or autograded/)."""
    if folder not in FOLDERS:
        raise ValueError(f"folder must be one of {FOLDERS}, not {folder!r}")
    base = Path(settings.root) / folder
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / settings.assignment).is_dir())


def document(passages):
    """One student's answer code as one text, each passage headed by a comment naming its place.

    The headers are comments, which the comparison ignores; they tell the reader where a passage is.
    """
    return "\n\n".join(f"# {p.notebook} / {p.cell}\n{p.code}" for p in passages) + "\n"


def release_code(settings):
    """All code of the release (provided cells, stubs): the boilerplate every submission shares."""
    parts = []
    for name in notebooks.notebook_names(settings.release):
        nb = notebooks.read(settings.release / f"{name}.ipynb")
        parts += [cell.source for cell in nb.cells if cell.cell_type == "code"]
    return "\n\n".join(parts) + "\n"
