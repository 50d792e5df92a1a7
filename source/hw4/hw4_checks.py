"""Checks shared by the test cells of Homework IV.

Every test cell of the four notebooks imports from here, so that a failed test
tells the student the same kind of thing everywhere: which function, which
case, what was expected and what came back.  The module is released to the
students with the notebooks (the visible tests use it too) and nbgrader copies
the instructor's version over whatever a submission holds before grading.

Nothing here knows any answer: reference values live in the (hidden) test
cells themselves.  What the checks do know is what no correct answer returns:
``None`` (a function that forgot its ``return``) and nan or inf where the
reference expects a number.  Those fail here, in one place, so that no test can
give a point to an answer that computes nothing: ``None`` read as nan would
otherwise compare equal to a nan computed from the same function's outputs.
"""
import copy
import warnings

import numpy as np

__all__ = ["call", "check_close", "check_equal", "check_true", "check_shape"]


def _show(value, precision=6):
    """Render a value compactly for a failure message."""
    if isinstance(value, np.ndarray) or isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except Exception:  # ragged lists and the like
            return repr(value)
        if arr.dtype.kind in "fc":
            return np.array2string(arr, precision=precision, threshold=30,
                                   edgeitems=3, separator=", ")
        return np.array2string(arr, threshold=30, edgeitems=3, separator=", ")
    if isinstance(value, float):
        return f"{value:.{precision + 2}g}"
    return repr(value)


def _where(case):
    return f" ({case})" if case else ""


def _forgot_return(what, case):
    """The failure for a ``None`` where a value was expected."""
    raise AssertionError(f"{what}{_where(case)}: got None instead of a value. Does the function end "
                         f"with a `return` statement that returns its result?")


def _fail(what, case, message, expected, got):
    """Raise the failure of a comparison, with both values shown below the message."""
    raise AssertionError(f"{what}{_where(case)}: {message}\n  expected: {_show(expected)}\n"
                         f"  got:      {_show(got)}")


def call(func, *args, name=None, case=None, **kwargs):
    """Call a student's function the way a test should.

    The arguments are deep-copied, so a function that modifies its inputs in
    place cannot disturb the test's own data; warnings (for example numpy's
    RuntimeWarning from ``np.log(0)``) are silenced, because a correct answer
    must not lose points for them.  Any exception becomes an AssertionError
    that names the function and the case, and so does a ``None`` result: no
    answer of this homework returns None, and a function that forgets its
    ``return`` must not pass a test that compares its results with each other.
    """
    name = name or getattr(func, "__name__", "the function")
    args = copy.deepcopy(args)
    kwargs = copy.deepcopy(kwargs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                result = func(*args, **kwargs)
    except NotImplementedError:
        raise AssertionError(f"{name} is not implemented yet{_where(case)}.") from None
    except AssertionError:
        raise
    except Exception as exc:  # the student's code failed: say how
        raise AssertionError(
            f"{name} raised {type(exc).__name__}: {exc}{_where(case)}."
        ) from None
    if result is None:
        raise AssertionError(f"{name} returned None{_where(case)}: it must return its result. "
                             f"Is the `return` statement missing?")
    return result


def check_true(condition, message):
    """Fail with ``message`` unless ``condition`` holds."""
    if not bool(condition):
        raise AssertionError(message)


def check_shape(got, shape, what, case=None):
    """Check that ``got`` is an array-like of exactly ``shape``."""
    if got is None:
        _forgot_return(what, case)
    try:
        got_shape = np.shape(got)
    except Exception:
        got_shape = None
    if got_shape != tuple(shape):
        raise AssertionError(
            f"{what}{_where(case)}: expected an array of shape {tuple(shape)}, "
            f"got {type(got).__name__} of shape {got_shape}."
        )


def check_equal(got, expected, what, case=None):
    """Check exact equality of integers, booleans or integer arrays."""
    if got is None:
        _forgot_return(what, case)
    expected_arr = np.asarray(expected)
    try:
        got_arr = np.asarray(got)
    except Exception:
        raise AssertionError(f"{what}{_where(case)}: expected {_show(expected)}, "
                             f"got {got!r}.") from None
    if got_arr.shape != expected_arr.shape:
        _fail(what, case, f"expected shape {expected_arr.shape}, got shape {got_arr.shape}.", expected, got)
    differ = got_arr != expected_arr
    if np.any(differ):
        if expected_arr.ndim == 0:
            raise AssertionError(f"{what}{_where(case)}: expected {_show(expected)}, "
                                 f"got {_show(got)}.")
        first = tuple(int(i) for i in np.argwhere(differ)[0])
        _fail(what, case, f"{int(differ.sum())} of {differ.size} entries differ (first at index {first}: "
              f"expected {expected_arr[first].item()!r}, got {got_arr[first].item()!r}).", expected, got)


def check_close(got, expected, what, case=None, rtol=1e-7, atol=1e-9, expect_nonfinite=False):
    """Check that numbers or arrays agree to a tolerance.

    ``got`` must have the expected shape, be finite, and satisfy
    ``|got - expected| <= atol + rtol * |expected|``.  nan or inf in ``got``
    passes only where ``expected`` holds the same nan or inf *and* the test says
    so with ``expect_nonfinite=True`` (an independent reference that expects
    exactly that).  Without it a non-finite ``expected`` fails the check: it can
    only come from the student's own results (a reference computed from them),
    and nan == nan must not earn a point.
    """
    if got is None:
        _forgot_return(what, case)
    expected_arr = np.asarray(expected, dtype=float)
    try:
        got_arr = np.asarray(got, dtype=float)
    except Exception:
        raise AssertionError(f"{what}{_where(case)}: expected numbers like "
                             f"{_show(expected)}, got {got!r}.") from None
    if got_arr.shape != expected_arr.shape:
        _fail(what, case, f"expected shape {expected_arr.shape}, got shape {got_arr.shape}.", expected, got)
    if not expect_nonfinite and not np.all(np.isfinite(expected_arr)):
        _fail(what, case, "cannot compare: the value to compare with holds nan or inf, so it comes from "
              "results of yours that were nan or inf (or None) earlier in this test.", expected, got)
    bad_nan = ~np.isfinite(got_arr) & np.isfinite(expected_arr)
    if np.any(bad_nan):
        first = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        _fail(what, case, f"got nan or inf where a finite number was expected (first at index {first}, "
              f"expected {expected_arr[first].item():.10g}).", expected, got)
    with np.errstate(invalid="ignore"):
        error = np.abs(got_arr - expected_arr)
        bad = ~(error <= atol + rtol * np.abs(expected_arr))
    bad &= ~(np.isnan(expected_arr) & np.isnan(got_arr))
    bad &= ~(np.isinf(expected_arr) & (got_arr == expected_arr))
    if np.any(bad):
        if expected_arr.ndim == 0:
            raise AssertionError(f"{what}{_where(case)}: expected {_show(float(expected_arr))}, "
                                 f"got {_show(float(got_arr))}.")
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        _fail(what, case, f"{int(bad.sum())} of {bad.size} entries are off (largest difference "
              f"{np.nanmax(np.where(bad, error, 0)):.3g}; first at index {first}: expected "
              f"{expected_arr[first]:.10g}, got {got_arr[first]:.10g}).", expected, got)
