"""Shared fixtures: a scratch copy of the course, released and graded once per test session; a
PostgreSQL server for the tests that grade into a real database server."""
import os

import pytest

from course import gradebook, pipeline
from course.authoring import examples

from support.course import ROOT
from support.postgres import PostgresServer, postgres_bindir


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


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on 127.0.0.1 for the session (``.database(name)`` gives a new database's URL).
    Missing PostgreSQL fails the test under CI (./run installs it) and skips it elsewhere."""
    bindir = postgres_bindir()
    if bindir is None:
        message = "PostgreSQL is not installed (Debian package `postgresql`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": the CI set-up (./run) must install it")
        pytest.skip(message)
    server = PostgresServer(bindir).start()
    try:
        yield server
    finally:
        server.stop()
