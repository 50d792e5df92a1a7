"""Read-ahead: a submission's next notebook runs while nbgrader is still on this one.

nbgrader autogrades a submission's notebooks one after the other, and a notebook's two kernels take
turns (a test cell waits for the student's kernel to answer it): grading keeps one core busy, and on
a machine with two the other one waits.  (The workers of ``python -m course.parallel`` keep every core
busy already, and do not read ahead: grade_class.WORKER_NBGRADER_ARGS.)

So ``TrustedExecute`` (its ``read_ahead`` trait) starts the submission's next notebook in a thread
as it starts one, and takes the finished copy when nbgrader gets there.  What it runs is the notebook
exactly as nbgrader will hand it over: the course rebuilds every submitted notebook from the source
notebook and the student's answers (repair.py) before nbgrader's own passes, whose output is that
same notebook again, so it can be made before nbgrader reaches it.  A copy is used only when the
notebook nbgrader hands over is equal to it, cell for cell and field for field (outputs aside);
anything else is dropped and the notebook runs as usual.  Grades and feedback are those of a run
without read-ahead.  Each run ahead has kernels and walls of its own, as any notebook has.

What is run ahead and not used (a different notebook came, or the run failed) costs only time.
A run left over from a submission whose grading stopped part-way is waited for and dropped before
the next submission's notebook starts, so at most ``read_ahead`` + 1 notebooks run at once.

May import: the standard library.
"""
import copy
import json
import threading

_LOCK = threading.Lock()
_RUNS = {}   # (submission folder, notebook name) -> _Run


def fingerprint(nb):
    """The notebook as text, without what running it adds (outputs, execution counts, timings)."""
    nb = copy.deepcopy(nb)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
            cell.get("metadata", {}).pop("execution", None)
    return json.dumps(nb, sort_keys=True)


class _Run(threading.Thread):
    """One notebook run ahead: ``run(nb)`` in a thread of its own, keeping the result or the error."""

    def __init__(self, nb, execute):
        super().__init__(name="hw4-read-ahead", daemon=False)   # the process waits for its kernels to stop
        self.input, self.execute = fingerprint(nb), execute
        self.nb, self.output, self.error = nb, None, None

    def run(self):
        try:
            self.output = self.execute(self.nb)
        except BaseException as exc:   # reported when taken; the notebook then runs as usual
            self.error = exc


def start(submission, name, nb, execute):
    """Run ``execute(nb)`` ahead for notebook ``name`` of ``submission`` (unless it already is)."""
    with _LOCK:
        if (submission, name) in _RUNS:
            return
        run = _RUNS[(submission, name)] = _Run(nb, execute)
    run.start()


def started(submission, name):
    with _LOCK:
        return (submission, name) in _RUNS


def take(submission, name, nb, log=None):
    """The executed copy of ``nb`` if it was run ahead from the same input, else None.  Runs of other
    submissions still going are waited for and dropped first."""
    with _LOCK:
        run = _RUNS.pop((submission, name), None)
        stale = [key for key in _RUNS if key[0] != submission]
        stale_runs = [_RUNS.pop(key) for key in stale]
    for other in stale_runs:
        other.join()
    if run is None:
        return None
    run.join()
    if run.error is not None:
        if log:
            log.warning("%s was run ahead but failed (%s: %s); running it again",
                        name, type(run.error).__name__, run.error)
        return None
    if run.input != fingerprint(nb):
        if log:
            log.warning("%s was run ahead from a different notebook than nbgrader's; running it again", name)
        return None
    return run.output

