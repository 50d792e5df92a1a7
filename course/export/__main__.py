"""``python -m course.export --lms canvas [ASSIGNMENT]``: the assignment's grades as the LMS imports them.

Writes ASSIGNMENT_canvas.csv beside nbgrader's own CSV (``grades.csv`` of ``nbgrader export``, or
wherever ``CsvExportPlugin.to`` puts it) from the gradebook and the roster (``CanvasExport.roster``
or ``--roster``).  ASSIGNMENT (default: the course's) must be the course's or one in the gradebook.
"""
import argparse
import sys
from pathlib import Path

from traitlets.config import Config

from .. import gradebook, settings as course_settings
from . import canvas, roster as rosters
from .totals import assignment_totals

LMS = ("canvas",)


def nbgrader_csv(config, root):
    """Where ``nbgrader export`` (run in the course folder) writes its CSV."""
    to = config.CsvExportPlugin.get("to") or config.ExportPlugin.get("to") or "grades.csv"
    return Path(root) / to


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.export", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default=None, help="the assignment (default: the course's)")
    parser.add_argument("--lms", choices=LMS, required=True, help="the LMS whose import format is written")
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    parser.add_argument("--roster", default=None, help="the roster CSV (default: CanvasExport.roster)")
    parser.add_argument("--id-column", default=None,
                        help="the roster column holding nbgrader's student ids (default: CanvasExport.student_id_column)")
    parser.add_argument("--allow-missing", action="store_true", default=None,
                        help="empty cells for roster students the gradebook does not know, instead of an error")
    parser.add_argument("--out", default=None, help="output file (default: ASSIGNMENT_canvas.csv beside grades.csv)")
    args = parser.parse_args(argv)

    settings = gradebook.for_assignment(course_settings.load(args.root), args.assignment)
    config = Config(course_settings.read_config(settings.root))
    options = canvas.CanvasExport(config=config)
    for trait, value in (("roster", args.roster), ("student_id_column", args.id_column),
                         ("allow_missing", args.allow_missing)):
        if value is not None:
            setattr(options, trait, value)
    try:
        roster = rosters.read(settings.root / options.roster, options.student_id_column)
        max_score, scores = assignment_totals(settings)
        rows = canvas.table(roster, max_score, scores, settings.assignment, options)
    except (rosters.RosterError, canvas.MissingStudents, LookupError) as error:
        raise SystemExit(f"error: {error}")
    out = Path(args.out) if args.out else nbgrader_csv(config, settings.root).with_name(f"{settings.assignment}_canvas.csv")
    out.write_text(canvas.to_csv(rows), encoding="utf-8")
    print(f"{len(rows) - 2} students, {settings.assignment} out of {canvas.number(max_score)}, "
          f"column {rows[0][-1]!r}: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
