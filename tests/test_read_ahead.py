"""Read-ahead (course/protection/read_ahead.py): a notebook run ahead is used only if it is the very
notebook nbgrader hands over, and grading with it gives what grading without it gives.

The fast tests drive the module with plain functions in place of a notebook's execution; the slow
one grades the examples without read-ahead and compares every score and every output with the
session's graded course, which was graded with it (the default).
"""
import copy
import json
import logging
import re
import threading
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course import gradebook, pipeline
from course.authoring import examples
from course.protection import read_ahead

from support.course import ROOT


NOTEBOOK = new_notebook(cells=[new_markdown_cell("# A"), new_code_cell("x = 1")])


def _notebook(source="x = 1"):
    """A copy of NOTEBOOK (the same cell ids), its code cell's source ``source``."""
    nb = copy.deepcopy(NOTEBOOK)
    nb.cells[1].source = source
    return nb


def _executed(nb):
    done = copy.deepcopy(nb)
    done.cells[1].outputs = [new_output("stream", name="stdout", text="ran\n")]
    done.cells[1].execution_count = 1
    return done


def test_the_fingerprint_leaves_out_what_running_adds_and_nothing_else():
    nb = _notebook()
    ran = _executed(nb)
    ran.cells[1].metadata["execution"] = {"iopub.status.idle": "2026-12-02T10:00:00"}
    assert read_ahead.fingerprint(ran) == read_ahead.fingerprint(nb)
    for change in (lambda n: n.cells[1].update(source="x = 2"),
                   lambda n: n.cells[1].metadata.update(nbgrader={"grade": True}),
                   lambda n: n.cells.pop(0),
                   lambda n: n.metadata.update(kernelspec={"name": "other"})):
        other = _notebook()
        change(other)
        assert read_ahead.fingerprint(other) != read_ahead.fingerprint(nb), "a change in the notebook was missed"


def test_a_notebook_run_ahead_is_used_when_nbgrader_hands_over_the_same_one():
    nb = _notebook()
    read_ahead.start("sub-a", "one", nb, _executed)
    read_ahead.start("sub-a", "one", nb, lambda nb: pytest.fail("the same notebook was run ahead twice"))
    done = read_ahead.take("sub-a", "one", _notebook())
    assert done is not None and done.cells[1].outputs[0].text == "ran\n"
    assert not read_ahead.started("sub-a", "one"), "a run was kept after it was taken"
    assert read_ahead.take("sub-a", "one", _notebook()) is None, "a run was used twice"


def test_a_different_notebook_or_a_failed_run_is_not_used(caplog):
    log = logging.getLogger("test_read_ahead")
    read_ahead.start("sub-b", "one", _notebook("x = 1"), _executed)
    with caplog.at_level(logging.WARNING):
        assert read_ahead.take("sub-b", "one", _notebook("x = 2"), log) is None
    assert "from a different notebook" in caplog.text

    def fails(nb):
        raise RuntimeError("the template went away")
    read_ahead.start("sub-b", "two", _notebook(), fails)
    with caplog.at_level(logging.WARNING):
        assert read_ahead.take("sub-b", "two", _notebook(), log) is None
    assert "RuntimeError: the template went away" in caplog.text


def test_a_run_of_another_submission_is_waited_for_and_dropped():
    release = threading.Event()
    finished = []

    def slow(nb):
        release.wait(10)
        finished.append(True)
        return _executed(nb)
    read_ahead.start("sub-c", "two", _notebook(), slow)
    threading.Timer(0.2, release.set).start()
    assert read_ahead.take("sub-d", "one", _notebook()) is None
    assert finished == [True], "the next submission started before the last one's run ahead had ended"
    assert not read_ahead.started("sub-c", "two")


def _outputs(folder, student):
    """Every code cell's outputs of a student's autograded notebooks, scratch folder names taken out."""
    found = {}
    for path in sorted((folder / "autograded" / student / "hw4").glob("*.ipynb")):
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type == "code":
                text = json.dumps(cell.outputs, sort_keys=True)
                found[(path.stem, index)] = re.sub(r"hw4_(student|trusted)_[a-z0-9_]+", "TMP", text)
    return found


@pytest.mark.slow
def test_grading_with_read_ahead_gives_the_grades_and_outputs_of_grading_without(graded_course, tmp_path):
    """The session's course was graded with read-ahead (the default): the log shows that every
    submission's later notebooks were taken from it; graded again without, nothing differs."""
    folder, scores, students = graded_course
    log = (folder / "nbgrader.log").read_text() if (folder / "nbgrader.log").exists() else ""
    used = re.findall(r"Using (\w+) as it was run ahead", log)
    assert len(used) >= 3 * len(students), f"read-ahead was not used for each submission's later notebooks: {used}"
    course = pipeline.scratch_course(tmp_path, config_lines=["c.TrustedExecute.read_ahead = 0"])
    pipeline.generate(tmp_path)
    examples.submit_examples(tmp_path, ROOT / "examples")
    pipeline.autograde(tmp_path)
    assert gradebook.scores(course) == scores
    for student in students:
        assert _outputs(tmp_path, student) == _outputs(folder, student), f"{student}'s outputs differ"


