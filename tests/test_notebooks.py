"""The source notebooks: they run, they are clean, and their graded cells follow the course's rules."""
import ast
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from course import notebooks

from support.course import ROOT, SOURCE

NAMES = sorted(p.name for p in SOURCE.glob("*.ipynb"))
GRADE_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def test_the_four_problems_are_there():
    assert NAMES == ["problem1_kmeans.ipynb", "problem2_gmm.ipynb",
                     "problem3_density.ipynb", "problem4_regression.ipynb"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_source_notebook_runs_clean_with_every_test_passing(name, tmp_path):
    """Execute the instructor notebook top to bottom; look at every output, not at an exit code."""
    for path in SOURCE.iterdir():
        if path.is_file():
            shutil.copy(path, tmp_path)
    nb = notebooks.read(tmp_path / name)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                problems.append(f"cell {i} raised {out.ename}: {out.evalue}")
            elif (out.output_type == "stream" and out.name == "stderr"
                  and notebooks.nbgrader_meta(cell).get("grade")):
                problems.append(f"graded cell {i} wrote to stderr (nbgrader would score it 0): {out.text[:300]}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_source_notebook_is_stored_clean(name):
    dirt = notebooks.dirt(notebooks.read(SOURCE / name))
    assert not dirt, f"{name} is not clean ({'; '.join(dirt)}): run `python -m course clean`"


@pytest.mark.parametrize("name", NAMES)
def test_graded_cells_follow_the_conventions(name):
    nb = notebooks.read(SOURCE / name)
    problems = []
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if not meta:
            continue
        gid = meta.get("grade_id", "")
        if not GRADE_ID.match(gid) or gid.startswith("cell"):
            problems.append(f"grade_id {gid!r} is not a descriptive snake_case name")
        if meta.get("schema_version") != 3:
            problems.append(f"{gid}: schema_version {meta.get('schema_version')}")
        if meta.get("grade") and not meta.get("points"):
            problems.append(f"{gid}: graded but worth no points")
        if meta.get("grade") and cell.cell_type == "code" and not meta.get("solution"):
            if not meta.get("locked"):
                problems.append(f"{gid}: test cell is not locked")
            body = ast.parse(cell.source).body
            if not (body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant)
                    and isinstance(body[0].value.value, str)):
                problems.append(f"{gid}: test cell does not start with a docstring")
            before, hidden, _ = (cell.source + "\n").partition(notebooks.BEGIN_HIDDEN)
            if not hidden:
                problems.append(f"{gid}: no hidden tests")
            visible = [s for s in ast.parse(before).body[1:]] if hidden else []
            if hidden and not visible:
                problems.append(f"{gid}: no visible check before the hidden tests")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_grade_ids_are_unique_across_the_assignment():
    seen = {}
    for name in NAMES:
        for gid, _, _ in notebooks.graded_cells(notebooks.read(SOURCE / name)):
            assert gid not in seen, f"grade_id {gid} is in both {seen[gid]} and {name}"
            seen[gid] = name


def _readme_points():
    """notebook -> (auto, manual, total) from the README's points table."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cols = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cols) == 4 and (cols[0].endswith(".ipynb") or cols[0] == "total"):
            rows[cols[0]] = tuple(int(c) for c in cols[1:])
    return rows


def test_points_match_the_readme_table():
    table = _readme_points()
    overall = [0, 0, 0]
    for name in NAMES:
        cells = notebooks.graded_cells(notebooks.read(SOURCE / name))
        auto = sum(p for _, p, kind in cells if kind == "auto")
        manual = sum(p for _, p, kind in cells if kind == "manual")
        assert table.get(name) == (auto, manual, auto + manual), \
            f"README points table says {table.get(name)} for {name}; the notebook has {(auto, manual, auto + manual)}"
        overall = [overall[0] + auto, overall[1] + manual, overall[2] + auto + manual]
    assert table.get("total") == tuple(overall), f"README total {table.get('total')} != {tuple(overall)}"


def test_every_source_notebook_is_valid_nbformat():
    for name in NAMES:
        nbformat.validate(notebooks.read(SOURCE / name))
