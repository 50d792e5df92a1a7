"""Grade a whole class in parallel with nbgrader's own autograde, on one machine or a Dask cluster.

    python -m course.parallel_grading [--workers N | --scheduler ADDRESS] [--student ID ...]
                                      [--force] [--db-url URL] [--root DIR] [-- NBGRADER_ARGS ...]

Each submission is graded by nbgrader's own ``AutogradeApp`` (``nbgrader autograde hw4
--student=ID``), run inside a long-lived worker process: a ``concurrent.futures`` process pool
on this machine (one worker per core by default), or Dask workers when ``--scheduler`` names a
``distributed`` scheduler.  Extra arguments after ``--`` go to nbgrader as they are
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
import contextlib
import fnmatch
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import ASSIGNMENT, ROOT

# Tables that define an assignment (copied into every private gradebook), parents first.
DEFINITION_TABLES = ("assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                     "task_cells", "source_cell")
# Tables that hold one student's submission (what autograde creates or changes), parents first.
STUDENT_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")


# --------------------------------------------------------------------------- gradebook rows

def _tables():
    from nbgrader.api import Base
    return Base.metadata.tables


def _rows(conn, table, where):
    from sqlalchemy import select
    return [dict(r._mapping) for r in conn.execute(select(table).where(where))]


def student_rows(conn, student, assignment=ASSIGNMENT):
    """table -> [row dict] for one student's submission of the assignment (all columns)."""
    t = _tables()
    rows = {name: [] for name in STUDENT_TABLES}
    rows["student"] = _rows(conn, t["student"], t["student"].c.id == student)
    assignment_ids = [r["id"] for r in _rows(conn, t["assignment"], t["assignment"].c.name == assignment)]
    if not rows["student"] or not assignment_ids:
        return rows
    sa = t["submitted_assignment"]
    rows["submitted_assignment"] = _rows(conn, sa, (sa.c.student_id == student)
                                         & sa.c.assignment_id.in_(assignment_ids))
    sn = t["submitted_notebook"]
    rows["submitted_notebook"] = _rows(
        conn, sn, sn.c.assignment_id.in_([r["id"] for r in rows["submitted_assignment"]]))
    nb_ids = [r["id"] for r in rows["submitted_notebook"]]
    rows["grade"] = _rows(conn, t["grade"], t["grade"].c.notebook_id.in_(nb_ids))
    rows["comment"] = _rows(conn, t["comment"], t["comment"].c.notebook_id.in_(nb_ids))
    return rows


def changes(before, after):
    """What nbgrader wrote: table -> {"new": [row], "changed": [(id, {column: value})]}."""
    result = {}
    for table in STUDENT_TABLES:
        old = {r["id"]: r for r in before.get(table, [])}
        new, changed = [], []
        for row in after.get(table, []):
            if row["id"] not in old:
                new.append(row)
            else:
                diff = {k: v for k, v in row.items() if old[row["id"]].get(k) != v}
                if diff:
                    changed.append((row["id"], diff))
        result[table] = {"new": new, "changed": changed}
    return result


def apply_changes(conn, delta):
    """Write one student's changes into a gradebook connection (inside the caller's transaction)."""
    from sqlalchemy import insert, update
    t = _tables()
    for table in STUDENT_TABLES:
        for row in delta[table]["new"]:
            conn.execute(insert(t[table]).values(**row))
        for row_id, values in delta[table]["changed"]:
            conn.execute(update(t[table]).where(t[table].c.id == row_id).values(**values))


