"""The private gradebooks of parallel grading (course/parallel/gradebook_sync.py), without grading.

A gradebook made with nbgrader's own API holds one assignment; its template must hold the same
definition and schema stamp, be usable by nbgrader as it is, and be made without a subprocess.
"""
import subprocess

import pytest
from sqlalchemy import create_engine, text

from course.parallel import gradebook_sync

COURSE = "ml-hw4"
# nbgrader's own add_submission warns about its session; not this module's concern
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def main_gradebook(tmp_path_factory):
    """A main gradebook (nbgrader's Gradebook) with hw4: one notebook, one grade cell, one student's submission."""
    from nbgrader.api import Gradebook
    url = f"sqlite:///{tmp_path_factory.mktemp('gradebook') / 'gradebook.db'}"
    with Gradebook(url, COURSE) as gb:
        gb.add_assignment("hw4")
        gb.add_notebook("problem1", "hw4")
        gb.add_grade_cell("centroids_shape", "problem1", "hw4", max_score=2, cell_type="code")
        gb.add_source_cell("centroids_shape", "problem1", "hw4", cell_type="code", source="check()")
        gb.add_assignment("hw5")
        gb.add_student("someone")
        gb.add_submission("hw4", "someone")
    return url


def _scalar(url, sql):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_the_template_holds_the_assignment_and_the_main_gradebooks_schema_stamp(main_gradebook, tmp_path):
    path = gradebook_sync.make_template(main_gradebook, COURSE, tmp_path / "template.db", "hw4")
    url = f"sqlite:///{path}"
    stamp = _scalar(main_gradebook, "SELECT version_num FROM alembic_version")
    assert stamp and _scalar(url, "SELECT version_num FROM alembic_version") == stamp
    assert _scalar(url, "SELECT count(*) FROM alembic_version") == 1
    assert _scalar(url, "SELECT group_concat(name) FROM assignment") == "hw4"   # not hw5
    assert _scalar(url, "SELECT count(*) FROM grade_cells") == 1
    assert _scalar(url, "SELECT count(*) FROM submitted_assignment") == 0      # no student's rows
    assert _scalar(url, "SELECT id FROM course") == COURSE

    from nbgrader.api import Gradebook
    with Gradebook(url, COURSE) as gb:   # nbgrader takes it as its own
        assert gb.find_assignment("hw4").max_score == 2
        gb.add_student("other")
        gb.add_submission("hw4", "other")
        assert gb.find_submission("hw4", "other").max_score == 2


def test_the_template_is_made_without_starting_a_process(main_gradebook, tmp_path, monkeypatch):
    """nbgrader stamps a new gradebook by running `alembic heads` (2.7 s of CPU here): not for a template."""
    started = []

    def refuse(self, args, *rest, **kwargs):
        started.append(args)
        raise AssertionError(f"a process was started: {args}")
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    gradebook_sync.make_template(main_gradebook, COURSE, tmp_path / "template.db", "hw4")
    assert started == []


def test_a_missing_assignment_is_a_clear_error(main_gradebook, tmp_path):
    with pytest.raises(SystemExit, match="hw9.*generate_assignment"):
        gradebook_sync.make_template(main_gradebook, COURSE, tmp_path / "template.db", "hw9")
