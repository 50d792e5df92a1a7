"""nbgrader's metadata check with a memo of what passed (course.protection.check_cell_metadata).

The memo may only skip work: every notebook nbgrader's own CheckCellMetadata refuses is refused the
same way, however often valid metadata like it was seen before.
"""
import copy
import logging

import jsonschema
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.preprocessors import CheckCellMetadata as NbgraderCheck

from course.protection import check_cell_metadata
from course.protection.check_cell_metadata import CheckCellMetadata


def _meta(grade_id, **kw):
    meta = {"grade": False, "solution": False, "locked": False, "grade_id": grade_id, "schema_version": 3}
    meta.update(kw)
    return {"nbgrader": meta}


def _notebook(*cells):
    return new_notebook(cells=list(cells))


def _test_cell(grade_id="test_kmeans_shape", points=2):
    return new_code_cell("check_true(True)", metadata=_meta(grade_id, grade=True, locked=True, points=points))


def _answer_cell(grade_id="answer_kmeans"):
    return new_code_cell("def kmeans(X, k):\n    pass", metadata=_meta(grade_id, solution=True))


@pytest.fixture(autouse=True)
def empty_memo(monkeypatch):
    monkeypatch.setattr(check_cell_metadata, "_PASSED", set())


@pytest.fixture
def schema_checks(monkeypatch):
    """How many times the JSON schema is applied to a cell's metadata."""
    calls = []
    real = jsonschema.validate
    monkeypatch.setattr(jsonschema, "validate", lambda *a, **kw: (calls.append(a[0]), real(*a, **kw))[1])
    return calls


def _both(nb):
    """(course's outcome, nbgrader's outcome): None, or the error raised."""
    outcomes = []
    for check in (CheckCellMetadata(), NbgraderCheck()):
        try:
            check.preprocess(copy.deepcopy(nb), {})
            outcomes.append(None)
        except Exception as error:   # nbgrader's ValidationError, or its schema-version errors
            outcomes.append(f"{type(error).__name__}: {error}")
    return outcomes


def test_valid_metadata_is_checked_against_the_schema_once(schema_checks):
    nb = _notebook(_answer_cell(), _test_cell(), new_markdown_cell("text"))
    CheckCellMetadata().preprocess(nb, {})
    assert len(schema_checks) == 2
    CheckCellMetadata().preprocess(copy.deepcopy(nb), {})
    assert len(schema_checks) == 2, "the second notebook's metadata was checked again"


@pytest.mark.parametrize("broken", [
    {"points": "ten"},               # not a number
    {"schema_version": 1},           # too old
    {"schema_version": 4},           # too new
    {"grade_id": ""},                # empty id
    {"unknown_key": 1},              # not in the schema
])
def test_metadata_that_nbgrader_refuses_is_refused_even_after_valid_metadata_like_it(broken):
    good = _test_cell()
    assert _both(_notebook(good)) == [None, None]
    bad = _test_cell()
    bad.metadata.nbgrader.update(broken)
    course, stock = _both(_notebook(bad))
    assert course is not None, f"the course's check let {broken} through"
    assert course == stock
    assert _both(_notebook(bad))[0] is not None, "refused once, then let through from the memo"


def test_a_grade_cell_without_points_is_refused_after_the_same_cell_with_points_passed():
    assert _both(_notebook(_test_cell())) == [None, None]
    bad = _test_cell()
    del bad.metadata.nbgrader["points"]
    course, stock = _both(_notebook(bad))
    assert course is not None and course == stock


def test_a_grade_id_used_twice_is_refused_though_each_cell_alone_passed():
    first, second = _test_cell("test_same"), _test_cell("test_same")
    assert _both(_notebook(first)) == [None, None]
    course, stock = _both(_notebook(first, second))
    assert course is not None and course == stock


def test_a_changed_cell_type_is_warned_about_every_time(caplog):
    cell = new_markdown_cell("was code", metadata=_meta("answer_written", solution=True, grade=True, points=1,
                                                        cell_type="code"))
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            CheckCellMetadata().preprocess(_notebook(cell), {})
    warnings = [r for r in caplog.records if "Cell type has changed" in r.getMessage()]
    assert len(warnings) == 2


def test_the_memo_stops_growing_at_its_size(monkeypatch):
    monkeypatch.setattr(check_cell_metadata, "MEMO_SIZE", 3)
    nb = _notebook(*(_test_cell(f"test_{i}") for i in range(5)))
    CheckCellMetadata().preprocess(nb, {})
    assert len(check_cell_metadata._PASSED) == 3


def test_the_source_notebooks_pass_both_checks():
    from course import ROOT
    for path in sorted((ROOT / "source" / "hw4").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert _both(nb) == [None, None], path.name
