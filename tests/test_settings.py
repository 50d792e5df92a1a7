"""One source of settings (course.settings): every tool reads nbgrader's configuration of the course.

So a course folder whose nbgrader_config.py points the gradebook at PostgreSQL, renames the
assignment or moves the log is honoured by the report, the feedback pages, parallel grading and
the example runs alike, and an nbgrader command's own overrides reach the course's hooks.
"""
from pathlib import Path

import pytest
from traitlets.config import Application, Config

from course import ROOT, settings


def _course(folder, *lines):
    (folder / "nbgrader_config.py").write_text("c = get_config()\n" + "\n".join(lines) + "\n")
    return folder


def test_the_repositorys_settings_come_from_its_config():
    s = settings.load(ROOT)
    assert s.root == ROOT and s.assignment == "hw4" and s.course_id == "ml-hw4"
    assert s.db_url == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert s.logfile == ROOT / "nbgrader.log" and s.exchange_root == "/srv/nbgrader/exchange"
    assert s.source == ROOT / "source" / "hw4" and s.autograded("ann") == ROOT / "autograded" / "ann" / "hw4"


def test_a_course_folder_without_settings_gets_nbgraders_defaults(tmp_path):
    s = settings.load(_course(tmp_path))
    assert s.root == tmp_path.resolve() and s.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert s.course_id == "" and s.assignment == "hw4" and s.logfile is None  # nbgrader's own defaults


def test_every_setting_follows_the_config(tmp_path):
    s = settings.load(_course(
        tmp_path,
        "c.CourseDirectory.db_url = 'postgresql+psycopg2://grader:secret@db.example/grades'",
        "c.CourseDirectory.course_id = 'ml-2027'",
        "c.Course.assignment = 'hw5'",
        "c.NbGrader.logfile = '/var/log/nbgrader.log'",
        "c.Exchange.root = '/srv/exchange'"))
    assert s.db_url.startswith("postgresql+psycopg2://") and s.course_id == "ml-2027"
    assert s.assignment == "hw5" and s.source == tmp_path.resolve() / "source" / "hw5"
    assert s.logfile == Path("/var/log/nbgrader.log") and s.exchange_root == "/srv/exchange"


def test_a_running_command_overrides_the_config_file(tmp_path):
    _course(tmp_path, "c.Course.assignment = 'hw4'")
    app = Application.instance(config=Config({"CourseDirectory": {"db_url": "sqlite:////elsewhere.db"},
                                              "Course": {"assignment": "hw9"}}))
    try:
        s = settings.current(tmp_path)
        assert s.db_url == "sqlite:////elsewhere.db" and s.assignment == "hw9"
    finally:
        Application.clear_instance()
        assert app is not None
    assert settings.current(tmp_path).assignment == "hw4"


def test_a_broken_config_is_an_error_not_a_silent_default(tmp_path):
    _course(tmp_path, "c.Course.assignment = ")
    with pytest.raises(SyntaxError):
        settings.load(tmp_path)
