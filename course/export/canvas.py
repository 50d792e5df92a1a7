"""Canvas's gradebook import CSV (Grades > Import), from the gradebook's totals and a Canvas roster.

The file Canvas takes back is the shape of the one it exports: the header
``Student,ID,SIS User ID,SIS Login ID,Section,<assignment column>``, then a "Points Possible" row
holding the assignment's maximum, then one row per student.  Canvas finds each student by the
identity columns, so they come from the roster as Canvas wrote them, and the assignment column is
named as in the roster ("hw4 (123456)": Canvas's assignment id) when the roster has it; a column
without an id makes Canvas create a new assignment on import.

Every student must be on both sides: a graded student missing from the roster would be left out of
Canvas without a word, and a roster student the gradebook does not know would get no grade; both
are errors that name the students (``allow_missing`` writes an empty cell, which Canvas leaves
unchanged, for roster students the gradebook does not know).

May import: course.export.roster, course.export.totals.
"""
import csv
import io

from traitlets import Bool, Unicode
from traitlets.config import Configurable

from . import roster as rosters

POINTS_POSSIBLE = "    Points Possible"   # as Canvas writes it in its own export


class CanvasExport(Configurable):
    """``python -m course.export --lms canvas`` (set in nbgrader_config.py as c.CanvasExport.*)."""

    roster = Unicode("canvas_roster.csv", help="The Canvas roster, relative to the course folder: Canvas's "
                     "gradebook export (Grades > Export) or a CSV with its columns Student, ID, SIS User ID, "
                     "SIS Login ID, Section.").tag(config=True)
    student_id_column = Unicode("ID", help="The roster column that holds nbgrader's student ids: 'ID' (Canvas's "
                                "user id, what zip_collect reads from Canvas's download names), 'SIS Login ID' "
                                "(hub user names), or a column of your own.").tag(config=True)
    assignment_column = Unicode("", help="The header of the grades column, e.g. 'hw4 (123456)'. Empty: the "
                                "roster's column for the assignment if it has one, else the assignment's name "
                                "(Canvas then creates a new assignment).").tag(config=True)
    allow_missing = Bool(False, help="Write an empty cell (Canvas leaves it unchanged) for roster students the "
                         "gradebook does not know, instead of stopping.").tag(config=True)


class MissingStudents(ValueError):
    """Students on one side only (gradebook or roster); the message names them."""


def number(value):
    """A score as Canvas reads it: no trailing .0, at most two decimals."""
    return f"{round(value, 2):g}"


def table(roster, max_score, scores, assignment, options):
    """The CSV's rows (lists of strings): header, Points Possible, one row per roster student."""
    column = options.assignment_column or rosters.assignment_column(roster, assignment) or assignment
    not_in_roster = sorted(set(scores) - set(roster.students))
    not_in_gradebook = sorted(set(roster.students) - set(scores))
    problems = []
    if not_in_roster:
        problems.append(f"in the gradebook but not in the roster {roster.path} (by {options.student_id_column}): "
                        + ", ".join(not_in_roster))
    if not_in_gradebook and not options.allow_missing:
        problems.append("in the roster but not in the gradebook: " + ", ".join(not_in_gradebook)
                        + " (add them with `nbgrader db student add`, or --allow-missing to leave their cells empty)")
    if problems:
        raise MissingStudents("students on one side only:\n  " + "\n  ".join(problems))
    rows = [list(rosters.IDENTITY) + [column], [POINTS_POSSIBLE, "", "", "", "", number(max_score)]]
    for key, row in sorted(roster.students.items(), key=lambda item: (item[1].get("Student", ""), item[0])):
        rows.append([row.get(name, "") for name in rosters.IDENTITY]
                    + [number(scores[key]) if key in scores else ""])
    return rows


def to_csv(rows):
    """The rows as CSV text (quoted where needed, e.g. "Last, First")."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()
