"""Student-side code of the corpus's answer families: answers that compute nothing, and broken ones.

The corpus tool puts this file's functions and constants into a submission as a student's helpers,
and writes, for every answer function F of the notebook, a one-line ``F`` that calls ``_family_answer``.
The family's answer is made from what the reference solution returns, so that it has the right
shape and type whenever the family says so ("zeros of the right shape"), without a hand-written
file per function: the reference code runs in a namespace of its own (``_REFERENCE_SOURCE``, filled
in by the tool), and its result is then thrown away or spoiled the family's way.  Nothing here is
graded: it only has to be code a student could have written.
"""
import numpy as np

_FAMILY = "zeros"            # replaced by the corpus tool
_REFERENCE_SOURCE = ""       # replaced by the corpus tool: the notebook's reference answer cells
_REFERENCE_NAMESPACE = {}
_FAMILY_CALLS = [0]


def _family_reference(name):
    """The reference solution's ``name``, run in its own namespace (never this submission's)."""
    if not _REFERENCE_NAMESPACE:
        namespace = {"np": np, "__name__": "family_reference"}
        exec(_REFERENCE_SOURCE, namespace)
        _REFERENCE_NAMESPACE.update(namespace)
    return _REFERENCE_NAMESPACE[name]


def _family_arguments(args, kwargs):
    return list(args) + list(kwargs.values())


def _family_leaf(value, family, arguments):
    """What the family returns in place of one number or array the reference returned."""
    if isinstance(value, (bool, np.bool_)):
        return value
    if isinstance(value, list):
        return list(_family_leaf(np.asarray(value), family, arguments))
    arr = np.asarray(value)
    scalar = arr.ndim == 0 and not isinstance(value, np.ndarray)
    dtype = arr.dtype if arr.dtype.kind in "iuf" else np.dtype(float)
    if family == "zeros":
        out = np.zeros(arr.shape, dtype)
    elif family == "ones":
        out = np.ones(arr.shape, dtype)
    elif family == "constant":
        out = np.full(arr.shape, 2.5).astype(dtype)
    elif family == "uniform":
        out = np.full(arr.shape, 1.0 / (arr.shape[-1] if arr.ndim else 1)).astype(dtype)
    elif family == "identity":
        if arr.ndim >= 2:
            out = np.broadcast_to(np.eye(arr.shape[-2], arr.shape[-1]), arr.shape).astype(dtype)
        else:
            out = np.arange(arr.size).reshape(arr.shape).astype(dtype) + (1 if arr.ndim == 0 else 0)
    elif family == "random":
        _FAMILY_CALLS[0] += 1
        rng = np.random.default_rng(_FAMILY_CALLS[0])
        if dtype.kind == "f":
            out = rng.random(arr.shape)
            if arr.ndim >= 2:      # a random matrix whose rows sum to one
                out = out / out.sum(axis=-1, keepdims=True)
            out = out.astype(dtype)
        else:
            out = rng.integers(0, 3, size=arr.shape).astype(dtype)
    elif family == "inputs":
        same = [a for a in arguments if np.shape(a) == arr.shape and not isinstance(a, (str, bool))]
        return same[0] if same else arguments[0]
    elif family == "nan":
        out = np.full(arr.shape, np.nan)
    else:
        raise ValueError(f"unknown family {family!r}")
    return out.item() if scalar else out


def _family_spoil(value, family, arguments):
    """The reference's return value, spoiled leaf by leaf (tuples keep their length)."""
    if isinstance(value, tuple):
        return tuple(_family_spoil(v, family, arguments) for v in value)
    return _family_leaf(value, family, arguments)


def _family_wrong_length(value):
    """The right type with the wrong length: every array one row short (a one-row array doubled),
    a list one item short, a number made a pair; a tuple keeps its length, its items spoiled so."""
    if isinstance(value, tuple):
        return tuple(_family_wrong_length(v) for v in value)
    if isinstance(value, list):
        return value[:-1] if len(value) > 1 else value + value
    arr = np.asarray(value)
    if arr.ndim == 0:
        return np.array([value, value])
    return arr[:-1] if len(arr) > 1 else np.concatenate([arr, arr])


def _family_answer(name, args, kwargs):
    """The family's answer for a call of the answer function ``name``."""
    family = _FAMILY
    arguments = _family_arguments(args, kwargs)
    if family == "none":
        return None
    if family == "returns_nan":
        return float("nan")
    if family == "raises_some":
        sizes = sum(int(np.size(a)) for a in arguments if not isinstance(a, str))
        if sizes % 2 == 1:
            raise ValueError(f"{name} cannot handle inputs of odd total size {sizes}")
        return _family_reference(name)(*args, **kwargs)
    result = _family_reference(name)(*args, **kwargs)
    if family == "no_return":    # the generated answer calls this and forgets to return the result
        return result
    if family == "wrong_length":
        return _family_wrong_length(result)
    return _family_spoil(result, family, arguments)
