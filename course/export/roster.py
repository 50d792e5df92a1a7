"""Reading a roster: who each nbgrader student is in the LMS.

The roster is a CSV with a header row.  Canvas's own gradebook export (Grades > Export) is one:
its columns ``Student, ID, SIS User ID, SIS Login ID, Section`` name each student, and it has a
"Points Possible" row (and, in some Canvas versions, a "Manual Posting" row) under the header,
which are not students and are skipped.  A smaller hand-made file with the same column names works
too.  One column holds the id nbgrader knows the student by (which one is the course's choice:
``CanvasExport.student_id_column``).

May import: nothing of the course.
"""
import csv
from dataclasses import dataclass
from pathlib import Path

IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
REQUIRED = ("Student", "ID")
NOT_STUDENTS = ("Points Possible", "Manual Posting", "Muted")


class RosterError(ValueError):
    """A roster that cannot be used, with the reason in words."""


@dataclass(frozen=True)
class Roster:
    """The roster's header and one dict per student, keyed by the nbgrader id."""

    path: Path
    header: list
    students: dict           # nbgrader id -> {column: value}


def read(path, id_column):
    """The roster at ``path``; ``id_column`` is the column that holds nbgrader's student ids."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"no roster file {path}: export the Canvas gradebook (Grades > Export) "
                          "or write a CSV with the columns " + ", ".join(IDENTITY))
    with open(path, newline="", encoding="utf-8-sig") as fh:   # Canvas and Excel write a BOM
        reader = csv.DictReader(fh)
        header = [name.strip() for name in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [name for name in dict.fromkeys(REQUIRED + (id_column,)) if name not in header]
        if missing:
            raise RosterError(f"the roster {path} has no column {', '.join(repr(m) for m in missing)} "
                              f"(its columns: {', '.join(header) or 'none'})")
        students, duplicates = {}, []
        for line, row in enumerate(reader, start=2):
            name = (row.get("Student") or "").strip()
            if name in NOT_STUDENTS:
                continue
            key = (row.get(id_column) or "").strip()
            if not key:
                raise RosterError(f"the roster {path}, line {line} ({name or 'no name'}): no {id_column}")
            if key in students:
                duplicates.append(key)
            students[key] = {column: (row.get(column) or "").strip() for column in header}
    if duplicates:
        raise RosterError(f"the roster {path} lists {id_column} {', '.join(sorted(set(duplicates)))} more than once")
    return Roster(path, header, students)


def assignment_column(roster, assignment):
    """The roster's column for ``assignment`` (Canvas names it "NAME (ID)"), or None if it has none."""
    matches = [c for c in roster.header if c == assignment or (c.startswith(f"{assignment} (") and c.endswith(")"))]
    return matches[0] if len(matches) == 1 else None
