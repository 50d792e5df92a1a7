"""One source of settings: what every course tool needs to know, read from nbgrader's configuration.

The gradebook URL, the course id, the log file and the exchange root are nbgrader's own settings
(``CourseDirectory.db_url``, ``CourseDirectory.course_id``, ``NbGrader.logfile``,
``Exchange.root``); the course adds one trait nbgrader has no place for, ``Course.assignment``, the
name of the homework the tools work on.  Every tool - the report, the feedback pages, parallel
grading, the example and corpus runs - asks this module, so a course folder that points
``db_url`` at PostgreSQL, or renames its assignment, is honoured everywhere at once.

Inside a running nbgrader command (a preprocessor or a hook) the command's own configuration is
used, including what was given on its command line (``--CourseDirectory.db_url=...``); elsewhere
the course folder's ``nbgrader_config.py`` is read.

May import: nbgrader and traitlets only (every other package of ``course`` imports this one).
"""
import os
from dataclasses import dataclass
from pathlib import Path

from traitlets import Unicode
from traitlets.config import Application, Configurable
from traitlets.config.loader import Config, PyFileConfigLoader

CONFIG_FILE = "nbgrader_config.py"


class Course(Configurable):
    """The course's own settings, set in nbgrader_config.py like nbgrader's (``c.Course.assignment``)."""

    assignment = Unicode("hw4", help="The assignment the course tools grade, report on and hand out.").tag(config=True)


@dataclass(frozen=True)
class Settings:
    """A course folder's settings, resolved: every path absolute."""

    root: Path
    db_url: str
    course_id: str
    assignment: str
    logfile: Path | None
    exchange_root: str

    @property
    def source(self):
        return self.root / "source" / self.assignment

    @property
    def release(self):
        return self.root / "release" / self.assignment

    def submitted(self, student):
        return self.root / "submitted" / student / self.assignment

    def autograded(self, student):
        return self.root / "autograded" / student / self.assignment

    def feedback(self, student):
        return self.root / "feedback" / student / self.assignment


def read_config(root):
    """The traitlets Config of ``root/nbgrader_config.py`` (an empty one if there is none)."""
    path = Path(root) / CONFIG_FILE
    if not path.exists():
        return Config()
    return PyFileConfigLoader(CONFIG_FILE, path=str(Path(root).resolve())).load_config()


def from_config(config, root=None):
    """Settings from a traitlets Config; ``root`` is used when the config names none."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default.exchange import Exchange

    config = Config(config)
    if root is not None and "root" not in config.CourseDirectory:
        config.CourseDirectory.root = str(Path(root).resolve())
    coursedir = CourseDirectory(config=config)
    course_root = Path(coursedir.root).resolve()
    logfile = config.NbGrader.get("logfile") or None
    return Settings(
        root=course_root,
        db_url=coursedir.db_url,
        course_id=coursedir.course_id,
        assignment=Course(config=config).assignment,
        logfile=(course_root / logfile) if logfile else None,  # a relative path is the course folder's
        exchange_root=config.Exchange.get("root") or Exchange.class_traits()["root"].default_value,
    )


def load(root=None):
    """The settings of the course folder ``root`` (default: the current directory), from its config file."""
    root = Path(root or os.getcwd()).resolve()
    return from_config(read_config(root), root)


def current(root=None):
    """The settings of the running nbgrader command if there is one (command-line overrides
    included), else those of the course folder ``root`` (default: the current directory)."""
    if Application.initialized():
        app = Application.instance()
        return from_config(app.config, root or os.getcwd())
    return load(root)
