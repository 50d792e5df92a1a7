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
import itertools
import json
import os
import secrets
import select
import socket
import struct
import time
from pathlib import Path
from queue import Empty

import numpy as np
import zmq
from jupyter_client import BlockingKernelClient

from . import plaindata

CODEC = Path(plaindata.__file__).read_text()
HEADER = struct.calcsize(plaindata.FRAME)
LOST_WAIT_S = 3.0   # how long a lost session waits to tell a dead kernel from one whose code closed it
INTERRUPT_GRACE_S = 10.0   # how long an over-time question may still take after its kernel is interrupted


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


class _NoSession(Exception):
    """A session could not be opened: the questions go one execute request each instead."""


class _Limit:
    """The time one question may take: past it the student's kernel is interrupted once and gets
    ``INTERRUPT_GRACE_S`` more; past that it is stuck (``StudentKernel._stuck`` raises)."""

    def __init__(self, kernel, seconds):
        self.kernel, self.deadline, self.interrupted = kernel, time.monotonic() + seconds, False

    def left(self):
        """Seconds left (more than 0), interrupting the kernel when the time is up."""
        remaining = self.deadline - time.monotonic()
        if remaining > 0:
            return remaining
        self.kernel._stuck(self.interrupted)
        self.interrupted, self.deadline = True, time.monotonic() + INTERRUPT_GRACE_S
        return INTERRUPT_GRACE_S