def test_parallel_workers_read_ahead_only_on_idle_cores_unless_told_otherwise():
    """course.parallel's workers run notebooks ahead only on idle cores; an nbgrader argument that sets
    an option replaces the workers' own (nbgrader refuses an option given twice)."""
    from course.parallel.grade_class import worker_nbgrader_args
    gated = ["--TrustedExecute.read_ahead=3", "--TrustedExecute.read_ahead_idle_cores=0.75"]
    assert worker_nbgrader_args([]) == gated
    assert worker_nbgrader_args(["--Execute.timeout=5"]) == [*gated, "--Execute.timeout=5"]
    assert worker_nbgrader_args(["--TrustedExecute.read_ahead=0"]) == [gated[1], "--TrustedExecute.read_ahead=0"]


class _Machine:
    """/proc/stat of a two-core machine whose clock ticks 100 per core at each reading: busy, or
    with ``idle`` cores idle."""

    def __init__(self):
        self.idle, self.ticks, self.ticks_idle = 0.0, 0, 0

    def __call__(self):
        self.ticks += 200
        self.ticks_idle += int(100 * self.idle)
        return self.ticks_idle, self.ticks


def _gate(monkeypatch, start_next, cores=0.75):
    machine = _Machine()
    monkeypatch.setattr(read_ahead, "idle_jiffies", machine)
    gate = read_ahead.IdleGate(cores, start_next, window=0.1, step=0.01)
    gate.ncpu = 2
    return machine, gate


def test_the_idle_gate_starts_nothing_while_the_cores_are_busy_then_every_run_left_on_an_idle_window(monkeypatch):
    started = []

    def start_next():
        started.append(time.monotonic())
        return len(started) < 3   # three notebooks to run ahead
    machine, gate = _gate(monkeypatch, start_next)
    machine.idle = 0.5   # half a core idle: below the gate's 0.75
    gate.start()
    time.sleep(0.3)
    machine.idle = 0.0
    time.sleep(0.3)
    assert started == [], "a notebook was run ahead while the cores were busy"
    machine.idle, opened = 1.0, time.monotonic()
    gate.join(timeout=10)
    assert not gate.is_alive(), "the gate went on after there was nothing left to run ahead"
    assert len(started) == 3, "not every notebook left was started once the cores were idle"
    # the window's average reaches 0.75 idle cores three quarters of a window after the core went idle
    assert started[0] - opened >= 0.06, "a run started before the window had 0.75 cores idle"
    assert started[-1] - started[0] < 0.05, "the notebooks left did not start together"


def test_the_idle_gate_ends_after_one_idle_window_though_a_run_is_left(monkeypatch):
    """Starting stops at the first False (nothing more to start): the gate then ends, and never calls
    ``start_next`` again on a later idle window."""
    calls = []

    def start_next():
        calls.append(time.monotonic())
        return False   # the only notebook left could not be started (say, nbgrader has it already)
    machine, gate = _gate(monkeypatch, start_next)
    machine.idle = 2.0
    gate.start()
    gate.join(timeout=10)
    assert not gate.is_alive() and len(calls) == 1


def test_the_idle_gate_stops_when_told_and_starts_nothing_without_proc_stat(monkeypatch):
    _, gate = _gate(monkeypatch, lambda: pytest.fail("a run started on a busy machine"))
    gate.start()
    time.sleep(0.05)
    stopped = time.monotonic()
    gate.stop()
    assert not gate.is_alive() and time.monotonic() - stopped < 1, "the gate did not stop at once"

    monkeypatch.setattr(read_ahead, "idle_jiffies", lambda: None)   # no /proc/stat (not Linux)
    gate = read_ahead.IdleGate(0.75, lambda: pytest.fail("a run started without a measure of idle cores"),
                               window=0.1, step=0.01)
    gate.start()
    gate.join(timeout=5)
    assert not gate.is_alive()


def test_taking_a_run_still_going_lets_the_next_one_start_first():
    """While nbgrader waits for a notebook run ahead, its own share of the cores is free: ``take``
    calls ``while_waiting`` first (TrustedExecute starts the next notebook), and only then."""
    release, calls = threading.Event(), []

    def slow(nb):
        release.wait(10)
        return _executed(nb)
    read_ahead.start("sub-e", "one", _notebook(), slow)
    done = read_ahead.take("sub-e", "one", _notebook(), while_waiting=lambda: (calls.append(1), release.set()))
    assert calls == [1] and done is not None
    read_ahead.start("sub-e", "two", _notebook(), _executed)
    time.sleep(0.2)   # finished by now
    assert read_ahead.take("sub-e", "two", _notebook(), while_waiting=lambda: calls.append(2)) is not None
    assert calls == [1], "while_waiting was called for a run that had ended"
