"""Shared fixtures: a scratch copy of the course, released and graded once per test session."""
import pytest

from course import gradebook, pipeline
from course.authoring import examples

from support.course import ROOT


@pytest.fixture(scope="session")
def graded_course(tmp_path_factory):
    """A scratch course: source/ and config copied, release generated, examples autograded.

    Yields (folder, scores, students); scores as returned by course.gradebook.scores.
    """
    scratch = tmp_path_factory.mktemp("course")
    course = pipeline.scratch_course(scratch)
    pipeline.generate(scratch)
    students = examples.submit_examples(scratch, ROOT / "examples")
    pipeline.autograde(scratch)
    pipeline.feedback(scratch)
    return scratch, gradebook.scores(course), students