def make_template(db_url, course_id, path, assignment=ASSIGNMENT):
    """A fresh nbgrader SQLite gradebook at ``path`` holding the assignment's definition only."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy import create_engine, insert
    with Gradebook(db_url, course_id) as gb:  # nbgrader's own creation/checks of the main gradebook
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"assignment {assignment!r} is not in the gradebook {db_url}: "
                             f"run `nbgrader generate_assignment {assignment}` first")
    Gradebook("sqlite:///" + str(path), course_id).close()  # nbgrader's schema and alembic stamp
    t = _tables()
    src, dst = create_engine(db_url), create_engine("sqlite:///" + str(path))
    try:
        with src.connect() as s, dst.begin() as d:
            a = _rows(s, t["assignment"], t["assignment"].c.name == assignment)
            nbs = _rows(s, t["notebook"], t["notebook"].c.assignment_id.in_([r["id"] for r in a]))
            nb_ids = [r["id"] for r in nbs]
            cells = _rows(s, t["base_cell"], t["base_cell"].c.notebook_id.in_(nb_ids))
            cell_ids = [r["id"] for r in cells]
            rows = {"assignment": a, "notebook": nbs, "base_cell": cells,
                    "source_cell": _rows(s, t["source_cell"], t["source_cell"].c.notebook_id.in_(nb_ids))}
            for name in ("grade_cells", "solution_cells", "task_cells"):
                rows[name] = _rows(s, t[name], t[name].c.id.in_(cell_ids))
            courses = {r["course_id"] for r in a} - {course_id}
            for cid in courses:
                for row in _rows(s, t["course"], t["course"].c.id == cid):
                    d.execute(insert(t["course"]).values(**row))
            for name in DEFINITION_TABLES:
                for row in rows[name]:
                    d.execute(insert(t[name]).values(**row))
    finally:
        src.dispose()
        dst.dispose()
    return path


def gradebook_contents(db_url, course_id="default_course", assignment=ASSIGNMENT):
    """Everything autograde can write for an assignment, keyed by names (not row ids), via nbgrader's API.

    For comparing two gradebooks: student -> (timestamp, extension, {notebook: (late penalty,
    flagged, {cell: (auto_score, manual_score, extra_credit, needs_manual_grade)},
    {cell: (auto_comment, manual_comment)})}).
    """
    from nbgrader.api import Gradebook
    contents = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            notebooks = {}
            for nb in sub.notebooks:
                grades = {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                          for g in nb.grades}
                comments = {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments}
                notebooks[nb.name] = (nb.late_submission_penalty, nb.flagged, grades, comments)
            contents[sub.student.id] = (sub.timestamp, sub.extension, notebooks)
    return contents


# --------------------------------------------------------------------------- the worker

_LOCK = threading.Lock()   # nbgrader changes the process's current directory: one grading per process
_TIMES = {}


def _instrument():
    """Time kernel start-up/shut-down and notebook execution inside nbgrader (measuring only; once per process).

    Execution is the time spent in whichever executing preprocessor the course configures
    (nbgrader's Execute or a subclass): every nbconvert preprocessor that is an nbclient client.
    """
    if _TIMES.get("_installed"):
        return
    import nbclient.client as ncc
    from nbconvert.preprocessors import Preprocessor

    def timed(owner, name, key):
        original = getattr(owner, name)

        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                k = key(self) if callable(key) else key
                if k:
                    _TIMES[k] = _TIMES.get(k, 0.0) + time.perf_counter() - start
        wrapper.__wrapped__ = original
        setattr(owner, name, wrapper)

    # nbclient's synchronous entry points, as nbconvert's ExecutePreprocessor calls them
    timed(ncc.NotebookClient, "start_new_kernel", "kernel_start")
    timed(ncc.NotebookClient, "start_new_kernel_client", "kernel_start")
    timed(ncc.NotebookClient, "_cleanup_kernel", "kernel_stop")
    timed(Preprocessor, "__call__", lambda self: "execute" if isinstance(self, ncc.NotebookClient) else None)
    _TIMES["_installed"] = True


def _run_autograde(root, argv):
    """nbgrader's AutogradeApp with ``argv`` in this process; (exit code, log text)."""
    from nbgrader.apps.autogradeapp import AutogradeApp
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("[%(name)s | %(levelname)s] %(message)s"))
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(root)
    logger = logging.getLogger(AutogradeApp.__name__)
    before = logger.handlers[:]
    code = 0
    try:
        app = AutogradeApp()
        app.initialize(argv)
        # nbgrader's console output is captured for this submission; its logfile (if configured) is kept
        console = [h for h in logger.handlers if type(h) is logging.StreamHandler]
        added = [h for h in logger.handlers if h not in before and h not in console]
        for h in console:
            logger.removeHandler(h)
        logger.addHandler(handler)
        try:
            app.start()
        finally:
            logger.removeHandler(handler)
            for h in added:
                h.close()
                if h in logger.handlers:
                    logger.removeHandler(h)
            for h in console:
                if h not in logger.handlers:
                    logger.addHandler(h)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        log.write(traceback.format_exc())
        code = 1
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        AutogradeApp.clear_instance()
    return code, log.getvalue()


def grade_student(job, template=None):
    """Grade one student with nbgrader autograde into a private gradebook; return the result dict.

    ``job``: root, student, state (the student's rows in the main gradebook), nbgrader_args,
    template (path of the template gradebook; or pass its bytes as ``template``).
    """
    with _LOCK:
        return _grade_student(job, template if template is not None else job["template"])


