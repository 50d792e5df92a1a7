"""The example submissions and the README's main job (``./run grade``).

``examples/STUDENT/NOTEBOOK.py`` holds one example student's code; with the reference solution and
the untouched release they make the example students that ``./run grade`` releases, autogrades,
gives feedback to and exports, printing the student x notebook table the README shows.

May import: course.settings, course.pipeline, course.gradebook, course.reports, course.authoring.submissions.
"""
import time
from pathlib import Path

from .. import EXAMPLES, ROOT, gradebook, pipeline, settings as course_settings
from ..notebooks import notebook_names
from . import submissions

REFERENCE_STUDENT = "example_reference"
BLANK_STUDENT = "example_blank"


def example_students(examples=EXAMPLES):
    """student id -> {notebook: code} for every folder of examples/."""
    students = {}
    for folder in sorted(p for p in Path(examples).iterdir() if p.is_dir()):
        students[f"example_{folder.name}"] = {f.stem: f.read_text() for f in folder.glob("*.py")}
    return students


def submit_examples(root, examples=EXAMPLES):
    """Write every example submission into root/submitted; return their ids."""
    pipeline.submit(root, REFERENCE_STUDENT, pipeline.build_student(root, None, submissions.REFERENCE))
    pipeline.submit(root, BLANK_STUDENT, pipeline.build_student(root, None, submissions.BLANK))
    ids = [REFERENCE_STUDENT, BLANK_STUDENT]
    for student, code in example_students(examples).items():
        pipeline.submit(root, student, pipeline.build_student(root, code, submissions.BLANK))
        ids.append(student)
    return ids


def table(scores, students, names):
    """The student x notebook table of autograded scores, as text."""
    width = max(len(s) for s in students) + 2
    lines = ["".join([f"{'student':<{width}}"] + [f"{n:>24}" for n in names] + [f"{'total':>12}"])]
    for student in students:
        row, got_all, top_all = [f"{student:<{width}}"], 0, 0
        for name in names:
            got, top = gradebook.auto_total(scores.get(student, {}).get(name, {}))
            got_all, top_all = got_all + got, top_all + top
            row.append(f"{got:>18g} / {top:<3g}")
        row.append(f"{got_all:>6g} / {top_all:<3g}")
        lines.append("".join(row))
    return "\n".join(lines)


def main_job(root=ROOT):
    """Release, grade the examples, write feedback and grades.csv, print the table."""
    from ..reports import grading_report
    start = time.time()
    settings = course_settings.load(root)
    names = notebook_names(settings.source)
    print(f"[1/6] nbgrader generate_assignment {settings.assignment}", flush=True)
    pipeline.generate(root)
    print("[2/6] writing the example submissions into submitted/", flush=True)
    students = submit_examples(root)
    print(f"[3/6] nbgrader autograde {settings.assignment} ({len(students)} example students)", flush=True)
    pipeline.autograde(root, "example_*")
    print(f"[4/6] nbgrader generate_feedback {settings.assignment}", flush=True)
    pipeline.feedback(root)
    print("[5/6] nbgrader export", flush=True)
    pipeline.nbgrader(root, "export", "--to=grades.csv")
    print("[6/6] the grading report", flush=True)
    report_path, _ = grading_report.write(settings)
    print("\nAutograded points (written answers wait for manual grading in the formgrader):\n")
    print(table(gradebook.scores(settings), students, names))
    print(f"\ngrades CSV: {settings.root / 'grades.csv'}")
    print(f"feedback:   {settings.root / 'feedback'}")
    print(f"report:     {report_path}")
    print(f"took {time.time() - start:.0f} s")
    return 0
