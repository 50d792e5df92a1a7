"""``python -m course.similarity ASSIGNMENT``: rank the pairs of submissions by similarity of answer code.

Prints the most similar pairs, one per line (score, both student ids, the two shares), and writes
ROOT/ASSIGNMENT_similarity.html with each listed pair's matching passages side by side.  ASSIGNMENT
must be the course's (``Course.assignment``) or an assignment in the gradebook.
"""
import argparse
import sys
from pathlib import Path

from traitlets.config import Config

from .. import gradebook, settings as course_settings
from . import answers, page
from .compare import Similarity, compare


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.similarity", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="the assignment whose submissions are compared")
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    parser.add_argument("--from", dest="folder", choices=answers.FOLDERS, default="submitted",
                        help="read the notebooks from submitted/ (default) or autograded/")
    parser.add_argument("--top", type=int, default=None, help="how many pairs to list (default: Similarity.top, 10)")
    parser.add_argument("--out", default=None, help="the page (default: ROOT/ASSIGNMENT_similarity.html)")
    args = parser.parse_args(argv)

    settings = gradebook.for_assignment(course_settings.load(args.root), args.assignment)
    options = Similarity(config=Config(course_settings.read_config(settings.root)))
    top = args.top if args.top is not None else options.top
    if not settings.release.is_dir():
        raise SystemExit(f"error: no release folder {settings.release}: run `nbgrader generate_assignment "
                         f"{settings.assignment}` first (its stubs are left out of the comparison)")
    students = answers.students(settings, args.folder)
    if len(students) < 2:
        raise SystemExit(f"error: {len(students)} submission(s) of {settings.assignment} in "
                         f"{settings.root / args.folder}: nothing to compare")
    documents = {s: answers.document(answers.student_passages(settings, s, args.folder)) for s in students}
    try:
        pairs = compare(documents, answers.release_code(settings), options, top)
    except ValueError as error:
        raise SystemExit(f"error: {error}")
    width = max(len(s) for s in students)
    print(f"{'score':>6}  {'student':<{width}}  {'student':<{width}}  shares")
    for pair in pairs[:top]:
        print(f"{100 * pair.score:5.1f}%  {pair.a:<{width}}  {pair.b:<{width}}  "
              f"{100 * pair.share_a:.0f}% / {100 * pair.share_b:.0f}%")
    out = Path(args.out) if args.out else settings.root / f"{settings.assignment}_similarity.html"
    out.write_text(page.render(pairs, settings.assignment, top), encoding="utf-8")
    print(f"side by side: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
