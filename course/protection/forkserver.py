"""Warm kernels: the grader's side of the template process (template.py) that forks them.

A kernel manager with a ``fork_server`` (sandbox.py) asks it for a kernel instead of starting a new
Python: ``spawn`` sends the request and the child's own socket, reads the child's hello (the kernel
reports the pid it has *on the host* in SCM_CREDENTIALS, whatever namespace it is in), lets a
``on_hello`` callback act on that pid (a grader running as root puts it into a pids cgroup) and says
"go".  What comes back is a ``WarmProcess``, which has the part of ``subprocess.Popen`` that
jupyter_client's ``LocalProvisioner`` uses, so polling, waiting and killing go through the
provisioner as for any kernel.

One fork server of each kind lives per grading process (``shared``): an ``nbgrader autograde`` run
or one parallel-grading worker.  When the environment names a folder in ``SHARE_ENV`` (course.parallel
sets a private one for its local workers), the first worker to need a template publishes it there
as a listening Unix socket and the others connect to it, so that a machine imports the libraries
once per kind, not once per worker; such a template lives as long as one of them is connected.  A
server whose template died or stopped answering (a student cannot reach it, but a machine can
fail) is replaced once; when that fails too the caller falls back to a cold kernel.  A template
that *refused* to fork (its imports or warm-up left a file open: template.py) would refuse again, so
its key is remembered for the rest of the process and every later kernel of that kind starts cold at
once, without another template start (3-4 s of imports) per notebook.  Nothing of one kernel is
shared with the next but the template's untouched memory.

May import: the standard library.
"""
import atexit
import base64
import concurrent.futures
import fcntl
import hashlib
import itertools
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

TEMPLATE = (Path(__file__).with_name("template.py")).read_text()
START_TIMEOUT_S = 120     # the template's imports on a loaded machine
HELLO_TIMEOUT_S = 30
MAX_FILES_BYTES = 256 * 1024   # helper files travel inside the request
KILL_REPORT_S = 0.5            # how long a poll right after a kill waits for the template's report
SHARE_ENV = "HW4_KERNEL_TEMPLATES"   # a private folder where the workers of one run share their templates


class ForkServerError(RuntimeError):
    """The template could not start or could not fork a kernel (the caller starts a cold one)."""


