"""The corpus: simulated student submissions with known verdicts, graded by nbgrader.

``corpus/<notebook>/correct_*.py`` are complete correct answers written in
another style than the reference: each must earn every autograded point of its
notebook.  ``corpus/<notebook>/mistake_*.py`` define only the answers they get
wrong (the rest comes from the reference solution) and name in ``LOSES`` the
answers whose test cells may lose points.  A mistake is *caught* when at least
one test cell targeting a LOSES name loses points; it costs *collateral* points
when any other test cell does.  A test cell targets answer X when its grade_id
is X or starts with ``X_`` (see AUTHORING.md).

The answer families (``corpus/families.toml``) check that no test gives points for nothing
(AUTHORING.md, "No free points").  For each notebook and each family there is one submission in
which every answer function computes nothing in the family's way (zeros, the identity, its inputs
handed back, None, ...) or is broken (forgets to return, raises for some inputs, ...), generated
here from ``corpus/family_answers.py`` rather than written by hand, so that a new answer function
is covered at once and the corpus grows by one submission per family, not per function.  Every
test cell targeting an answer function may earn at most what the family declares.
"""
import ast
import re
import shutil
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import ROOT, gradebook, notebooks, pipeline
from .. import settings as course_settings
from ..parallel import grade_class
from . import submissions

CORPUS = ROOT / "corpus"
FAMILIES_FILE = CORPUS / "families.toml"
FAMILY_ANSWERS = CORPUS / "family_answers.py"


@dataclass
class Case:
    """One corpus file or answer family and, after grading, its verdict."""
    notebook: str
    path: Path
    kind: str                      # "correct", "mistake" or "family"
    loses: tuple = ()              # a mistake: the answers it may cost; a family: the answer functions
    cells: dict = field(default_factory=dict)   # grade_id -> (score, max)
    family: str = ""               # a family's name in corpus/families.toml
    may_earn: dict = field(default_factory=dict)   # a family: grade_id -> the most points it may earn
    right_for_some_inputs: bool = False   # a family that is right where it does not break

    @property
    def name(self):
        return f"family {self.family}" if self.kind == "family" else self.path.name

    @property
    def student(self):
        stem = f"family_{self.family}" if self.kind == "family" else self.path.stem
        return f"corpus_{self.notebook}__{stem}"

    def code(self, source_nb):
        """The student's Python file for this case (a family's is generated from the source notebook)."""
        if self.kind == "family":
            return family_code(source_nb, self.family)
        return self.path.read_text()

    @property
    def free(self):
        """A family: grade_id -> points, for the cells targeting an answer function that earned
        more than the family may.  A family right for some inputs may earn a cell whose inputs it
        handles, but an answer function that loses no point anywhere earns all its points free."""
        if self.right_for_some_inputs:
            unscathed = [name for name in self.loses if not any(
                _targets(name, g) and (s or 0) < m for g, (s, m) in self.cells.items())]
            return {g: s for g, (s, m) in self.cells.items()
                    if (s or 0) > 0 and any(_targets(name, g) for name in unscathed)}
        return {g: s for g, (s, m) in self.cells.items()
                if self.targets(g) and (s or 0) > self.may_earn.get(g, 0)}

    def targets(self, grade_id):
        return any(_targets(name, grade_id) for name in self.loses)

    @property
    def lost(self):
        return {g for g, (s, m) in self.cells.items() if (s or 0) < m}

    @property
    def verdict(self):
        """'full marks' | 'not full marks' | 'caught' | 'missed', plus ' + collateral';
        for a family 'no free points' | 'free points'."""
        if not self.cells:
            return "not graded"
        if self.kind == "family":
            return "free points" if self.free else "no free points"
        if self.kind == "correct":
            return "full marks" if not self.lost else "not full marks"
        caught = any(self.targets(g) for g in self.lost)
        collateral = any(not self.targets(g) for g in self.lost)
        return ("caught" if caught else "missed") + (" + collateral" if collateral else "")

    @property
    def right(self):
        return self.verdict in ("full marks", "caught", "no free points")


def _targets(name, grade_id):
    """Does the test cell ``grade_id`` target the answer ``name`` (AUTHORING.md)?"""
    return grade_id == name or grade_id.startswith(name + "_")


def _loses(code, path):
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "LOSES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise ValueError(f"{path}: a mistake must name the answers it may cost in LOSES = (...)")


def cases(notebook_names=None, files=True, family_names=None):
    """Every corpus case: the files, then the answer families; optionally only for some notebooks,
    without the files, or only some families (an empty list: none)."""
    found = []
    declared, shape_cells = families()
    source = course_settings.load(ROOT).source
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        if notebook_names and folder.name not in notebook_names:
            continue
        for path in sorted(folder.glob("*.py")) if files else ():
            kind = "correct" if path.stem.startswith("correct") else "mistake"
            loses = _loses(path.read_text(), path) if kind == "mistake" else ()
            found.append(Case(folder.name, path, kind, loses))
        source_nb = notebooks.read(source / f"{folder.name}.ipynb")
        points = test_cell_points(source_nb)
        for family, table in declared.items():
            if family_names is not None and family not in family_names:
                continue
            may_earn = {g: points[g] for g in shape_cells if g in points} if table["right_shape"] else {}
            found.append(Case(folder.name, FAMILY_ANSWERS, "family", tuple(answer_functions(source_nb)),
                              family=family, may_earn=may_earn,
                              right_for_some_inputs=table.get("right_for_some_inputs", False)))
    return found


