"""How fast a class is graded: sequential `nbgrader autograde` against course.parallel_grading, same run.

    python benchmarks/grading_speed.py [--n 40] [--workers N] [--breakdown 2] [--keep]

Makes a scratch course from source/ (all notebooks), writes N simulated submissions (cycling
through the reference solution, the blank release and every examples/* folder), grades them
with nbgrader's own sequential `nbgrader autograde hw4`, resets the folder and gradebook, grades
them again with `python -m course.parallel_grading`, checks that both gradebooks hold the same
grades, and prints seconds per submission, the speed-up, and one submission's cost broken down
(graded alone by one worker, so that no other grading competes for the cores).
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from course import EXAMPLES, gradebook, pipeline
from course.authoring import submissions
from course.authoring.examples import example_students
from course.notebooks import notebook_names
from course.parallel import grade_class as parallel_grading


def make_class(root, n):
    """N submissions of every notebook; returns their ids."""
    variants = [(None, submissions.REFERENCE), (None, submissions.BLANK)]
    variants += [(code, submissions.BLANK) for code in example_students(EXAMPLES).values()]
    built = [pipeline.build_student(root, code, base) for code, base in variants]
    students = []
    for i in range(n):
        student = f"sim{i:04d}"
        pipeline.submit(root, student, built[i % len(built)])
        students.append(student)
    return students


def reset(root, pristine):
    shutil.rmtree(root / "autograded", ignore_errors=True)
    shutil.copy(pristine, root / "gradebook.db")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="simulated submissions (default 40)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel workers (default: the command's own, one per core plus one)")
    parser.add_argument("--breakdown", type=int, default=2, help="submissions graded alone for the breakdown")
    parser.add_argument("--keep", action="store_true", help="keep the scratch course")
    args = parser.parse_args(argv)
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

    scratch = Path(tempfile.mkdtemp(prefix="grading_speed_"))
    root = scratch / "course"
    try:
        settings = pipeline.scratch_course(root)
        assignment = settings.assignment
        pipeline.generate(root)
        students = make_class(root, args.n)
        names = notebook_names(settings.source)
        pristine = scratch / "pristine.db"
        shutil.copy(root / "gradebook.db", pristine)
        load_before = os.getloadavg()

        start = time.perf_counter()
        pipeline.nbgrader(root, "autograde", assignment, "--force", check=False)
        seq = time.perf_counter() - start
        seq_grades = gradebook.scores(settings)

        reset(root, pristine)
        start = time.perf_counter()
        summary = parallel_grading.grade_class(root, workers=args.workers, quiet=True)
        par = time.perf_counter() - start
        same = gradebook.scores(settings) == seq_grades

        # one submission's cost, graded alone (one worker, nothing else grading)
        alone = students[:max(1, min(args.breakdown, len(students)))]
        reset(root, pristine)
        single = parallel_grading.grade_class(root, students=alone, workers=1, quiet=True)
        load_after = os.getloadavg()
        rows = list(single["results"].values())
        mean = lambda key: sum(r.get(key, 0.0) for r in rows) / len(rows)  # noqa: E731
        kernel_start, kernel_stop, execute = mean("kernel_start_seconds"), mean("kernel_stop_seconds"), mean("execute_seconds")
        autograde, worker = mean("autograde_seconds"), mean("seconds")
        ours = worker - autograde + (single["seconds"] - sum(r["seconds"] for r in rows)) / len(rows)

        n = len(students)
        print(f"\nGrading {n} simulated submissions x {len(names)} notebooks ({', '.join(names)})")
        print(f"machine: {os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
        print(f"{'':44}{'total s':>10}{'s/submission':>15}")
        print(f"{'sequential nbgrader autograde':44}{seq:>10.1f}{seq / n:>15.2f}")
        workers = args.workers or parallel_grading.default_workers()
        print(f"{f'parallel_grading, {workers} local workers':44}{par:>10.1f}{par / n:>15.2f}")
        print(f"{'speed-up':44}{seq / par:>10.2f}x   (target on 2 cores: >= 1.8x)")
        print(f"same grades in both gradebooks: {'yes' if same else 'NO'}; "
              f"failed submissions: {len(summary['failed'])}")
        print(f"\nOne submission graded alone (mean of {len(rows)}), seconds:")
        print(f"  kernel start-up (every kernel of {len(names)} notebooks)   {kernel_start:8.2f}")
        print(f"  notebook execution (cells)                      {execute - kernel_start - kernel_stop:8.2f}")
        print(f"  kernel shut-down                                {kernel_stop:8.2f}")
        print(f"  nbgrader bookkeeping (sanitize, gradebook, files) {autograde - execute:6.2f}")
        print(f"  parallel grading's own (private gradebook, merge,")
        print(f"    worker start-up shared by the {len(rows)})                {ours:8.2f}")
        print(f"  total                                           {autograde + ours:8.2f}")
        print(f"  nbgrader's own per-submission time in the sequential run: {seq / n:.2f}")
        return 0 if same else 1
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"scratch course kept: {root}")


if __name__ == "__main__":
    sys.exit(main())
