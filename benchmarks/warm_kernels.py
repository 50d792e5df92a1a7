"""Protected grading against stock nbgrader, same submissions, same machine, one run.

    python benchmarks/warm_kernels.py [--copies 1] [--workers N] [--no-parallel] [--no-cold]

Makes a scratch course from source/, submits the examples (reference, blank, every examples/*
folder), `--copies` times each, and grades them with `nbgrader autograde ASSIGNMENT --force`:

* stock nbgrader, unprotected: its default preprocessors (its own ``Execute``), no repair;
* the course, warm kernels (the default: ``TrustedExecute.warm_kernels = True``);
* the course's path before warm kernels (``--TrustedExecute.warm_kernels=False
  --TrustedExecute.rerun_all_provided_cells=True --TrustedExecute.read_ahead=0``), "cold" below (``--no-cold`` leaves it out: a
  quicker run for a class, ``--copies 3``).

It prints the wall times and their ratios to stock nbgrader, checks that all three gradebooks hold
the same scores and that warm and cold give the same feedback pages, then grades the class again
in parallel (`python -m course.parallel`, a new process each time, one worker per core plus one)
with stock nbgrader's and the course's config.  Last, one submission's cost broken down (graded
alone by one worker, one notebook at a time, warm and cold): kernel start-up, execution (the first
cell of each kernel - the imports - and the rest), shut-down, nbgrader's bookkeeping.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course import gradebook, pipeline
from course.authoring.examples import submit_examples
from course.parallel import grade_class as parallel
from course.protection.trusted_execute import TrustedExecute

STOCK = [  # nbgrader 0.9's own defaults for the autograde step, set back over the course's config
    'c.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",'
    ' "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",'
    ' "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",'
    ' "nbgrader.preprocessors.CheckCellMetadata"]',
    'c.Autograde.sanitize_preprocessors = ["nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",'
    ' "nbgrader.preprocessors.OverwriteKernelspec", "nbgrader.preprocessors.OverwriteCells",'
    ' "nbgrader.preprocessors.CheckCellMetadata"]',
    "from nbconvert.exporters import NotebookExporter",
    "c.Autograde.exporter_class = NotebookExporter",
    "c.Autograde.pre_convert_hook = None",
]
COLD = ["--TrustedExecute.warm_kernels=False", "--TrustedExecute.rerun_all_provided_cells=True",
        "--TrustedExecute.read_ahead=0"]


def make_course(root, copies, config_lines=()):
    settings = pipeline.scratch_course(root, config_lines=config_lines)
    pipeline.generate(root)
    students = submit_examples(root)
    for copy in range(1, copies):
        for student in list(students):
            shutil.copytree(root / "submitted" / student, root / "submitted" / f"{student}_copy{copy}")
    return settings, sorted(p.name for p in (root / "submitted").iterdir())


def reset(root, pristine):
    shutil.rmtree(root / "autograded", ignore_errors=True)
    shutil.rmtree(root / "feedback", ignore_errors=True)
    shutil.copy(pristine, root / "gradebook.db")


def timed_autograde(root, assignment, *args):
    start = time.perf_counter()
    proc = pipeline.nbgrader(root, "autograde", assignment, "--force", *args, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
    return seconds


def timed_parallel(root, workers, args=()):
    """``python -m course.parallel`` as an instructor runs it: a new process each time, so that no run
    reuses the worker pool's fork server (its imports) of the run before."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "course.parallel", "--root", str(root), "--workers", str(workers),
                           "--force", "--quiet", *(["--", *args] if args else [])],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
    return seconds


def feedback_pages(root, assignment):
    pipeline.nbgrader(root, "generate_feedback", assignment, "--force", check=False)
    pages = {}
    for path in sorted((root / "feedback").rglob("*.html")):
        text = path.read_text()
        text = re.sub(r"hw4_(student|trusted)_[a-z0-9_]+", "TMP", text)  # scratch folder names
        pages[str(path.relative_to(root / "feedback"))] = text
    return pages


def breakdown(root, students, args=()):
    """The cost of the last of ``students``, graded one after the other by one worker (so that a
    warm worker's template, started for the first, is not counted again), one notebook at a time:
    a notebook run ahead would hide its cost inside another's."""
    args = [arg for arg in args if not arg.startswith("--TrustedExecute.read_ahead=")]
    summary = parallel.grade_class(root, students=students, workers=1, quiet=True,
                                   nbgrader_args=[*args, "--TrustedExecute.read_ahead=0"])
    row = summary["results"][students[-1]]
    start, stop, execute = row["kernel_start_seconds"], row["kernel_stop_seconds"], row["execute_seconds"]
    return {"kernel start-up": start, "cell execution": execute - start - stop, "kernel shut-down": stop,
            "nbgrader bookkeeping": row["autograde_seconds"] - execute,
            "total (nbgrader autograde)": row["autograde_seconds"]}


