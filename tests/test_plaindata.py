"""The plain-data codec between the student's kernel and the trusted kernel (course.protection.plaindata).

Everything that grades crosses the wall through this codec, so it must give back exactly what was
sent, and refuse - with a message that says what was wrong - anything that is not plain data: a
decoder that unpickled, called code or built a huge object would hand the student's kernel a way in.
"""
import base64
import json
import math

import numpy as np
import pytest

from course.protection import plaindata

ROUND_TRIP = [
    None, True, False, 0, -7, 2**70, 1.5, -0.0, float("inf"), float("-inf"), "", "text with ünïcode",
    [], [1, "a", None], (1, 2.5), (), {"a": 1, "b": [1, 2]}, {},
    np.float64(2.5), np.int32(-3), np.bool_(True), np.complex128(1 + 2j),
    np.arange(6, dtype=np.float64).reshape(2, 3), np.zeros((0, 3)), np.array(4.0),
    np.array([1, 2, 3], dtype=np.uint8), np.array([[True, False]]), np.array([1 + 1j, 2 - 1j]),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.arange(10.0)[::3],
    {"means": np.eye(2), "weights": (0.5, 0.5), "nested": [{"k": np.int64(3)}]},
]


def _same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        assert b.flags.writeable, "a decoded array must be the grader's own, writable copy"
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b and (not isinstance(a, float) or math.copysign(1, a) == math.copysign(1, b))


@pytest.mark.parametrize("value", ROUND_TRIP, ids=lambda v: type(v).__name__)
def test_plain_data_round_trips_exactly(value):
    _same(value, plaindata.decode(plaindata.encode(value)))


def test_nan_round_trips_as_nan():
    back = plaindata.decode(plaindata.encode([float("nan"), np.array([np.nan, 1.0])]))
    assert math.isnan(back[0]) and np.isnan(back[1][0]) and back[1][1] == 1.0


class Sneaky:
    def __reduce__(self):  # what a pickle-based codec would run
        return (print, ("pwned",))


@pytest.mark.parametrize("value, says", [
    (Sneaky(), "Sneaky cannot be graded"),
    (lambda x: x, "function cannot be graded"),
    (np.array(["a", "b"]), "dtype <U1 cannot be graded"),
    (np.array([object()], dtype=object), "dtype object cannot be graded"),
    ({1: "int key"}, "dict cannot be graded"),
    ({"a", "b"}, "set cannot be graded"),
    (b"bytes", "bytes cannot be graded"),
])
def test_values_that_are_not_plain_data_are_refused_with_a_reason(value, says):
    with pytest.raises(TypeError, match=says):
        plaindata.encode(value)


def test_deep_nesting_is_refused_both_ways():
    deep = []
    for _ in range(30):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        plaindata.encode(deep)
    text = "[" * 30 + "]" * 30
    with pytest.raises(ValueError, match="nested too deeply"):
        plaindata.decode(text)


def test_oversized_payload_is_refused_before_parsing():
    with pytest.raises(ValueError, match="too large"):
        plaindata.decode("[" + "1," * (plaindata.MAX_BYTES // 2) + "1]")


def _array(dtype="<f8", shape=(2,), data=b"\x00" * 16, scalar=False):
    return json.dumps({"__nd__": base64.b64encode(data).decode(), "dtype": dtype, "shape": list(shape),
                       "scalar": scalar})


@pytest.mark.parametrize("text, says", [
    ("{not json", "not valid JSON"),
    (json.dumps({"__pickle__": "gASVAAAA"}), "malformed"),
    (json.dumps({"__float__": "1.0", "extra": 1}), "malformed"),
    (_array(dtype="|O8"), "refused array of dtype object"),
    (_array(dtype="not a dtype"), "unknown array dtype"),
    (_array(shape=(3,)), "does not match its shape"),
    (_array(shape=(-2,)), "refused array"),
    (_array(shape=(2**32, 2**32), data=b""), "does not match its shape"),
    (json.dumps({"__nd__": "!!!not base64", "dtype": "<f8", "shape": [1], "scalar": False}), "base64"),
    (json.dumps({"__float__": "nan; import os"}), "not a number"),
    (b"bytes are not text", "not plain data"),
])
def test_malformed_payloads_are_refused_with_a_clear_message(text, says):
    with pytest.raises(ValueError, match=says):
        plaindata.decode(text)


def test_serve_reports_the_students_exception_as_data_and_the_inputs_after_the_call():
    def halve_in_place(x):
        x /= 2
        return x.sum()

    def broken(x):
        raise KeyError("missing")

    ns = {"halve_in_place": halve_in_place, "broken": broken}
    out = plaindata.decode(plaindata.serve(ns, "halve_in_place", plaindata.encode(([np.array([2.0, 4.0])], {}))))
    assert out["result"] == 3.0 and np.array_equal(out["args"][0], [1.0, 2.0])
    out = plaindata.decode(plaindata.serve(ns, "broken", plaindata.encode(([1], {}))))
    assert out == {"error": ["KeyError", "'missing'"]}
    out = plaindata.decode(plaindata.serve({"f": lambda: object()}, "f", plaindata.encode(([], {}))))
    assert out["error"][0] == "TypeError" and "f returned data the grader cannot read" in out["error"][1]
