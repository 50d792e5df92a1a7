"""Grade a whole class in parallel with nbgrader's own autograde, on one machine or a Dask cluster.

    python -m course.parallel [--workers N | --scheduler tls://HOST:PORT --certificates DIR]
                              [--student ID ...] [--force] [--db-url URL] [--root DIR] [-- NBGRADER_ARGS ...]

Each submission is graded by nbgrader's own ``AutogradeApp`` (``nbgrader autograde hw4
--student=ID``), run inside a long-lived worker process: a ``concurrent.futures`` process pool
on this machine (one worker per core by default), or Dask workers when ``--scheduler`` names a
``distributed`` scheduler.  A Dask scheduler runs whatever a connected client sends it, so the
cluster mode only speaks TLS with the course's certificates (``--certificates``, made by
``python -m course.parallel.security``; see security.py): a plain ``tcp://`` scheduler is refused.  Extra arguments after ``--`` go to nbgrader as they are
(``-- --Execute.timeout=60``).

The gradebook is never written by two processes at once.  Each worker grades its student into
a private SQLite gradebook made from a snapshot of the main one: the assignment's definition
(notebooks, cells, source cells, copied row for row with their ids) plus that student's current
rows (submission, extension, manual scores).  nbgrader then reads and writes exactly what it
would in the main gradebook, and the worker sends back the rows it created or changed.  The
parent applies them to the main gradebook (SQLite, PostgreSQL, any ``db_url`` nbgrader takes)
one student at a time, in one transaction each: "database is locked" cannot happen, and the
workers need no access to the gradebook at all.  Autograded notebooks are written by nbgrader
into ``autograded/ID/hw4`` as usual (the course folder must be visible to the workers at the
same path: a shared file system on a cluster).

A submission that fails (dead kernel, broken notebook, an error inside nbgrader) is reported
and keeps whatever nbgrader wrote for it, as in a sequential run; the others go on.  A run can
be interrupted and started again: it grades only the students whose autograded notebooks or
gradebook submission are missing, or whose submission is newer than their autograded copy
(``--force`` regrades everyone).
"""

import argparse
import fnmatch
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .. import settings as course_settings
from .gradebook_sync import apply_changes, make_template, student_rows, tables
from ..protection.forkserver import SHARE_ENV as TEMPLATES_ENV
from .security import security as tls_security
from .worker import grade_student