class StudentKernel:
    """A connection to the student's kernel with a time limit per call and a budget per notebook.

    Questions (calls, descriptions) go through a *session* when one can be opened: one execute
    request runs ``plaindata.session`` in the student's kernel, which connects to a Unix socket this
    side listens on, in the folder of the kernel's own sockets, and answers questions there until
    ``end_session`` (after each trusted cell).  A question then costs a socket round trip, not a kernel
    message round trip (4 ms).  Without a session (no Unix-socket transport, or the student's code
    broke it) every question is an execute request of its own.  Either way what comes back is only
    ever decoded as plain data, and the time limits are the same."""

    def __init__(self, connection, call_timeout=60.0, budget=300.0, kernel_dir=None):
        """``connection``: the kernel's connection info (a dict, as the grader's kernel manager has it
        after start: for a sandboxed kernel the Unix-socket paths as seen from outside) or its file.
        ``kernel_dir``: the folder of those sockets as the student's kernel sees it (None: no sessions)."""
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
        self.sessions = kernel_dir is not None and self.client.transport == "ipc"
        self._host_dir = os.path.dirname(self.client.ip) if self.sessions else None
        self._kernel_dir = kernel_dir
        self._session = self._session_msg = None
        self._ids = itertools.count(1)

    def mark_broken(self, reason):
        self.broken = reason
        self.end_session()

    def _ask(self, request, timeout):
        """Ask the student's kernel ``request`` (see ``plaindata.session``); the decoded answer."""
        if self.broken:
            raise _exception("RuntimeError", self.broken)
        if self.spent >= self.budget:
            raise _exception("TimeoutError", f"the grading time budget of this notebook "
                                             f"({self.budget:.0f} s of your code) is used up")
        if self.sessions:
            try:
                return self._ask_in_session(request, timeout)
            except _NoSession:
                self.sessions = False   # the student's code keeps sessions from working: one request per question
        expression = (f"__hw4_codec['serve'](globals(), {request['name']!r}, {request['payload']!r})"
                      if request["op"] == "call" else f"__hw4_codec['describe'](globals(), {request['names']!r})")
        try:
            return self._ask_once(expression, timeout, with_codec=not self.codec_sent)
        except _CodecMissing:  # the student's code removed it (say, %reset): send it again
            return self._ask_once(expression, timeout, with_codec=True)

    def _limit(self, timeout):
        """The limit of one question: ``timeout``, but never past what is left of the notebook's budget."""
        return _Limit(self, min(timeout, self.budget - self.spent))

    # ---- sessions
    def _ask_in_session(self, request, timeout):
        start = time.monotonic()
        limit = self._limit(timeout)   # one limit: opening, asking, answer
        try:
            if self._session is None:
                self._open_session(limit)
            ident = next(self._ids)
            self._session.settimeout(limit.left())
            try:
                self._session.sendall(plaindata.frame(ident, json.dumps(request)))
                answer_id, length = struct.unpack(plaindata.FRAME, self._receive(HEADER, limit))
                if answer_id != ident or length > plaindata.MAX_BYTES:
                    raise ValueError("a malformed answer")
                text = self._receive(length, limit).decode("utf-8", "replace")
            except (OSError, ValueError, EOFError) as exc:
                if self.broken:   # _stuck's verdict (a TimeoutError is an OSError too)
                    raise
                self._lost(exc)
        finally:
            self.spent += time.monotonic() - start
        try:
            return plaindata.decode(text)
        except ValueError as exc:
            raise _exception("RuntimeError", f"your kernel answered with something that is not data: {exc}") from None

    def _open_session(self, limit):
        path = os.path.join(self._host_dir, f"bridge-{secrets.token_hex(8)}")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(path)
            listener.listen(1)
        except OSError:
            listener.close()
            raise _NoSession() from None
        try:
            inner = os.path.join(self._kernel_dir, os.path.basename(path))
            for with_codec in (not self.codec_sent, True):
                code = f"__hw4_codec = {{}}\nexec({CODEC!r}, __hw4_codec)\n" if with_codec else ""
                msg_id = self.client.execute(code + f"__hw4_codec['session'](globals(), {inner!r})",
                                             silent=True, store_history=False, allow_stdin=False)
                conn = self._connection(listener, msg_id, limit)
                if conn is not None:
                    self._session, self._session_msg, self.codec_sent = conn, msg_id, True
                    return
                self.codec_sent = False  # the request ended without connecting: codec removed or replaced
            raise _NoSession()
        finally:
            listener.close()
            try:
                os.unlink(path)   # one connection per session: nobody else can connect to it
            except OSError:
                pass

    def _connection(self, listener, msg_id, limit):
        """The session's socket, or None when the request that should connect ended first."""
        poller = zmq.Poller()
        poller.register(listener, zmq.POLLIN)
        poller.register(self.client.shell_channel.socket, zmq.POLLIN)
        while True:
            events = dict(poller.poll(min(limit.left(), 1.0) * 1000))
            if listener.fileno() in events:
                conn, _ = listener.accept()
                return conn
            if events:
                try:
                    msg = self.client.get_shell_msg(timeout=0)
                except Empty:
                    continue
                if msg["parent_header"].get("msg_id") == msg_id:
                    return None
            elif not self.client.is_alive():
                self.broken = "your notebook's kernel died"
                raise _exception("RuntimeError", self.broken)

    def _receive(self, n, limit):
        chunks = []
        while n:
            if not select.select([self._session], [], [], min(limit.left(), 1.0))[0]:
                continue
            chunk = self._session.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the connection was closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _stuck(self, interrupted):
        if interrupted:
            self.broken = "your notebook's kernel stopped answering (it was interrupted after a time-out)"
            self.end_session()
            raise _exception("TimeoutError", self.broken)
        self.client.control_channel.send(self.client.session.msg("interrupt_request", {}))

    def _lost(self, exc):
        """The session ended under a question: the kernel died, or the student's code closed it.  A
        kernel that lives answers the session's request at once; the heartbeat needs a moment to
        notice a dead one."""
        msg_id, self._session_msg = self._session_msg, None
        self.end_session()
        deadline = time.monotonic() + LOST_WAIT_S
        while time.monotonic() < deadline:
            try:
                msg = self.client.get_shell_msg(timeout=0.1)
            except Empty:
                if not self.client.is_alive():
                    break
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                break
        if not self.client.is_alive():
            self.broken = "your notebook's kernel died"
            raise _exception("RuntimeError", self.broken) from None
        raise _exception("RuntimeError", f"your kernel stopped answering the grader ({exc})") from None

    def end_session(self):
        """Close the session (the student's loop returns, and the kernel is free for the next cell)."""
        if self._session is None:
            return
        try:
            self._session.settimeout(1.0)
            self._session.sendall(plaindata.frame(0, json.dumps({"op": "end"})))
        except OSError:
            pass
        finally:
            self._session.close()
            self._session = None

    # ---- one execute request per question
    def _ask_once(self, expression, timeout, with_codec):
        # the codec is sent with the first question only and kept in the student's kernel: what it
        # answers is decoded as plain data here whatever the student does to it, as are the answers
        # the question itself is a user expression: with no code to run, IPython skips compiling a
        # cell and its hooks, a few milliseconds per call
        code = f"__hw4_codec = {{}}\nexec({CODEC!r}, __hw4_codec)\n" if with_codec else ""
        start = time.monotonic()
        msg_id = self.client.execute(code, silent=True, store_history=False,
                                     user_expressions={"out": expression}, allow_stdin=False)
        limit = self._limit(timeout)
        reply = None
        while reply is None:
            try:
                msg = self.client.get_shell_msg(timeout=min(limit.left(), 1.0))
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
        return self._ask({"op": "call", "name": name, "payload": payload}, self.call_timeout)

    def describe(self, names):
        return self._ask({"op": "describe", "names": list(names)}, self.call_timeout)


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


def install(shell, kernel, names):
    """Sync the answers ``names`` into the trusted kernel before each cell it runs for grading (the
    cells nbclient runs with ``store_history``; the grader's own quiet cells are not), and end the
    cell's session after it.  As IPython hooks, neither costs a message of its own; neither raises."""
    def before(info):
        if getattr(info, "store_history", False):
            try:
                sync(shell.user_ns, kernel, names)
            except Exception:  # noqa: BLE001 - a failed sync leaves the answers undefined: the tests say so
                pass

    def after(result):
        kernel.end_session()

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
