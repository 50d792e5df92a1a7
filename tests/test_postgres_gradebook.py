"""The course's own tools on a PostgreSQL gradebook: grading report and feedback pages.

The README recommends PostgreSQL for a class graded on a cluster; every course tool reads the
gradebook URL from nbgrader's configuration (course.settings), so a course folder whose
nbgrader_config.py names a PostgreSQL server gets its report and feedback from that server.
"""
import re
import subprocess
import sys

import pytest

from course import gradebook, pipeline
from course.authoring import submissions

pytestmark = pytest.mark.slow  # a PostgreSQL server and nbgrader autograde

NOTEBOOK, OTHER = "problem1_kmeans", "problem3_density"


@pytest.fixture(scope="module")
def pg_course(tmp_path_factory, postgres_server):
    url = postgres_server.database("report_and_feedback")
    root = tmp_path_factory.mktemp("pg_course")
    settings = pipeline.scratch_course(root, names=[NOTEBOOK, OTHER], config_lines=[f"c.CourseDirectory.db_url = {url!r}"])
    assert settings.db_url == url
    pipeline.generate(root)
    pipeline.submit(root, "ref", pipeline.build_student(root, None, submissions.REFERENCE))
    pipeline.submit(root, "blank", pipeline.build_student(root, None, submissions.BLANK))
    other_only = pipeline.build_student(root, None, submissions.REFERENCE)
    pipeline.submit(root, "missing", {OTHER: other_only[OTHER]})  # NOTEBOOK left out
    pipeline.autograde(root)
    pipeline.feedback(root)
    return root, settings


def test_grading_went_to_the_postgresql_server(pg_course):
    root, settings = pg_course
    assert not (root / "gradebook.db").exists(), "a SQLite gradebook was made next to the configured server"
    scores = gradebook.scores(settings)
    assert set(scores) == {"ref", "blank", "missing"}
    got, top = gradebook.auto_total(scores["ref"][NOTEBOOK])
    assert top > 0 and got == top
    assert gradebook.auto_total(scores["blank"][NOTEBOOK])[0] == 0


def test_grading_report_reads_the_postgresql_gradebook(pg_course):
    root, settings = pg_course
    out = root / "report.html"
    proc = subprocess.run([sys.executable, "-m", "course.reports", "--root", str(root), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert re.search(r"id='n-submissions'>3<", page), "the report does not count the server's 3 submissions"
    assert "postgresql+psycopg2://postgres@127.0.0.1" in page, "the report does not name the gradebook it read"
    assert "missing" in page and f"{NOTEBOOK}.ipynb was not in the submission" in page


def test_feedback_totals_and_ungraded_pages_come_from_the_postgresql_gradebook(pg_course):
    root, settings = pg_course
    top = gradebook.notebook_max_scores(settings)[NOTEBOOK]
    with gradebook.opened(settings) as gb:
        sub = gb.find_submission(settings.assignment, "ref")
        got, most = sub.score, sub.max_score
    assert 0 < got <= most and top < most  # two notebooks: the homework total is more than one notebook's
    ref = (settings.feedback("ref") / f"{NOTEBOOK}.html").read_text()
    assert f"Homework {settings.assignment} total: {got:g} / {most:g}" in ref, \
        "the reference's feedback page has no homework total from the gradebook"
    missing = (settings.feedback("missing") / f"{NOTEBOOK}.html").read_text()
    assert "could not be graded" in missing and f"Score: 0 / {top:g}" in missing
