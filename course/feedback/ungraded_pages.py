"""Feedback pages for notebooks that could not be graded, where nbgrader would have put one.

nbgrader writes no feedback for a notebook that has no autograded copy, so a student whose file
was missing, broken, or whose kernel killed the grading run would get nothing.  The post-convert
hook ``ungraded_pages_hook`` (``c.GenerateFeedback.post_convert_hook``) writes, for each such
notebook, a page that says so and why (course.feedback.diagnosis).

``python -m course.feedback [--root DIR] [--student ID]`` writes those pages on its own and lists
every notebook that could not be graded, with the reason.

May import: course.settings, course.gradebook, course.feedback.diagnosis.
"""
import argparse
import html
import os

from .. import gradebook, settings as course_settings
from .diagnosis import ungraded


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;font-size:15px;line-height:1.5}}
.box{{border:2px solid #d2413a;border-radius:6px;padding:1em 1.5em;background:#fdf3f2}}</style></head>
<body><div class="box"><h2>{title} (Score: 0 / {max_score:g})</h2>
<p><b>This notebook could not be graded.</b></p><p>Why: {reason}</p>
<p>Every autograded part of it scores zero until it is graded. Ask the instructor if you
think this is wrong.</p></div></body></html>
"""


def write_ungraded_pages(settings, student=None):
    """Write feedback/<student>/<assignment>/<notebook>.html for each notebook that could not be graded."""
    found = ungraded(settings, student)
    max_scores = gradebook.notebook_max_scores(settings)
    for (sid, name), reason in found.items():
        folder = settings.feedback(sid)
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{name}.html"
        if page.exists():
            page.chmod(0o644)
        page.write_text(_PAGE.format(title=html.escape(name), reason=html.escape(reason),
                                     max_score=max_scores.get(name, 0)))
    return found


def ungraded_pages_hook(assignment=None, student=None, notebooks=None):
    """GenerateFeedback.post_convert_hook: runs in the course root after each student's feedback."""
    settings = course_settings.current(os.getcwd())
    if assignment and assignment != "*" and assignment != settings.assignment:
        return  # another assignment of the same course folder: not ours to diagnose
    write_ungraded_pages(settings, student if student and student != "*" else None)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.feedback", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    parser.add_argument("--student", default=None, help="student id or pattern (default: all)")
    args = parser.parse_args(argv)
    found = write_ungraded_pages(course_settings.load(args.root), args.student)
    for (sid, name), reason in sorted(found.items()):
        print(f"{sid:<30} {name:<24} {reason}")
    print(f"{len(found)} notebook(s) could not be graded; feedback pages written for them.")
    return 0
