"""The corpus: simulated student submissions with known verdicts, graded by nbgrader.

``corpus/<notebook>/correct_*.py`` are complete correct answers written in
another style than the reference: each must earn every autograded point of its
notebook.  ``corpus/<notebook>/mistake_*.py`` define only the answers they get
wrong (the rest comes from the reference solution) and name in ``LOSES`` the
answers whose test cells may lose points.  A mistake is *caught* when at least
one test cell targeting a LOSES name loses points; it costs *collateral* points
when any other test cell does.  A test cell targets answer X when its grade_id
is X or starts with ``X_`` (see AUTHORING.md).
"""
import ast
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import ROOT, gradebook, notebooks, pipeline
from ..parallel import grade_class
from . import submissions

CORPUS = ROOT / "corpus"


@dataclass
class Case:
    """One corpus file and, after grading, its verdict."""
    notebook: str
    path: Path
    kind: str                      # "correct" or "mistake"
    loses: tuple = ()
    cells: dict = field(default_factory=dict)   # grade_id -> (score, max)

    @property
    def student(self):
        return f"corpus_{self.notebook}__{self.path.stem}"

    def targets(self, grade_id):
        return any(grade_id == name or grade_id.startswith(name + "_") for name in self.loses)

    @property
    def lost(self):
        return {g for g, (s, m) in self.cells.items() if (s or 0) < m}

    @property
    def verdict(self):
        """'full marks' | 'not full marks' | 'caught' | 'missed', plus ' + collateral'."""
        if not self.cells:
            return "not graded"
        if self.kind == "correct":
            return "full marks" if not self.lost else "not full marks"
        caught = any(self.targets(g) for g in self.lost)
        collateral = any(not self.targets(g) for g in self.lost)
        return ("caught" if caught else "missed") + (" + collateral" if collateral else "")

    @property
    def right(self):
        return self.verdict in ("full marks", "caught")


def _loses(code, path):
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LOSES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise ValueError(f"{path}: a mistake must name the answers it may cost in LOSES = (...)")


def cases(notebook_names=None):
    """Every corpus case, optionally only for some notebooks."""
    found = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        if notebook_names and folder.name not in notebook_names:
            continue
        for path in sorted(folder.glob("*.py")):
            kind = "correct" if path.stem.startswith("correct") else "mistake"
            loses = _loses(path.read_text(), path) if kind == "mistake" else ()
            found.append(Case(folder.name, path, kind, loses))
    return found


def grade(selected, workdir=None):
    """Grade the cases with nbgrader autograde in a scratch course; fill in their cells."""
    scratch = Path(workdir or tempfile.mkdtemp(prefix="corpus_"))
    # only the notebooks the cases touch
    settings = pipeline.scratch_course(scratch, names={case.notebook for case in selected})
    pipeline.generate(scratch)
    release, source = settings.release, settings.source
    for case in selected:
        base = submissions.BLANK if case.kind == "correct" else submissions.REFERENCE
        nb = submissions.build(notebooks.read(release / f"{case.notebook}.ipynb"),
                               notebooks.read(source / f"{case.notebook}.ipynb"),
                               case.path.read_text(), base)
        pipeline.submit(scratch, case.student, {case.notebook: nb})
    # nbgrader's own autograde in parallel (course.parallel); a submission that fails to grade is
    # a verdict ("not graded"), not a crash
    grade_class.grade_class(scratch, students=["corpus_*"], force=True, quiet=True)
    scores = gradebook.scores(settings)
    for case in selected:
        cells = scores.get(case.student, {}).get(case.notebook, {})
        case.cells = {g: (s, m) for g, (s, m, is_auto) in cells.items() if is_auto}
    if workdir is None:
        shutil.rmtree(scratch, ignore_errors=True)
    return selected


def report(graded):
    """The confusion table and one line per case that went wrong, as text."""
    correct = [c for c in graded if c.kind == "correct"]
    mistakes = [c for c in graded if c.kind == "mistake"]
    rows = [
        ("correct submissions at full marks", sum(c.verdict == "full marks" for c in correct), len(correct)),
        ("mistakes caught, no collateral loss", sum(c.verdict == "caught" for c in mistakes), len(mistakes)),
        ("mistakes missed", sum(c.verdict.startswith("missed") for c in mistakes), len(mistakes)),
        ("mistakes costing points outside their function",
         sum(c.verdict.endswith("collateral") for c in mistakes), len(mistakes)),
    ]
    lines = [f"{'':<50}{'count':>8}", *[f"{name:<50}{n:>4} / {total}" for name, n, total in rows]]
    for nb in sorted({c.notebook for c in graded}):
        mine = [c for c in graded if c.notebook == nb]
        lines.append(f"  {nb}: {sum(c.kind == 'correct' for c in mine)} correct, "
                     f"{sum(c.kind == 'mistake' for c in mine)} mistakes, "
                     f"{sum(not c.right for c in mine)} wrong verdicts")
    for case in graded:
        if not case.right:
            lines.append(f"WRONG VERDICT {case.path.relative_to(ROOT)}: {case.verdict}; "
                         f"cells that lost points: {sorted(case.lost) or 'none'}")
    return "\n".join(lines)


def main(notebook_names=None):
    start = time.time()
    graded = grade(cases(notebook_names))
    print(report(graded))
    print(f"graded {len(graded)} corpus submissions in {time.time() - start:.0f} s")
    return 0 if all(c.right for c in graded) else 1
