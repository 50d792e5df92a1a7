"""Read-ahead: a submission's next notebook runs while nbgrader is still on this one.

nbgrader autogrades a submission's notebooks one after the other, and a notebook's two kernels take
turns (a test cell waits for the student's kernel to answer it): grading keeps one core busy, and on
a machine with two the other one waits.  (The workers of ``python -m course.parallel`` keep every core
busy already; they read ahead only on idle cores, below.)

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

Where the cores are busy already (the workers of ``python -m course.parallel``), a run ahead would
only share them.  But such a run ends with one long submission graded alone, one notebook after the
other, while the cores its neighbours used wait (the three examples on two cores: the last 7 of 22 s
on one core).  So there a notebook runs ahead only once cores have been idle (``IdleGate``,
TrustedExecute's ``read_ahead_idle_cores``: the machine's idle time from Linux's /proc/stat, over
half a second), and at once when nbgrader is only waiting for a run ahead to end (``take``'s
``while_waiting``): its own share of the cores is free then.  Once cores have been idle, *all* the
submission's later notebooks start: while the workers have submissions to grade the cores stay busy,
so an idle half second means the run is ending, and notebooks that share the cores then end together
instead of the last one alone (measured on the three examples, four runs each: 17.5 s against 17.8 s
when one notebook started per idle half second, the last one then often alone on one core).

May import: the standard library.
"""
import copy
import json
import os
import threading
import time

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
    """Run ``execute(nb)`` ahead for notebook ``name`` of ``submission``; False if it already is."""
    with _LOCK:
        if (submission, name) in _RUNS:
            return False
        run = _RUNS[(submission, name)] = _Run(nb, execute)
    run.start()
    return True


def started(submission, name):
    with _LOCK:
        return (submission, name) in _RUNS


def take(submission, name, nb, log=None, while_waiting=None):
    """The executed copy of ``nb`` if it was run ahead from the same input, else None.  Runs of other
    submissions still going are waited for and dropped first.  ``while_waiting()`` is called first if
    the run of ``nb`` is still going (the caller then waits, and its share of the cores is free)."""
    with _LOCK:
        run = _RUNS.pop((submission, name), None)
        stale = [key for key in _RUNS if key[0] != submission]
        stale_runs = [_RUNS.pop(key) for key in stale]
    for other in stale_runs:
        other.join()
    if run is None:
        return None
    if while_waiting is not None and run.is_alive():
        while_waiting()
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


def idle_jiffies():
    """(idle, total) clock ticks of all cores since boot (Linux's /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + fields[4], sum(fields[:8])   # idle + iowait; guest time is counted in user


class IdleGate(threading.Thread):
    """While it runs, waits until the machine has had ``cores`` cores idle over the last ``window``
    seconds, then calls ``start_next()`` until it returns False (nothing left to start) or ``stop()``
    is called, and ends."""

    def __init__(self, cores, start_next, window=0.5, step=0.125):
        super().__init__(name="hw4-read-ahead-gate", daemon=True)
        self.cores, self.start_next, self.window, self.step = cores, start_next, window, step
        self.ncpu = os.cpu_count() or 1
        self._halt = threading.Event()

    def run(self):
        history = []
        while not self._halt.wait(self.step):
            now = idle_jiffies()
            if now is None:
                return
            clock = time.monotonic()
            history = [h for h in history if h[0] >= clock - self.window - self.step / 2]
            history.append((clock, *now))
            (t0, idle0, total0), (t1, idle1, total1) = history[0], history[-1]
            if t1 - t0 < self.window - self.step / 2 or total1 == total0:
                continue
            if (idle1 - idle0) / (total1 - total0) * self.ncpu >= self.cores:
                while not self._halt.is_set() and self.start_next():
                    pass
                return

    def stop(self):
        self._halt.set()
        self.join()
