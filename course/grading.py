"""The course's two grading jobs: the main job on the repository, and an author's check.

main_job        release hw4 from source/, put the example submissions in
                submitted/, autograde them, write feedback, export the grades
                CSV and print a student x notebook table.
check_notebook  the same for one source notebook in a scratch course folder,
                plus nbgrader's validate on the source and (inverted) on the
                release, so that an author sees every graded cell's verdict.
"""
import shutil
import tempfile
import time
from pathlib import Path

from . import ASSIGNMENT, EXAMPLES, ROOT, notebooks, pipeline, submissions

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
            got, top = pipeline.auto_total(scores.get(student, {}).get(name, {}))
            got_all, top_all = got_all + got, top_all + top
            row.append(f"{got:>18g} / {top:<3g}")
        row.append(f"{got_all:>6g} / {top_all:<3g}")
        lines.append("".join(row))
    return "\n".join(lines)


def main_job():
    """Release, grade the examples, write feedback and grades.csv, print the table."""
    start = time.time()
    names = sorted(p.stem for p in (ROOT / "source" / ASSIGNMENT).glob("*.ipynb"))
    print(f"[1/6] nbgrader generate_assignment {ASSIGNMENT}", flush=True)
    pipeline.generate(ROOT)
    print("[2/6] writing the example submissions into submitted/", flush=True)
    students = submit_examples(ROOT)
    print(f"[3/6] nbgrader autograde {ASSIGNMENT} ({len(students)} example students)", flush=True)
    pipeline.autograde(ROOT, "example_*")
    print(f"[4/6] nbgrader generate_feedback {ASSIGNMENT}", flush=True)
    pipeline.feedback(ROOT)
    print("[5/6] nbgrader export", flush=True)
    pipeline.nbgrader(ROOT, "export", "--to=grades.csv")
    print("[6/6] the grading report", flush=True)
    from . import report
    report_path, _ = report.write(ROOT)
    print("\nAutograded points (written answers wait for manual grading in the formgrader):\n")
    print(table(pipeline.scores(ROOT), students, names))
    print(f"\ngrades CSV: {ROOT / 'grades.csv'}")
    print(f"feedback:   {ROOT / 'feedback'}")
    print(f"report:     {report_path}")
    print(f"took {time.time() - start:.0f} s")
    return 0


def check_notebook(path, keep=False):
    """Check one source notebook in a scratch course; print each cell's verdict; 0 when all is right."""
    path = Path(path).resolve()
    scratch = Path(tempfile.mkdtemp(prefix=f"check_{path.stem}_"))
    failures = []
    try:
        (scratch / "source" / ASSIGNMENT).mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", scratch)
        for extra in (ROOT / "source" / ASSIGNMENT).glob("*.py"):
            shutil.copy(extra, scratch / "source" / ASSIGNMENT)
        shutil.copy(path, scratch / "source" / ASSIGNMENT)
        dirt = notebooks.dirt(notebooks.read(path))
        if dirt:
            failures.append(f"not clean (run python -m course clean): {'; '.join(dirt)}")
        pipeline.generate(scratch)
        rel = f"release/{ASSIGNMENT}/{path.name}"
        src = f"source/{ASSIGNMENT}/{path.name}"
        out = pipeline.nbgrader(scratch, "validate", src, check=False)
        if "Success!" not in out.stdout:
            failures.append("nbgrader validate on the source failed:\n" + out.stdout[-4000:] + out.stderr[-2000:])
        out = pipeline.nbgrader(scratch, "validate", "--invert", rel, check=False)
        if "Success!" not in out.stdout:
            failures.append("nbgrader validate --invert on the release failed:\n" + out.stdout[-4000:])
        submit_examples(scratch)
        pipeline.autograde(scratch)
        scores = pipeline.scores(scratch)
        for student in sorted(scores):
            cells = scores[student].get(path.stem, {})
            print(f"\n{student}:")
            for grade_id, (score, top, is_auto) in cells.items():
                print(f"  {grade_id:<40} {'-' if score is None else score:>5} / {top:<3g}"
                      f"{'' if is_auto else '  (manual)'}")
            got, top = pipeline.auto_total(cells)
            if student == REFERENCE_STUDENT and got != top:
                failures.append(f"the reference solution earns {got} of {top} autograded points")
            if student == BLANK_STUDENT and got != 0:
                failures.append(f"the blank release earns {got} autograded points")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    for failure in failures:
        print(f"\nPROBLEM: {failure}")
    print(f"\n{path.name}: {'OK' if not failures else f'{len(failures)} problem(s)'}")
    return 1 if failures else 0
