"""Shared fixtures: a scratch copy of the course, released and graded once per test session."""
import shutil

import pytest

from course import ROOT, grading, pipeline


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """A scratch course: source/ and config copied, release generated, examples autograded.

    Yields (folder, scores, students); scores as returned by course.pipeline.scores.
    """
    scratch = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "source", scratch / "source")
    shutil.copy(ROOT / "nbgrader_config.py", scratch)
    pipeline.generate(scratch)
    students = grading.submit_examples(scratch, ROOT / "examples")
    pipeline.autograde(scratch)
    pipeline.feedback(scratch)
    return scratch, pipeline.scores(scratch), students
