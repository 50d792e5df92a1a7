"""One worker's job: grade one student with nbgrader's own AutogradeApp, into a private gradebook.

Runs in a long-lived process (a local process pool or a Dask worker) so that nbgrader and the
course's libraries are imported once per worker, not once per student.  nbgrader changes the
process's current directory, so a worker grades one student at a time.  The worker also times
kernel start-up, execution and shut-down (by wrapping nbclient's hooks), which the grading
benchmark reports.

May import: course.parallel.gradebook_sync, nbgrader, nbclient, sqlalchemy.
"""
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .gradebook_sync import apply_changes, changes, student_rows

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
    # the course's TrustedExecute starts and stops its two kernels side by side, past the two above
    from course.protection.trusted_execute import TrustedExecute
    timed(TrustedExecute, "_start_both", "kernel_start")
    timed(TrustedExecute, "_stop_both", "kernel_stop")
    timed(Preprocessor, "__call__", lambda self: "execute" if isinstance(self, ncc.NotebookClient) else None)
    _TIMES["_installed"] = True


def _run_autograde(root, argv):
    """nbgrader's AutogradeApp with ``argv`` in this process; (exit code, log text)."""
    from nbgrader.apps.autogradeapp import AutogradeApp
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter("[%(name)s | %(levelname)s] %(message)s"))
    # nbgrader's app puts its working directory first on sys.path; undone after each student
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
            argv = [job["assignment"], f"--student={student}", "--force",
                    f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url={url}",
                    *job.get("nbgrader_args", [])]
            graded = time.perf_counter()
            code, log = _run_autograde(root, argv)
            result["autograde_seconds"] = time.perf_counter() - graded
            with engine.connect() as conn:
                result["delta"] = changes(job["state"], student_rows(conn, student, job["assignment"]))
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
