"""The trusted grading kernel's side of the wall: student answers as proxies and plain data.

During ``nbgrader autograde`` the test cells run in a kernel of their own (see
course/trusted_execute.py).  There, every answer the student defines is one of:

* a ``StudentFunction``: calling it sends the arguments as plain data to the
  student's kernel, runs the student's function there, and brings back the
  result as plain data (course/plaindata.py); array arguments come back as the
  function left them, so a test still sees a function that changes its inputs;
* a plain value (``hand_centers = ...``), copied over as data;
* absent, when the student did not define it (the test then fails with a
  NameError, as it would in the student's own kernel).

Nothing the student's kernel does can patch, read or skip the code of the test
cells: it only ever answers calls with data.
"""
import ast
import builtins
import time
from pathlib import Path

import numpy as np
from jupyter_client import BlockingKernelClient

from . import plaindata

CODEC = Path(plaindata.__file__).read_text()


class StudentCodeError(Exception):
    """Base of the exceptions that stand for one raised in the student's kernel."""


def _exception(name, message):
    """An exception to raise on the trusted side for one the student's code raised."""
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and not issubclass(builtin, AssertionError):
        return builtin(message)
    # AssertionError or a custom class: never let it pass for a failed check of ours
    return type(name if name.isidentifier() else "StudentError", (StudentCodeError,), {})(message)


class _CodecMissing(Exception):
    """The student's kernel no longer has the codec sent with an earlier question."""


class StudentKernel:
    """A connection to the student's kernel with a time limit per call and a budget per notebook."""

    def __init__(self, connection, call_timeout=60.0, budget=300.0):
        """``connection``: the kernel's connection info (a dict, as the grader's kernel manager has it
        after start: for a sandboxed kernel the Unix-socket paths as seen from outside) or its file."""
        self.client = BlockingKernelClient()
        if isinstance(connection, dict):
            self.client.load_connection_info(connection)
        else:
            self.client.load_connection_file(connection)
        self.client.start_channels()
        self.call_timeout = call_timeout
        self.budget = budget
        self.spent = 0.0
        self.broken = None  # why the kernel can no longer answer, once it cannot
        self.codec_sent = False

    def mark_broken(self, reason):
        self.broken = reason

    def _ask(self, expression, timeout):
        """Run the codec and ``expression`` in the student's kernel; the decoded answer."""
        if self.broken:
            raise _exception("RuntimeError", self.broken)
        if self.spent >= self.budget:
            raise _exception("TimeoutError", f"the grading time budget of this notebook "
                                             f"({self.budget:.0f} s of your code) is used up")
        try:
            return self._ask_once(expression, timeout, with_codec=not self.codec_sent)
        except _CodecMissing:  # the student's code removed it (say, %reset): send it again
            return self._ask_once(expression, timeout, with_codec=True)

    def _ask_once(self, expression, timeout, with_codec):
        # the codec is sent with the first question only and kept in the student's kernel: what it
        # answers is decoded as plain data here whatever the student does to it, as are the answers
        # the question itself is a user expression: with no code to run, IPython skips compiling a
        # cell and its hooks, a few milliseconds per call
        code = f"__hw4_codec = {{}}\nexec({CODEC!r}, __hw4_codec)\n" if with_codec else ""
        start = time.monotonic()
        msg_id = self.client.execute(code, silent=True, store_history=False,
                                     user_expressions={"out": expression}, allow_stdin=False)
        limit = min(timeout, self.budget - self.spent)
        reply, interrupted = None, False
        while reply is None:
            remaining = start + limit + (10 if interrupted else 0) - time.monotonic()
            if remaining <= 0:
                if interrupted:
                    self.broken = "your notebook's kernel stopped answering (it was interrupted after a time-out)"
                    raise _exception("TimeoutError", self.broken)
                interrupted = True
                self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))
                continue
            try:
                msg = self.client.get_shell_msg(timeout=min(remaining, 1.0))
            except Exception:  # queue.Empty: keep waiting
                if not self.client.is_alive():
                    self.broken = "your notebook's kernel died"
                    raise _exception("RuntimeError", self.broken) from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                reply = msg
        self.spent += time.monotonic() - start
        content = reply["content"]
        out = content.get("user_expressions", {}).get("out", {})
        if not with_codec and out.get("status") != "ok" and out.get("ename") in ("NameError", "KeyError", "TypeError"):
            self.codec_sent = False
            raise _CodecMissing()
        if content.get("status") == "ok":
            self.codec_sent = True
        if content.get("status") != "ok" or out.get("status") != "ok":
            raise _exception("RuntimeError", "the grader could not read your answer from your kernel "
                                             f"({content.get('ename') or out.get('ename')})")
        try:
            return plaindata.decode(ast.literal_eval(out["data"]["text/plain"]))
        except (ValueError, SyntaxError, KeyError, TypeError) as exc:
            raise _exception("RuntimeError", f"your kernel answered with something that is not data: {exc}") from None

    def call(self, name, args, kwargs):
        payload = plaindata.encode((tuple(args), dict(kwargs)))
        return self._ask(f"__hw4_codec['serve'](globals(), {name!r}, {payload!r})", self.call_timeout)

    def describe(self, names):
        return self._ask(f"__hw4_codec['describe'](globals(), {list(names)!r})", self.call_timeout)


class StudentFunction:
    """Stands for a function defined in the student's kernel."""

    def __init__(self, kernel, name):
        self._kernel, self.__name__, self.__qualname__ = kernel, name, name

    def __repr__(self):
        return f"<your function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        outcome = self._kernel.call(self.__name__, args, kwargs)
        if "error" in outcome:
            raise _exception(*outcome["error"])
        for sent, back in zip(args, outcome["args"]):
            if (isinstance(sent, np.ndarray) and isinstance(back, np.ndarray) and sent.shape == back.shape
                    and sent.flags.writeable and not np.array_equal(sent, back, equal_nan=True)):
                sent[...] = back  # the student's function changed its input: so does the proxy
        return outcome["result"]


class BrokenAnswer:
    """Any answer of a student whose kernel can no longer answer: calling or reading it tells why."""

    def __init__(self, name, why):
        self.__name__, self.why = name, why

    def __repr__(self):
        return f"<{self.__name__}: unavailable because {self.why}>"

    def __call__(self, *args, **kwargs):
        raise _exception("RuntimeError", self.why)


class Unreadable:
    """An answer that exists in the student's kernel but is not plain data."""

    def __init__(self, name, why):
        self.name, self.why = name, why

    def __repr__(self):
        return f"<{self.name}: the grader could not read it ({self.why})>"


def sync(namespace, kernel, names):
    """Bring the student's answers ``names`` into ``namespace`` as proxies or data."""
    try:
        described = kernel.describe(names)
    except Exception as exc:  # a dead or stuck kernel: every answer fails with the reason
        described = {name: {"kind": "unsendable", "why": str(exc)} for name in names}
    for name in names:
        entry = described.get(name, {"kind": "missing"})
        if entry["kind"] == "function":
            namespace[name] = StudentFunction(kernel, name)
        elif entry["kind"] == "data":
            namespace[name] = plaindata.decode(entry["value"])
        elif entry["kind"] == "unsendable":
            if kernel.broken:
                namespace[name] = BrokenAnswer(name, kernel.broken)
            else:
                namespace[name] = Unreadable(name, entry.get("why", "?"))
        else:
            namespace.pop(name, None)