def submitted_students(root, assignment, patterns=None):
    """Students with a submission folder, optionally only those matching some id patterns."""
    found = sorted(p.parent.name for p in (Path(root) / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if patterns:
        found = [s for s in found if any(fnmatch.fnmatchcase(s, p) for p in patterns)]
    return found


def _timestamp(folder):
    from nbgrader.utils import parse_utc
    path = Path(folder) / "timestamp.txt"
    try:
        text = path.read_text().strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def is_graded(root, student, graded_ids, assignment):
    """Whether a student's submission is already graded, by nbgrader's own rule plus the gradebook."""
    src = Path(root) / "submitted" / student / assignment
    dest = Path(root) / "autograded" / student / assignment
    if student not in graded_ids or not dest.is_dir():
        return False
    if any(not (dest / nb.name).exists() for nb in src.glob("*.ipynb")):
        return False
    new, old = _timestamp(src), _timestamp(dest)
    return not (new is not None and old is not None and new > old)


def pending_students(root, db_url, students, assignment, force=False):
    """The students among ``students`` that still need grading."""
    if force:
        return list(students)
    from sqlalchemy import create_engine, select
    t = tables()
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            q = (select(t["submitted_assignment"].c.student_id)
                 .join(t["assignment"], t["assignment"].c.id == t["submitted_assignment"].c.assignment_id)
                 .where(t["assignment"].c.name == assignment))
            graded_ids = {r[0] for r in conn.execute(q)}
    finally:
        engine.dispose()
    return [s for s in students if not is_graded(root, s, graded_ids, assignment)]


class _Progress:
    """done / failed / remaining / time left, on a tqdm bar."""

    def __init__(self, total, quiet=False):
        from tqdm import tqdm
        self.failed = 0
        self.bar = tqdm(total=total, unit="submission", desc="grading", disable=quiet or None,
                        dynamic_ncols=True, mininterval=0.5)

    def update(self, result):
        self.failed += not result["ok"]
        self.bar.set_postfix(done=self.bar.n + 1 - self.failed, failed=self.failed, refresh=False)
        self.bar.update(1)
        if not result["ok"]:
            self.bar.write(f"FAILED {result['student']}: {(result.get('error') or '').strip().splitlines()[-1:]}")

    def close(self):
        self.bar.close()


def _init_worker(templates):
    """Process-pool initializer: the kernels' and nbgrader's chatter stays out of the terminal, and
    the workers share their warm kernels' templates through the private folder ``templates``
    (course/protection/forkserver.py), so this machine imports the libraries once per kind of kernel.

    nbgrader's own log of each submission is captured and returned with its result.
    """
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.environ[TEMPLATES_ENV] = templates


def _local_results(jobs, workers):
    """Yield results from a process pool; a pool broken by a dying worker is replaced."""
    tries = {job["student"]: 0 for job in jobs}
    remaining = list(jobs)
    templates = tempfile.mkdtemp(prefix="hw4_templates_")   # 0700: only the grading user's processes
    try:
        yield from _pool_results(remaining, tries, workers, templates)
    finally:
        shutil.rmtree(templates, ignore_errors=True)


# The workers keep every core busy, so a worker runs a notebook ahead (course/protection/read_ahead.py)
# only once a core has been idle for half a second: as a run ends, when the last submissions are graded
# alone and the cores their neighbours used wait.  Then the submission's later notebooks (up to the
# assignment's other three) all start, and share the cores with the one nbgrader is on.  An argument after
# ``--`` that sets the same option replaces the workers' own (``-- --TrustedExecute.read_ahead=0``;
# nbgrader refuses an option given twice).
WORKER_NBGRADER_ARGS = ["--TrustedExecute.read_ahead=3", "--TrustedExecute.read_ahead_idle_cores=0.75"]


def worker_nbgrader_args(nbgrader_args):
    """``WORKER_NBGRADER_ARGS`` but those ``nbgrader_args`` set themselves, then ``nbgrader_args``."""
    given = {arg.split("=", 1)[0] for arg in nbgrader_args}
    return [arg for arg in WORKER_NBGRADER_ARGS if arg.split("=", 1)[0] not in given] + list(nbgrader_args)


# What every worker needs, imported once by the pool's fork server instead of by each worker (about
# 1.3 s of CPU each); the fork server is a fresh Python with no thread, so forking it is safe.
WORKER_PRELOAD = ["course.parallel.worker", "nbgrader.apps.autogradeapp", "course.protection.trusted_execute"]


def start_fork_server():
    """The local pool's process context, its fork server started now: it imports ``WORKER_PRELOAD``
    (about 2 s of CPU) while this process reads the gradebook, instead of after."""
    import multiprocessing
    from multiprocessing import forkserver
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    forkserver.ensure_running()
    return context


def _pool_results(remaining, tries, workers, templates):
    context = start_fork_server()   # already running when grade_class started it
    while remaining:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=50,
                                 initializer=_init_worker, initargs=(templates,)) as pool:
            futures = {pool.submit(grade_student, job): job for job in remaining}
            remaining = []
            for future in as_completed(futures):
                job = futures[future]
                try:
                    yield future.result()
                except BrokenProcessPool:
                    tries[job["student"]] += 1
                    if tries[job["student"]] < 2:
                        remaining.append(job)
                    else:
                        yield {"student": job["student"], "ok": False, "delta": None,
                               "error": "the worker process died twice while grading it"}
                except Exception:
                    yield {"student": job["student"], "ok": False, "delta": None,
                           "error": traceback.format_exc()[-2000:]}


def _dask_results(jobs, scheduler, template_path, security):
    """Yield results from a Dask cluster (``distributed``); the template travels once per worker."""
    from distributed import Client, as_completed as dask_completed
    with Client(scheduler, security=security) as client:
        template = client.scatter(Path(template_path).read_bytes(), broadcast=True)
        futures = {}
        for job in jobs:
            job = {**job, "template": None}
            future = client.submit(grade_student, job, template, pure=False,
                                   key=f"autograde-{job['student']}-{time.time_ns()}")
            futures[future] = job
        for future in dask_completed(list(futures)):
            job = futures[future]
            try:
                yield future.result()
            except Exception as error:
                yield {"student": job["student"], "ok": False, "delta": None,
                       "error": f"{type(error).__name__}: {error}"}


def default_workers():
    """One worker per core, plus one: a submission spends part of its time waiting for kernels to
    start and stop, and the extra worker keeps both cores busy then (measured: 1.58x with 2 workers
    on 2 cores, 1.87x with 3; see README)."""
    return (os.cpu_count() or 1) + 1


def cluster_security(scheduler, certificates):
    """The TLS settings for ``scheduler``; SystemExit, saying why, for a scheduler that is not safe to use."""
    if not str(scheduler).startswith("tls://"):
        raise SystemExit(f"refusing the Dask scheduler {scheduler}: over plain TCP anyone who reaches it can run "
                         "code as the grading user; start it with TLS and give tls://HOST:PORT "
                         "(README, 'Grading a whole class fast')")
    if not certificates:
        raise SystemExit("--scheduler needs --certificates DIR (made by `python -m course.parallel.security DIR`)")
    try:
        return tls_security(certificates)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def grade_class(root=".", students=None, workers=None, scheduler=None, db_url=None,
                course_id=None, force=False, nbgrader_args=(), quiet=False, certificates=None):
    """Grade every pending submission; return a summary dict (results per student, timings).

    With ``scheduler`` (a ``tls://`` address) the cluster is reached with the TLS certificates in the
    folder ``certificates``.
    """
    from sqlalchemy import create_engine
    security = cluster_security(scheduler, certificates) if scheduler else None
    if any("db_url" in arg for arg in nbgrader_args):
        raise SystemExit("give the gradebook with --db-url, not as an nbgrader argument")
    if not scheduler:
        start_fork_server()   # first: its imports go on while this process reads the course and the gradebook
    root = Path(root).resolve()
    settings = course_settings.load(root)
    db_url, course_id, assignment = db_url or settings.db_url, course_id or settings.course_id, settings.assignment
    start = time.perf_counter()
    everyone = submitted_students(root, assignment, students)
    todo = pending_students(root, db_url, everyone, assignment, force)
    summary = {"students": everyone, "skipped": [s for s in everyone if s not in todo],
               "results": {}, "failed": [], "db_url": db_url}
    if not todo:
        summary["seconds"] = time.perf_counter() - start
        return summary
    tmp = Path(tempfile.mkdtemp(prefix="nbgrader_template_"))
    engine = create_engine(db_url)
    try:
        template = make_template(db_url, course_id, tmp / "template.db", assignment)
        with engine.connect() as conn:
            jobs = [{"root": str(root), "assignment": assignment, "student": s,
                     "state": student_rows(conn, s, assignment),
                     "nbgrader_args": worker_nbgrader_args(nbgrader_args), "template": str(template)}
                    for s in todo]
        if scheduler:
            results = _dask_results(jobs, scheduler, template, security)
        else:
            results = _local_results(jobs, workers or default_workers())
        progress = _Progress(len(jobs), quiet)
        try:
            for result in results:
                if result.get("delta"):
                    with engine.begin() as conn:   # one student, one transaction, one writer
                        apply_changes(conn, result["delta"])
                summary["results"][result["student"]] = result
                if not result["ok"]:
                    summary["failed"].append(result["student"])
                progress.update(result)
        finally:
            progress.close()
    finally:
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    summary["seconds"] = time.perf_counter() - start
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.parallel",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    parser.add_argument("--student", action="append", help="student id or glob pattern (repeatable)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, plus one)")
    parser.add_argument("--scheduler", help="address of a Dask scheduler started with the course's TLS "
                        "certificates (tls://host:8786): grade on its workers")
    parser.add_argument("--certificates", help="folder made by `python -m course.parallel.security DIR` "
                        "(needed with --scheduler)")
    parser.add_argument("--db-url", help="gradebook URL (default: the course's CourseDirectory.db_url)")
    parser.add_argument("--force", action="store_true", help="regrade students already graded")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("nbgrader_args", nargs="*", help="after --: arguments for nbgrader autograde")
    args = parser.parse_args(argv)
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    summary = grade_class(args.root, args.student, args.workers, args.scheduler, args.db_url,
                          force=args.force, nbgrader_args=args.nbgrader_args, quiet=args.quiet,
                          certificates=args.certificates)
    graded = len(summary["results"])
    print(f"graded {graded - len(summary['failed'])} submissions, {len(summary['failed'])} failed, "
          f"{len(summary['skipped'])} already graded; {summary['seconds']:.1f} s"
          + (f" ({summary['seconds'] / graded:.2f} s per submission)" if graded else ""))
    for student in summary["failed"]:
        print(f"  FAILED {student}: {(summary['results'][student].get('error') or '').strip()[:300]}")
    return 1 if summary["failed"] else 0