def _grade_student(job, template):
    from sqlalchemy import create_engine
    start = time.perf_counter()
    _instrument()
    _TIMES.update(kernel_start=0.0, kernel_stop=0.0, execute=0.0)
    student, root = job["student"], job["root"]
    result = {"student": student, "ok": False, "delta": None, "log": "", "error": None,
              "host": os.uname().nodename, "pid": os.getpid()}
    tmp = tempfile.mkdtemp(prefix="nbgrader_worker_")
    try:
        db = os.path.join(tmp, "gradebook.db")
        if isinstance(template, (bytes, bytearray)):
            Path(db).write_bytes(template)
        else:
            shutil.copyfile(template, db)
        url = "sqlite:///" + db
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                apply_changes(conn, changes({}, job["state"]))
            argv = [ASSIGNMENT, f"--student={student}", "--force",
                    f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={url}",
                    *job.get("nbgrader_args", [])]
            graded = time.perf_counter()
            code, log = _run_autograde(root, argv)
            result["autograde_seconds"] = time.perf_counter() - graded
            with engine.connect() as conn:
                result["delta"] = changes(job["state"], student_rows(conn, student))
        finally:
            engine.dispose()
        result["log"] = log[-20000:]
        result["ok"] = code == 0
        if code != 0:
            errors = [line for line in log.splitlines() if "ERROR" in line or "Error" in line]
            result["error"] = (errors[-1] if errors else f"nbgrader exited with code {code}")[:500]
    except Exception:
        result["error"] = traceback.format_exc()[-3000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["seconds"] = time.perf_counter() - start
    result["kernel_start_seconds"] = _TIMES["kernel_start"]
    result["kernel_stop_seconds"] = _TIMES["kernel_stop"]
    result["execute_seconds"] = _TIMES["execute"]
    return result


# --------------------------------------------------------------------------- the parent

def course_settings(root):
    """(db_url, course_id) from the course's nbgrader_config.py."""
    from traitlets.config.loader import PyFileConfigLoader
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    db_url = cfg.CourseDirectory.get("db_url") or "sqlite:///" + str(Path(root) / "gradebook.db")
    return db_url, cfg.CourseDirectory.get("course_id") or "default_course"


def submitted_students(root, patterns=None, assignment=ASSIGNMENT):
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


def is_graded(root, student, graded_ids, assignment=ASSIGNMENT):
    """Whether a student's submission is already graded, by nbgrader's own rule plus the gradebook."""
    src = Path(root) / "submitted" / student / assignment
    dest = Path(root) / "autograded" / student / assignment
    if student not in graded_ids or not dest.is_dir():
        return False
    if any(not (dest / nb.name).exists() for nb in src.glob("*.ipynb")):
        return False
    new, old = _timestamp(src), _timestamp(dest)
    return not (new is not None and old is not None and new > old)


def pending_students(root, db_url, students, force=False, assignment=ASSIGNMENT):
    """The students among ``students`` that still need grading."""
    if force:
        return list(students)
    from sqlalchemy import create_engine, select
    t = _tables()
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


def _quiet_worker():
    """Process-pool initializer: the kernels' and nbgrader's chatter stays out of the terminal.

    nbgrader's own log of each submission is captured and returned with its result.
    """
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)


def _local_results(jobs, workers):
    """Yield results from a process pool; a pool broken by a dying worker is replaced."""
    import multiprocessing
    tries = {job["student"]: 0 for job in jobs}
    remaining = list(jobs)
    while remaining:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=50,
                                 initializer=_quiet_worker) as pool:
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


def _dask_results(jobs, scheduler, template_path):
    """Yield results from a Dask cluster (``distributed``); the template travels once per worker."""
    from distributed import Client, as_completed as dask_completed
    with Client(scheduler) as client:
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


def grade_class(root=ROOT, students=None, workers=None, scheduler=None, db_url=None,
                course_id=None, force=False, nbgrader_args=(), quiet=False):
    """Grade every pending submission; return a summary dict (results per student, timings)."""
    from sqlalchemy import create_engine
    root = Path(root).resolve()
    default_url, default_course = course_settings(root)
    db_url, course_id = db_url or default_url, course_id or default_course
    if any("db_url" in arg for arg in nbgrader_args):
        raise SystemExit("give the gradebook with --db-url, not as an nbgrader argument")
    start = time.perf_counter()
    everyone = submitted_students(root, students)
    todo = pending_students(root, db_url, everyone, force)
    summary = {"students": everyone, "skipped": [s for s in everyone if s not in todo],
               "results": {}, "failed": [], "db_url": db_url}
    if not todo:
        summary["seconds"] = time.perf_counter() - start
        return summary
    tmp = Path(tempfile.mkdtemp(prefix="nbgrader_template_"))
    engine = create_engine(db_url)
    try:
        template = make_template(db_url, course_id, tmp / "template.db")
        with engine.connect() as conn:
            jobs = [{"root": str(root), "student": s, "state": student_rows(conn, s),
                     "nbgrader_args": list(nbgrader_args), "template": str(template)} for s in todo]
        if scheduler:
            results = _dask_results(jobs, scheduler, template)
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
    parser = argparse.ArgumentParser(prog="python -m course.parallel_grading",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="course folder (default: this repository)")
    parser.add_argument("--student", action="append", help="student id or glob pattern (repeatable)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core, plus one)")
    parser.add_argument("--scheduler", help="address of a Dask scheduler (tcp://host:8786): grade on its workers")
    parser.add_argument("--db-url", help="gradebook URL (default: the course's CourseDirectory.db_url)")
    parser.add_argument("--force", action="store_true", help="regrade students already graded")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("nbgrader_args", nargs="*", help="after --: arguments for nbgrader autograde")
    args = parser.parse_args(argv)
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    summary = grade_class(args.root, args.student, args.workers, args.scheduler, args.db_url,
                          force=args.force, nbgrader_args=args.nbgrader_args, quiet=args.quiet)
    graded = len(summary["results"])
    print(f"graded {graded - len(summary['failed'])} submissions, {len(summary['failed'])} failed, "
          f"{len(summary['skipped'])} already graded; {summary['seconds']:.1f} s"
          + (f" ({summary['seconds'] / graded:.2f} s per submission)" if graded else ""))
    for student in summary["failed"]:
        print(f"  FAILED {student}: {(summary['results'][student].get('error') or '').strip()[:300]}")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
