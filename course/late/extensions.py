"""The instructor's extensions file: who gets more time, read strictly.

``extensions.csv`` (``Extensions.path``, relative to the course folder) is a spreadsheet the
instructor edits by hand, one row per student::

    student_id,new_due_date,extra_days
    ada,2027-03-15 23:59:00 UTC,
    alan,,2.5

A row gives either a new due date (``2027-03-15 23:59:00 UTC``, ``2027-03-15 18:59 -0500``,
``2027-03-15T23:59+01:00`` or a zone name like ``Europe/Berlin``; without a zone it is UTC) or a number of extra days, not both.  Extra columns (a note on why) are ignored.  A
mistake - an unknown column layout, a student listed twice, a date that does not parse, a new
due date before the assignment's, negative days - is a clear error naming the line: a typo must
not silently cost a student their extension.  A missing file means no extensions.
"""
import csv
import re
import datetime
from dataclasses import dataclass
from pathlib import Path

import dateutil.parser
import dateutil.tz
from traitlets import Unicode
from traitlets.config import Configurable

COLUMNS = ("student_id", "new_due_date", "extra_days")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}(?:$|[ T])")


class ExtensionsError(ValueError):
    """The extensions file cannot be read as the instructor meant it."""


class Extensions(Configurable):
    """Where the course keeps its per-student extensions."""

    path = Unicode(
        "extensions.csv",
        help="The per-student extensions file (student_id,new_due_date,extra_days), relative to the "
             "course folder (CourseDirectory.root) unless absolute.",
    ).tag(config=True)

    def file(self, root):
        path = Path(self.path)
        return path if path.is_absolute() else Path(root) / path


@dataclass(frozen=True)
class Extension:
    """One student's extension: a new due date, or extra days (exactly one of them)."""
    student_id: str
    new_due_date: datetime.datetime | None = None   # naive UTC, as nbgrader stores dates
    extra_days: float | None = None
    line: int = 0

    def delta(self, duedate):
        """The extension as the timedelta nbgrader stores (``SubmittedAssignment.extension``)."""
        if self.extra_days is not None:
            return datetime.timedelta(days=self.extra_days)
        if duedate is None:
            raise ExtensionsError(f"line {self.line}: {self.student_id} has a new due date, but the "
                                  "assignment has no due date to extend (nbgrader db assignment add)")
        if self.new_due_date < duedate:
            raise ExtensionsError(f"line {self.line}: the new due date of {self.student_id} "
                                  f"({self.new_due_date:%Y-%m-%d %H:%M} UTC) is before the assignment's "
                                  f"({duedate:%Y-%m-%d %H:%M} UTC)")
        return self.new_due_date - duedate

    def due(self, duedate):
        """This student's due date (naive UTC)."""
        return duedate + self.delta(duedate) if duedate is not None else None


def parse_date(text):
    """A date as naive UTC (how nbgrader stores dates).

    Not nbgrader's ``parse_utc``: it reads a numeric offset such as ``-0500`` as seconds.
    """
    text = text.strip()
    if not _DATE.match(text):  # dateutil would read "3" as the 3rd of this month
        raise ValueError("a date starts with year-month-day")
    head, _, last = text.rpartition(" ")
    if "/" in last:  # a zone name such as Europe/Berlin, which dateutil's parser does not read
        zone = dateutil.tz.gettz(last)
        if zone is None:
            raise ValueError(f"unknown time zone {last!r}")
        return parse_date(head).replace(tzinfo=None) - zone.utcoffset(dateutil.parser.parse(head))

    def zone(name, offset):
        if name is None:   # a numeric offset (or none at all)
            return dateutil.tz.tzoffset(None, offset) if offset is not None else None
        found = dateutil.tz.gettz(name)
        if found is None:
            raise ValueError(f"unknown time zone {name!r}")
        return found
    moment = dateutil.parser.parse(text, tzinfos=zone)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment


def parse(text, source="extensions.csv"):
    """student_id -> Extension, from the text of an extensions file."""
    rows = list(csv.reader(text.splitlines()))
    rows = [(i, r) for i, r in enumerate(rows, 1) if any(cell.strip() for cell in r)]
    if not rows:
        return {}
    first, header = rows[0]
    header = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ExtensionsError(f"{source}, line {first}: the header must name the columns "
                              f"{', '.join(COLUMNS)} (missing: {', '.join(missing)})")
    col = {c: header.index(c) for c in COLUMNS}
    out = {}
    for line, row in rows[1:]:
        cell = {c: (row[i].strip() if i < len(row) else "") for c, i in col.items()}
        sid = cell["student_id"]
        where = f"{source}, line {line}"
        if not sid:
            raise ExtensionsError(f"{where}: no student_id")
        if sid in out:
            raise ExtensionsError(f"{where}: {sid} is listed twice (also line {out[sid].line})")
        if bool(cell["new_due_date"]) == bool(cell["extra_days"]):
            raise ExtensionsError(f"{where}: give {sid} either a new_due_date or extra_days (exactly one)")
        if cell["new_due_date"]:
            try:
                due = parse_date(cell["new_due_date"])
            except (ValueError, OverflowError) as exc:
                raise ExtensionsError(f"{where}: new_due_date {cell['new_due_date']!r} is not a date "
                                      f"({exc}); write it like 2027-03-15 23:59:00 UTC") from None
            out[sid] = Extension(sid, new_due_date=due, line=line)
        else:
            try:
                days = float(cell["extra_days"])
            except ValueError:
                raise ExtensionsError(f"{where}: extra_days {cell['extra_days']!r} is not a number") from None
            if not days >= 0 or days == float("inf"):
                raise ExtensionsError(f"{where}: extra_days must be zero or more, not {cell['extra_days']}")
            out[sid] = Extension(sid, extra_days=days, line=line)
    return out


def read(root, config=None):
    """student_id -> Extension from the course folder ``root``'s extensions file ({} if there is none)."""
    path = Extensions(config=config).file(root)
    if not path.exists():
        return {}
    return parse(path.read_text(encoding="utf-8-sig"), str(path))


def extension_for(extensions, student_id, duedate):
    """The timedelta to store for ``student_id`` (None: no extension, or no due date to extend:
    nbgrader cannot add an extension to a missing due date)."""
    ext = extensions.get(student_id)
    return ext.delta(duedate) if ext and duedate is not None else None