def grade(selected, workdir=None):
    """Grade the cases with nbgrader autograde in a scratch course; fill in their cells."""
    scratch = Path(workdir or tempfile.mkdtemp(prefix="corpus_"))
    # only the notebooks the cases touch
    settings = pipeline.scratch_course(scratch, names={case.notebook for case in selected})
    pipeline.generate(scratch)
    release, source = settings.release, settings.source
    for case in selected:
        # a family's value answers (hand-worked numbers, yes/no) are the reference's
        base = submissions.BLANK if case.kind == "correct" else submissions.REFERENCE
        source_nb = notebooks.read(source / f"{case.notebook}.ipynb")
        nb = submissions.build(notebooks.read(release / f"{case.notebook}.ipynb"), source_nb,
                               case.code(source_nb), base)
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


# ---------------------------------------------------------------- answer families (no free points)

def families():
    """(family name -> its table, the shape-and-type-only cells), from corpus/families.toml."""
    with open(FAMILIES_FILE, "rb") as handle:
        declared = tomllib.load(handle)
    return declared["families"], tuple(declared["shape_and_type_cells"])


def test_cell_points(source_nb):
    """grade_id -> points of every autograded test cell of a source notebook."""
    return {meta["grade_id"]: meta["points"] for cell in source_nb.cells
            if cell.cell_type == "code" and (meta := notebooks.nbgrader_meta(cell)).get("grade")}


def answer_functions(source_nb):
    """The names of the answer functions a source notebook asks for (not its value answers)."""
    names = []
    for kind, text, _ in notebooks.answer_cells(source_nb).values():
        if kind == "code":
            names += [node.name for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)]
    return names


def family_code(source_nb, family):
    """One student's file: every answer function of the notebook answers the family's way."""
    text = FAMILY_ANSWERS.read_text()
    reference = submissions.reference_code(source_nb)
    for name, value in (("_FAMILY", family), ("_REFERENCE_SOURCE", reference)):
        text, found = re.subn(rf"^{name} = .*$", lambda _: f"{name} = {value!r}", text, count=1, flags=re.M)
        if not found:
            raise ValueError(f"{FAMILY_ANSWERS} must assign {name} at the top level")
    keyword = "" if family == "no_return" else "return "
    for name in answer_functions(source_nb):
        text += f"\n\ndef {name}(*args, **kwargs):\n    {keyword}_family_answer({name!r}, args, kwargs)\n"
    return text


def report(graded):
    """The confusion table, the families' free points and one line per case that went wrong, as text."""
    correct = [c for c in graded if c.kind == "correct"]
    mistakes = [c for c in graded if c.kind == "mistake"]
    family_cases = [c for c in graded if c.kind == "family"]
    rows = [
        ("correct submissions at full marks", sum(c.verdict == "full marks" for c in correct), len(correct)),
        ("mistakes caught, no collateral loss", sum(c.verdict == "caught" for c in mistakes), len(mistakes)),
        ("mistakes missed", sum(c.verdict.startswith("missed") for c in mistakes), len(mistakes)),
        ("mistakes costing points outside their function",
         sum(c.verdict.endswith("collateral") for c in mistakes), len(mistakes)),
        ("family submissions without a free point",
         sum(c.verdict == "no free points" for c in family_cases), len(family_cases)),
    ]
    lines = [f"{'':<50}{'count':>8}", *[f"{name:<50}{n:>4} / {total}" for name, n, total in rows]]
    for nb in sorted({c.notebook for c in graded}):
        mine = [c for c in graded if c.notebook == nb]
        lines.append(f"  {nb}: {sum(c.kind == 'correct' for c in mine)} correct, "
                     f"{sum(c.kind == 'mistake' for c in mine)} mistakes, "
                     f"{sum(c.kind == 'family' for c in mine)} families, "
                     f"{sum(not c.right for c in mine)} wrong verdicts")
    if family_cases:
        lines.append(family_table(family_cases))
    for case in graded:
        if case.right:
            continue
        if case.kind == "family":
            lines.append(f"FREE POINTS {case.notebook}, {case.name}: "
                         + (", ".join(f"{g} earned {s:g}" for g, s in sorted(case.free.items()))
                            if case.cells else "not graded"))
        else:
            lines.append(f"WRONG VERDICT {case.path.relative_to(ROOT)}: {case.verdict}; "
                         f"cells that lost points: {sorted(case.lost) or 'none'}")
    return "\n".join(lines)


def family_table(family_cases):
    """Per family and notebook: free points earned / test cells targeting an answer function."""
    seen = sorted({c.notebook for c in family_cases})
    by_key = {(c.notebook, c.family): c for c in family_cases}
    lines = ["free points per family and notebook (free points / cells targeting an answer function)",
             f"  {'family':<14}" + "".join(f"{nb.split('_', 1)[0]:>12}" for nb in seen)]
    for family in dict.fromkeys(c.family for c in family_cases):
        row = []
        for nb in seen:
            case = by_key.get((nb, family))
            if case is None or not case.cells:
                row.append("-" if case is None else "not graded")
                continue
            targeted = sum(1 for g in case.cells if case.targets(g))
            row.append(f"{sum(case.free.values()):g} / {targeted}")
        lines.append(f"  {family:<14}" + "".join(f"{r:>12}" for r in row))
    return "\n".join(lines)


def main(notebook_names=None):
    start = time.time()
    graded = grade(cases(notebook_names))
    print(report(graded))
    print(f"graded {len(graded)} corpus submissions in {time.time() - start:.0f} s")
    return 0 if all(c.right for c in graded) else 1
