"""The trusted kernel's side of the wall (course.protection.bridge), without any kernel.

What a student's code raises or returns reaches the tests only as data; these tests drive the
proxies with a stand-in for the student's kernel that answers as the real one does.
"""
import numpy as np
import pytest

from course.protection import bridge, plaindata


class FakeKernel:
    """Answers like StudentKernel: outcomes as the student's kernel encodes them."""

    broken = None

    def __init__(self, namespace):
        self.namespace = namespace

    def call(self, name, args, kwargs):
        payload = plaindata.encode((tuple(args), dict(kwargs)))
        return plaindata.decode(plaindata.serve(self.namespace, name, payload))

    def describe(self, names):
        return plaindata.decode(plaindata.describe(self.namespace, names))


@pytest.mark.parametrize("name", ["ValueError", "ZeroDivisionError", "IndexError", "TimeoutError", "KeyError"])
def test_builtin_exceptions_cross_as_themselves(name):
    exc = bridge._exception(name, "message")
    assert type(exc).__name__ == name and isinstance(exc, Exception) and str(exc).strip("'") == "message"


@pytest.mark.parametrize("name", ["AssertionError", "SystemExit", "KeyboardInterrupt", "GeneratorExit",
                                  "MyOwnError", "not an identifier!"])
def test_exceptions_that_could_pass_for_a_verdict_or_stop_grading_never_cross_as_themselves(name):
    exc = bridge._exception(name, "from the student")
    # an AssertionError raised by student code must not read as a failed check of ours, and a
    # SystemExit/KeyboardInterrupt must not stop the grading kernel: both become StudentCodeError
    assert isinstance(exc, bridge.StudentCodeError)
    assert not isinstance(exc, (AssertionError, SystemExit, KeyboardInterrupt, GeneratorExit))
    assert type(exc).__name__ == (name if name.isidentifier() else "StudentError")


def test_a_student_function_is_called_across_the_wall_with_its_errors_and_input_changes():
    def centre(x):
        x -= x.mean()
        return x

    def fails(x):
        raise AssertionError("student assert")

    kernel = FakeKernel({"centre": centre, "fails": fails})
    data = np.array([1.0, 2.0, 3.0])
    result = bridge.StudentFunction(kernel, "centre")(data)
    assert np.array_equal(result, [-1.0, 0.0, 1.0])
    assert np.array_equal(data, [-1.0, 0.0, 1.0]), "a function that changes its input changes the test's array too"
    with pytest.raises(bridge.StudentCodeError, match="student assert"):
        bridge.StudentFunction(kernel, "fails")(data)


def test_sync_brings_functions_data_and_missing_names_as_what_they_are():
    ns = {"f": lambda x: x + 1, "k": 3, "mat": np.eye(2), "gen": (i for i in range(3))}
    graded = {"stale": "left over from an earlier sync"}
    bridge.sync(graded, FakeKernel(ns), ["f", "k", "mat", "gen", "stale"])
    assert isinstance(graded["f"], bridge.StudentFunction) and graded["f"](1) == 2
    assert graded["k"] == 3 and np.array_equal(graded["mat"], np.eye(2))
    assert isinstance(graded["gen"], bridge.Unreadable) and "generator cannot be graded" in repr(graded["gen"])
    assert "stale" not in graded, "a name the student no longer defines must not keep an old value"


def test_a_dead_kernel_makes_every_answer_fail_with_the_reason():
    class DeadKernel(FakeKernel):
        broken = "your notebook's kernel died"

        def describe(self, names):
            raise RuntimeError(self.broken)

    graded = {}
    bridge.sync(graded, DeadKernel({}), ["kmeans"])
    with pytest.raises(RuntimeError, match="kernel died"):
        graded["kmeans"]([1.0])


def test_an_over_time_question_is_interrupted_once_then_declared_stuck(monkeypatch):
    """One limit per question: the first time it is up the kernel is interrupted and gets the grace
    period, the second time the kernel is stuck; asking again in between interrupts nothing more."""
    class Kernel:
        interrupts = 0

        def _stuck(self, interrupted):
            if interrupted:
                raise TimeoutError("stuck")
            self.interrupts += 1

    now = [100.0]
    monkeypatch.setattr(bridge.time, "monotonic", lambda: now[0])
    kernel = Kernel()
    limit = bridge._Limit(kernel, 5.0)
    assert limit.left() == 5.0 and kernel.interrupts == 0
    now[0] = 106.0
    assert limit.left() == bridge.INTERRUPT_GRACE_S and kernel.interrupts == 1
    now[0] = 106.0 + bridge.INTERRUPT_GRACE_S / 2
    assert limit.left() == bridge.INTERRUPT_GRACE_S / 2 and kernel.interrupts == 1
    now[0] = 106.0 + bridge.INTERRUPT_GRACE_S + 1
    with pytest.raises(TimeoutError, match="stuck"):
        limit.left()
    assert kernel.interrupts == 1
