"""nbgrader's exchange for this course: what students' servers need, and a check of its permissions.

Command line (``python -m course.exchange COMMAND``, in the course folder):

student-config   print the nbgrader_config.py that students' servers need (exchange root, course id),
                 read from the course's nbgrader_config.py: the hub admin puts it in /etc/jupyter/
check [ROOT]     check that the course's folders in the exchange have the permissions nbgrader sets
                 (students can drop submissions but not list them, read the release, not change it)

The exchange itself is nbgrader's; this module only reads settings and file modes.  The whole
round trip with real Unix users is rehearsed by the test suite (tests/support/exchange_rehearsal.py).

May import: course.settings.
"""
import argparse
import stat
from pathlib import Path

from .. import settings as course_settings


# The modes nbgrader gives the exchange (nbgrader/exchange/default/release_assignment.py, ...):
EXPECTED_MODES = {
    ".": 0o777,           # the exchange root: everyone may create their course's folder
    "{course}": 0o755,
    "{course}/outbound": 0o755,
    "{course}/outbound/{assignment}": 0o755,
    "{course}/inbound": 0o2733,  # write and enter, never list: a student cannot find others' work
    "{course}/feedback": 0o711,  # enter, never list: feedback files are named by a secret hash
}


def student_config(exchange_root, course_id):
    """The nbgrader_config.py a student's server needs: where the exchange is, which course."""
    return (
        "# nbgrader settings for students of the course (put in /etc/jupyter/nbgrader_config.py)\n"
        "c = get_config()  # noqa: F821\n"
        f"c.Exchange.root = {str(exchange_root)!r}\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
    )


def check_exchange(exchange_root, course_id, assignment):
    """Problems with the exchange's permissions: list of strings, empty when all is as nbgrader sets."""
    problems = []
    for rel, want in EXPECTED_MODES.items():
        path = Path(exchange_root) / rel.format(course=course_id, assignment=assignment)
        if not path.exists():
            if rel.endswith("feedback"):
                continue  # made by the first `nbgrader release_feedback`
            problems.append(f"{path}: missing (run nbgrader release_assignment {assignment})")
            continue
        got = stat.S_IMODE(path.stat().st_mode)
        if got != want:
            problems.append(f"{path}: mode {got:o}, nbgrader sets {want:o}")
    released = Path(exchange_root) / course_id / "outbound" / assignment
    for f in released.rglob("*") if released.is_dir() else []:
        if f.is_file() and stat.S_IMODE(f.stat().st_mode) & 0o022:
            problems.append(f"{f}: writable by others than its owner")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.exchange", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("student-config", help="print the students' nbgrader_config.py")
    check = sub.add_parser("check", help="check the exchange's permissions")
    check.add_argument("exchange", nargs="?", help="exchange root (default: the config's)")
    args = parser.parse_args(argv)
    settings = course_settings.load(args.root)
    if args.command == "student-config":
        print(student_config(settings.exchange_root, settings.course_id), end="")
        return 0
    problems = check_exchange(args.exchange or settings.exchange_root, settings.course_id, settings.assignment)
    for p in problems:
        print(p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0