class WarmProcess:
    """A forked kernel, as much of a ``Popen`` as jupyter_client's provisioner needs."""

    stdin = stdout = stderr = None

    def __init__(self, server, ident, pid):
        self.server, self.ident, self.pid = server, ident, pid
        self.returncode = None
        self._killed = False
        try:
            self._pidfd = os.pidfd_open(pid)   # signals reach this process even if its pid is reused later
        except OSError:
            self._pidfd = None

    def poll(self):
        if self.returncode is None:
            # just killed: the template reports the end within milliseconds, so wait that long for it
            # here rather than be polled again a tenth of a second later (jupyter_client's interval)
            wait = KILL_REPORT_S if self._killed else 0.0
            self.returncode = self.server.exit_status(self.ident, wait)
            if self.returncode is not None and self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("warm kernel", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is not None:
            return
        try:
            self._killed = self._killed or signum == signal.SIGKILL
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signum)
            else:
                os.kill(self.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """One template process and the kernels forked from it."""

    def __init__(self, command, env, preload, log=None, warm_up=""):
        self.command, self.env, self.preload, self.log = list(command), dict(env), list(preload), log
        self.warm_up = warm_up
        self._ids = itertools.count(1)
        self._exits = {}
        self.process = self.control = None
        self.published = False
        self.ready = {}
        self.key = None   # set by ``shared``: where a refusal is remembered
        # one conversation at a time on the control socket: kernels may be started and polled from
        # several threads (read_ahead.py), and a reply read by the wrong one would be lost
        self._lock = threading.RLock()

    # ---- the template
    def start(self, listener=None):
        """Start the template; with ``listener`` (a bound, listening SEQPACKET socket) it also serves
        the graders that connect there, and outlives this process while one of them is connected."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds = [theirs.fileno()] + ([listener.fileno()] if listener is not None else [])
        argv = self.command + [sys.executable, "-c", TEMPLATE, str(theirs.fileno()), json.dumps(self.preload),
                               str(listener.fileno() if listener is not None else -1), self.warm_up]
        try:
            self.process = subprocess.Popen(argv, env=self.env, cwd="/", pass_fds=fds,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            theirs.close()
            if listener is not None:
                listener.close()
        self.control, self.published = ours, listener is not None
        return self   # its imports go on while the grader does other things (the other template's)

    @classmethod
    def attach(cls, path, log=None):
        """A server for the template another worker published at ``path`` (OSError if none is there)."""
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            control.connect(path)
        except OSError:
            control.close()
            raise
        server = cls([], {}, [], log)
        server.control = control
        return server

    def _wait_ready(self):
        with self._lock:
            self._wait_ready_locked()

    def _wait_ready_locked(self):
        if self.ready:
            return
        message = self._receive(START_TIMEOUT_S)
        if not message.get("ready"):
            if message.get("ready") is False and self.key is not None:
                _REFUSED[self.key] = message.get("why") or "no reason given"
            raise ForkServerError(f"the kernel template did not start: {message}")
        self.ready = message
        if self.log and message.get("failed"):
            self.log.warning("kernel template could not preload or warm up %s", message["failed"])

    def alive(self):
        if self.process is not None:
            return self.process.poll() is None
        if self.control is None:
            return False
        poller = select.poll()   # a template another worker started: alive while its socket is open
        poller.register(self.control, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
        return not poller.poll(0)

    def close(self):
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None and not self.published:
            try:
                self.process.kill()
            except OSError:
                pass
            self.process.wait()
        # a published template ends by itself when the last worker connected to it has gone
        self.process = None

    def _next(self, timeout):
        """The template's next message within ``timeout`` seconds (None if none came); exit reports
        are recorded on the way, whoever reads them."""
        if not select.select([self.control], [], [], max(0.0, timeout))[0]:
            return None
        data = self.control.recv(1 << 20)
        if not data:
            raise ForkServerError("the kernel template ended")
        message = json.loads(data)
        if "exit" in message:
            self._exits[message["exit"]] = message["status"]
        return message

    def _receive(self, timeout):
        """The next message that is not an exit report."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline - time.monotonic())
            if message is None:
                raise ForkServerError("the kernel template did not answer in time")
            if "exit" not in message:
                return message

    def exit_status(self, ident, wait=0.0):
        """The exit code of kernel ``ident`` once the template has reaped it (waiting up to ``wait``
        seconds for it), else None."""
        deadline = time.monotonic() + wait
        try:
            with self._lock:
                while ident not in self._exits and self.control is not None:
                    if self._next(deadline - time.monotonic()) is None:
                        break
        except (OSError, ForkServerError):
            pass
        if ident not in self._exits and not self.alive():
            return -signal.SIGKILL   # the template is gone, and its children with it
        return self._exits.get(ident)

    # ---- kernels
    def spawn(self, *, sandboxed, connection, connection_path, env, workdir, limits,
              files=(), disk_mb=0, shm_mb=0, options=(), on_hello=None):
        with self._lock:
            return self._spawn(sandboxed, connection, connection_path, env, workdir, limits,
                               files, disk_mb, shm_mb, options, on_hello)

    def _spawn(self, sandboxed, connection, connection_path, env, workdir, limits,
               files, disk_mb, shm_mb, options, on_hello):
        self._wait_ready()
        payload = {}
        for path in files:
            payload[os.path.basename(path)] = base64.b64encode(Path(path).read_bytes()).decode()
        if sum(len(v) for v in payload.values()) > MAX_FILES_BYTES:
            raise ForkServerError("the assignment's helper files are too large for a warm kernel")
        ident = next(self._ids)
        request = {"id": ident, "sandboxed": sandboxed, "connection": connection,
                   "connection_path": connection_path, "env": env, "workdir": workdir,
                   "limits": limits, "files": payload, "disk_mb": disk_mb, "shm_mb": shm_mb,
                   "options": list(options)}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        try:
            socket.send_fds(self.control, [json.dumps(request).encode()], [theirs.fileno()])
            theirs.close()
            reply = self._receive(HELLO_TIMEOUT_S)
            if reply.get("started") != ident:
                raise ForkServerError(f"the kernel template could not fork: {reply.get('why', reply)}")
            if not select.select([ours], [], [], HELLO_TIMEOUT_S)[0]:
                raise ForkServerError("a forked kernel did not say hello")
            size = struct.calcsize("3i")
            data, ancillary, _flags, _addr = ours.recvmsg(16, socket.CMSG_SPACE(size))
            pid = next((struct.unpack("3i", d[:size])[0] for level, kind, d in ancillary
                        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS), None)
            if data != b"hello" or not pid:
                raise ForkServerError("a forked kernel said something else than hello")
            process = WarmProcess(self, ident, pid)
            if on_hello is not None:
                on_hello(pid)
            ours.send(b"go")
            return process
        except OSError as exc:
            raise ForkServerError(f"could not talk to the kernel template: {exc}") from exc
        finally:
            ours.close()
            if theirs.fileno() != -1:
                theirs.close()


_SERVERS = {}
_SERVERS_LOCK = threading.Lock()   # two threads asking at once must not start two templates
# Every template is started by this one thread, which lives as long as the process: bubblewrap's
# --die-with-parent (PR_SET_PDEATHSIG) kills a child when the *thread* that started it ends, and a
# notebook run ahead (read_ahead.py) asks for its kernels from a thread that ends with the notebook.
_STARTER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hw4-kernel-templates")
_REFUSED = {}   # key -> why its template refused to fork; never started again in this process


def sharing():
    """Whether this process shares its templates with the other workers of its run (``SHARE_ENV``)."""
    return bool(os.environ.get(SHARE_ENV))


def shared(key, factory, log=None):
    """This process's running fork server for ``key`` (made by ``factory()`` and started on first use,
    or the one another worker of the run published; its first ``spawn`` waits until it is ready).
    ForkServerError if a template for ``key`` refused to fork before."""
    with _SERVERS_LOCK:
        return _shared(key, factory, log)


def _shared(key, factory, log):
    if key in _REFUSED:
        raise ForkServerError(f"the kernel template refused to fork earlier in this run: {_REFUSED[key]}")
    server = _SERVERS.get(key)
    if server is not None and server.alive():
        return server
    if server is not None:
        if log:
            log.warning("the kernel template ended; starting a new one")
        server.close()
    folder = os.environ.get(SHARE_ENV)
    start = (lambda: _attach_or_publish(folder, key, factory, log)) if folder else (lambda: factory().start())
    server = _SERVERS[key] = _STARTER.submit(start).result()
    server.key = key
    return server


def _attach_or_publish(folder, key, factory, log):
    """Connect to the template published for ``key`` in ``folder``, or start it and publish it."""
    path = os.path.join(folder, hashlib.sha256(repr(key).encode()).hexdigest()[:20])
    with open(path + ".lock", "w") as lock:   # one worker at a time decides who starts it
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return ForkServer.attach(path, log)
        except OSError:   # none yet, or one whose template has ended
            pass
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(path)
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        return factory().start(listener)


def discard(key):
    """Forget (and stop) the fork server for ``key``, so that the next ``shared`` starts a new one."""
    with _SERVERS_LOCK:
        server = _SERVERS.pop(key, None)
    if server is not None:
        server.close()


@atexit.register
def _close_all():
    for key in list(_SERVERS):
        discard(key)
