"""Plain data across the wall between a student's kernel and the trusted grading kernel.

Only numbers, strings, booleans, None, lists, tuples, dicts with string keys
and numeric numpy arrays or scalars cross; anything else is refused.  Decoding
never unpickles and never calls code, so whatever a student's kernel sends back
is data the grading side can only compare.

The same source text is sent to the student's kernel (it has no access to this
package), so the module depends on nothing but the standard library and numpy.

``session`` is the student's side of a test cell's calls (bridge.py): a loop, started by one
execute request, that answers calls and descriptions over a Unix socket the grading side listens
on, a frame (``FRAME`` header: request id, length; then JSON text) each way.  A call then costs a
socket round trip instead of a kernel message round trip (4 ms).
"""
import base64
import json
import math
import struct

import numpy as np

MAX_BYTES = 64 * 2**20          # refuse payloads beyond this size
FRAME = ">IQ"                   # a session frame's header: request id, length of the JSON text after it
_KINDS = "biufc"                # bool, int, uint, float, complex arrays only


def encode(value):
    """value -> JSON text; TypeError for anything that is not plain data."""
    return json.dumps(_enc(value, 0))


def _enc(value, depth):
    if depth > 20:
        raise TypeError("data nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return value if not isinstance(value, float) else {"__float__": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.kind not in _KINDS:
            raise TypeError(f"an array of dtype {arr.dtype} cannot be graded")
        arr = np.array(arr, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        return {"__nd__": base64.b64encode(arr.tobytes()).decode("ascii"),
                "dtype": arr.dtype.str, "shape": list(arr.shape),
                "scalar": isinstance(value, np.generic)}
    if isinstance(value, list):
        return [_enc(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return {"__tuple__": [_enc(v, depth + 1) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _enc(v, depth + 1) for k, v in value.items()}}
    raise TypeError(f"a {type(value).__name__} cannot be graded (only numbers, arrays, "
                    "lists, tuples and dicts of them)")


def decode(text):
    """JSON text -> value; ValueError, saying what was wrong, for anything malformed."""
    if not isinstance(text, str):
        raise ValueError(f"the answer is not plain data (a {type(text).__name__}, not text)")
    if len(text) > MAX_BYTES:
        raise ValueError(f"the answer is too large ({len(text)} bytes; at most {MAX_BYTES})")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the answer is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise ValueError("data nested too deeply") from None
    return _dec(obj, 0)


def _dec(obj, depth):
    if depth > 20:
        raise ValueError("data nested too deeply")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj
    if isinstance(obj, list):
        return [_dec(v, depth + 1) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"__float__"}:
            try:
                return float(str(obj["__float__"]))
            except ValueError:
                raise ValueError(f"a float that is not a number: {str(obj['__float__'])[:40]!r}") from None
        if set(obj) == {"__tuple__"}:
            return tuple(_dec(v, depth + 1) for v in obj["__tuple__"])
        if set(obj) == {"__dict__"}:
            return {str(k): _dec(v, depth + 1) for k, v in obj["__dict__"].items()}
        if set(obj) == {"__nd__", "dtype", "shape", "scalar"}:
            try:
                dtype = np.dtype(str(obj["dtype"]))
            except TypeError:
                raise ValueError(f"unknown array dtype {str(obj['dtype'])[:40]!r}") from None
            if not isinstance(obj["shape"], list) or not all(type(n) is int for n in obj["shape"]):
                raise ValueError("an array shape must be a list of integers")
            shape = tuple(obj["shape"])
            if dtype.kind not in _KINDS or any(n < 0 for n in shape):
                raise ValueError(f"refused array of dtype {dtype} and shape {shape}")
            try:
                raw = base64.b64decode(str(obj["__nd__"]), validate=True)
            except ValueError:
                raise ValueError("array data is not base64") from None
            if len(raw) != dtype.itemsize * math.prod(shape):  # exact: Python integers do not overflow
                raise ValueError("array data does not match its shape")
            arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
            return arr[()] if obj["scalar"] else arr
    raise ValueError("malformed data")


def serve(namespace, name, payload):
    """Student side: call ``namespace[name]`` with decoded arguments; encoded outcome.

    The outcome holds the result, or the exception's type and message, and the
    array arguments as they are after the call (so that a test can see a
    function that changes its inputs).
    """
    import warnings
    try:
        args, kwargs = decode(payload)
        func = namespace[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                result = func(*args, **kwargs)
        try:
            return encode({"result": result, "args": list(args)})
        except TypeError as exc:
            return encode({"error": ["TypeError", f"{name} returned data the grader cannot read: {exc}"]})
    except KeyboardInterrupt:
        return encode({"error": ["TimeoutError", f"{name} was stopped: it took too long"]})
    except BaseException as exc:  # the student's code failed; report it as data
        return encode({"error": [type(exc).__name__, str(exc)[:2000]]})


def describe(namespace, names):
    """Student side: for each name, 'function', its value as data, or why it cannot be sent."""
    out = {}
    for name in names:
        if name not in namespace:
            out[name] = {"kind": "missing"}
        elif callable(namespace[name]):
            out[name] = {"kind": "function"}
        else:
            try:
                out[name] = {"kind": "data", "value": encode(namespace[name])}
            except TypeError as exc:
                out[name] = {"kind": "unsendable", "why": str(exc)}
    return encode(out)


def frame(ident, text):
    """One session frame: the ``FRAME`` header (``ident``, the length) and ``text`` as UTF-8."""
    data = text.encode()
    return struct.pack(FRAME, ident, len(data)) + data


def session(namespace, path):
    """Student side: connect to the grading side at ``path`` and answer its requests until it says
    "end" or closes.  A request is ``{"op": "call", "name", "payload"}``, ``{"op": "describe",
    "names"}`` or ``{"op": "end"}``; each answer is what ``serve`` or ``describe`` returns."""
    import socket
    size = struct.calcsize(FRAME)

    def read(sock, n):
        chunks = []
        while n:
            chunk = sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        while True:
            ident, length = struct.unpack(FRAME, read(sock, size))
            request = json.loads(read(sock, length))
            if request.get("op") == "call":
                answer = serve(namespace, request["name"], request["payload"])
            elif request.get("op") == "describe":
                answer = describe(namespace, request["names"])
            else:
                return
            sock.sendall(frame(ident, answer))
    except EOFError:
        return
    finally:
        sock.close()
