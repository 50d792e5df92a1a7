"""The corpus of simulated submissions gets the verdicts it must: correct answers at full marks,
every mistake caught without collateral loss, and no free point for an answer that computes nothing
or is broken (the answer families of corpus/families.toml; AUTHORING.md, "No free points")."""
import ast

import numpy as np
import pytest

from course import notebooks
from course.authoring import corpus
from support.course import SOURCE

FAMILIES, SHAPE_CELLS = corpus.families()
NOTEBOOKS = sorted(p.stem for p in SOURCE.glob("*.ipynb"))


@pytest.fixture(scope="module")
def graded():
    return corpus.grade(corpus.cases())


@pytest.mark.slow
def test_corpus_is_big_enough_and_covers_every_notebook(graded):
    correct = [c for c in graded if c.kind == "correct"]
    mistakes = [c for c in graded if c.kind == "mistake"]
    family_cases = [c for c in graded if c.kind == "family"]
    assert len(correct) >= 10 and len(mistakes) >= 30, (len(correct), len(mistakes))
    assert len({c.notebook for c in mistakes}) == 4
    # one submission per notebook and family, each covering every answer function of its notebook
    assert {(c.notebook, c.family) for c in family_cases} == {(nb, f) for nb in NOTEBOOKS for f in FAMILIES}
    assert all(c.loses for c in family_cases)


@pytest.mark.slow
def test_every_verdict_is_right(graded):
    print(corpus.report(graded))
    wrong = [f"{c.name} ({c.notebook}): {c.verdict}; lost {sorted(c.lost)}"
             for c in graded if c.kind != "family" and not c.right]
    assert not wrong, "corpus verdicts wrong:\n" + "\n".join(wrong)


@pytest.mark.slow
def test_no_free_points(graded):
    """No answer family earns a point beyond what it declares, in any test cell of its functions."""
    family_cases = [c for c in graded if c.kind == "family"]
    assert all(c.cells for c in family_cases), [c.student for c in family_cases if not c.cells]
    # each family submission was graded on every test cell of the answer functions it covers
    assert all(any(c.targets(g) for g in c.cells) for c in family_cases)
    free = [f"{c.notebook}, {c.name}: " + ", ".join(f"{g} earned {s:g}" for g, s in sorted(c.free.items()))
            for c in family_cases if c.free]
    assert not free, "free points:\n" + "\n".join(free) + "\n" + corpus.family_table(family_cases)


# ------------------------------------------------------------------ fast checks of the declarations

def _test_cells():
    cells = {}
    for name in NOTEBOOKS:
        for cell in notebooks.read(SOURCE / f"{name}.ipynb").cells:
            meta = notebooks.nbgrader_meta(cell)
            if meta.get("grade") and cell.cell_type == "code":
                cells[meta["grade_id"]] = cell.source
    return cells


def test_shape_and_type_cells_check_nothing_else():
    """A cell a family may earn for the right shape checks shapes and types only, no values."""
    cells = _test_cells()
    for grade_id in SHAPE_CELLS:
        assert grade_id in cells, f"{grade_id} in corpus/families.toml is not a test cell"
        called = {node.func.id for node in ast.walk(ast.parse(cells[grade_id]))
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not called & {"check_close", "check_equal"}, (grade_id, called)


def test_families_declare_what_the_tool_needs():
    groups = {table["group"] for table in FAMILIES.values()}
    assert groups == {"computes nothing", "broken"}
    for name in ("zeros", "ones", "constant", "uniform", "identity", "random", "inputs", "none", "nan",
                 "no_return", "returns_nan", "wrong_length", "raises_some"):
        assert name in FAMILIES and isinstance(FAMILIES[name]["right_shape"], bool), name


def _family_namespace(family):
    """Run one family's generated file for problem 4 in-process (as its answer cells would)."""
    source_nb = notebooks.read(SOURCE / "problem4_regression.ipynb")
    namespace = {"np": np}
    exec(compile(corpus.family_code(source_nb, family), f"family {family}", "exec"), namespace)
    return namespace


def test_family_answers_do_what_they_declare():
    """The generated answers compute nothing (or break) as declared, with the reference's shapes."""
    X, Y, Q = np.arange(6.0).reshape(3, 2), np.array([1.0, -2.0, 0.5]), np.array([[1.0, 1.0], [3.0, 2.0]])
    expected = {"zeros": np.zeros(2), "ones": np.ones(2), "constant": np.full(2, 2.5),
                "uniform": np.full(2, 0.5), "identity": np.arange(2.0)}
    for family, want in expected.items():
        got = _family_namespace(family)["kernel_regression"](X, Y, Q, 1.0)
        assert np.array_equal(got, want), (family, got)
    matrix = _family_namespace("random")["kernel_smoother_matrix"](X, Q, 1.0)
    assert matrix.shape == (2, 3) and np.allclose(matrix.sum(axis=1), 1.0)
    assert _family_namespace("inputs")["ols_smoother_matrix"](X, X[:2]) is not None
    assert np.all(np.isnan(_family_namespace("nan")["kernel_regression"](X, Y, Q, 1.0)))
    for family in ("none", "no_return"):
        assert _family_namespace(family)["kernel_regression"](X, Y, Q, 1.0) is None
    assert np.isnan(_family_namespace("returns_nan")["kernel_regression"](X, Y, Q, 1.0))
    assert np.shape(_family_namespace("wrong_length")["kernel_regression"](X, Y, Q, 1.0)) == (1,)
    raising = _family_namespace("raises_some")["kernel_regression"]
    assert np.shape(raising(X, Y, Q, 1.0)) == (2,)          # 6 + 3 + 4 + 1 entries: even
    with pytest.raises(ValueError):
        raising(X[:2], Y[:2], Q, 1.0)                       # 4 + 2 + 4 + 1: odd