def import_seconds(modules):
    """Wall time of importing ``modules`` in a new Python, beyond starting one."""
    def run(code):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)   # debugpy's warnings
        return time.perf_counter() - start
    return max(0.0, run("import " + ", ".join(modules)) - run("pass"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1, help="submit every example this many times")
    parser.add_argument("--workers", type=int, default=None, help="parallel workers (default: one per core plus one)")
    parser.add_argument("--no-parallel", action="store_true", help="skip the parallel runs")
    parser.add_argument("--no-cold", action="store_true", help="skip the course's cold path (warm against stock only)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch courses")
    args = parser.parse_args(argv)
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    scratch = Path(tempfile.mkdtemp(prefix="warm_kernels_"))
    try:
        ours, students = make_course(scratch / "course", args.copies)
        stock, _ = make_course(scratch / "stock", args.copies, STOCK)
        for settings in (ours, stock):
            shutil.copy(settings.root / "gradebook.db", settings.root / "pristine.db")
        a = ours.assignment

        times, scores, pages = {}, {}, {}
        times["stock"] = timed_autograde(stock.root, a)
        scores["stock"] = gradebook.scores(stock)
        times["warm"] = timed_autograde(ours.root, a)
        scores["warm"], pages["warm"] = gradebook.scores(ours), feedback_pages(ours.root, a)
        runs = (("stock", stock, ()), ("warm", ours, ()), ("cold", ours, COLD))[:2 if args.no_cold else 3]
        kinds = tuple(key for key, _, _ in runs)
        if not args.no_cold:
            reset(ours.root, ours.root / "pristine.db")
            times["cold"] = timed_autograde(ours.root, a, *COLD)
            scores["cold"], pages["cold"] = gradebook.scores(ours), feedback_pages(ours.root, a)

        n = len(students)
        print(f"\n{n} submissions x 4 notebooks, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        print(f"{'sequential nbgrader autograde':48}{'seconds':>9}{'vs stock':>10}")
        labels = {"stock": "stock nbgrader (unprotected)", "warm": "course, protected, warm kernels",
                  "cold": "course, protected, cold kernels"}
        for key in kinds:
            print(f"{labels[key]:48}{times[key]:>9.1f}{times[key] / times['stock']:>9.2f}x")
        same = all(scores[key] == scores["stock"] for key in kinds)
        same_pages = args.no_cold or pages["warm"] == pages["cold"]
        print(f"same scores ({', '.join(kinds)}): {'yes' if same else 'NO'}"
              + ("" if args.no_cold else f"; same feedback pages (warm, cold): {'yes' if same_pages else 'NO'} "
                                         f"({len(pages['warm'])} pages)"))
        ok = same and same_pages

        if not args.no_parallel:
            workers = args.workers or parallel.default_workers()
            par, same_par = {}, {}
            for key, settings, extra in runs:
                reset(settings.root, settings.root / "pristine.db")
                par[key] = timed_parallel(settings.root, workers, extra)
                same_par[key] = gradebook.scores(settings) == scores["stock"]
            print(f"\n{f'parallel, {workers} workers':48}{'seconds':>9}{'vs stock':>10}  same scores as sequential")
            for key in kinds:
                print(f"{key:48}{par[key]:>9.1f}{par[key] / par['stock']:>9.2f}x  {'yes' if same_par[key] else 'NO'}")
            ok = ok and all(same_par.values())

        alone = students[:2]
        print(f"\none submission ({alone[-1]}) graded by one worker after another one, one notebook at a time, seconds")
        rows = {}
        for key, settings, extra in runs:
            reset(settings.root, settings.root / "pristine.db")
            rows[key] = breakdown(settings.root, alone, extra)
        kernels = 4  # notebooks
        imports = import_seconds(TrustedExecute.class_traits()["warm_preload"].default())
        for key, per_kernel in (("stock", 1), ("warm", 0), ("cold", 2)):
            if key in rows:
                rows[key]["imports (in start-up and cells)"] = per_kernel * kernels * imports
        print(f"{'':34}" + "".join(f"{k:>9}" for k in kinds))
        for label in rows["stock"]:
            print(f"{label:34}" + "".join(f"{rows[k][label]:>9.2f}" for k in kinds))
        print(f"imports: {imports:.2f} s per kernel measured alone (a cold notebook starts two kernels, stock one;"
              " warm kernels import once per grading process, in the template)")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"scratch courses kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
