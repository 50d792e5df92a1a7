"""The student's kernel, walled in: no network, bounded memory, disk, processes and CPU time.

``SandboxedKernelManager`` is the kernel manager ``TrustedExecute`` starts the student's kernel
with.  It exists because nbgrader runs submissions with the grading user's rights, next to the
solutions, the gradebook and every service of the grading machine.  With bubblewrap the kernel gets

* its own user namespace (uid nobody, no capabilities), PID namespace (its processes die with it),
  IPC and UTS namespaces, and its own **network namespace** with nothing in it but a loopback of its
  own: no TCP or UDP reaches the grading machine (PostgreSQL, Jupyter, a Dask scheduler) or any
  other host.  The kernel therefore talks ZMQ over Unix sockets (``transport = "ipc"``), which it
  binds in its own /tmp; the grader and the trusted kernel reach them through
  ``/proc/<sandbox pid>/root/...`` (a path into the sandbox's mount namespace, open to the user who
  started it), so nothing in the sandbox is a host folder it could fill;
* a file system of its own: read-only system and Python folders, a handful of /etc files, and one
  size-limited tmpfs for /tmp that also holds the working folder (the assignment's helper files are
  bound into it read-only), so /tmp and the working folder together hold at most ``disk_limit_mb``;
  the root and /dev are read-only and /dev/shm is a small tmpfs of its own (``SHM_MB``);
* limits set by the launcher before ipykernel starts: address space (``memory_limit_mb``), CPU
  seconds (``cpu_limit_s``: SIGXCPU, then SIGKILL 5 s later), no core dumps, and the number of
  processes and threads (``process_limit``): RLIMIT_NPROC, which Linux counts per user *namespace*
  and uid, so every sandbox has its own count; it does not bind a process whose real uid is root,
  so when the grader runs as root the same bound is a ``pids`` cgroup made for the kernel instead.

Without bubblewrap (``sandbox = "auto"`` on a machine without it, or ``"none"``) only the memory and
CPU limits, the clean environment and Unix-socket transport remain.  The environment is rebuilt from
scratch either way, so no NBGRADER_* variable or secret reaches student code.  Every limit is a
config trait (nbgrader_config.py).  ``LimitedKernelManager`` is the launcher part alone; the trusted
grading kernel is started with it (``TrustedExecute.trusted_memory_limit_mb``).

To build on this (say, a pool of warm kernels): a kernel is sandboxed per ``start_kernel``; after
start, ``ip`` is the host's path to its sockets, ``exit_reason()`` says in plain words why a dead
kernel died, and shutting it down removes everything it had (its tmpfs, its cgroup).

Warm kernels (``warm = True``, set by ``TrustedExecute.warm_kernels``): instead of a new Python per
kernel, a template process that has imported the course's libraries forks one (template.py,
forkserver.py).  For the student's kernel the template runs in bubblewrap with the walls above (and
the capabilities it needs to make each child's namespaces); every child gets its own PID, mount,
network, IPC and UTS namespaces, its own /tmp and /dev/shm, the same limits, and no capabilities.
If the template cannot be started, the kernel starts cold, as above.

May import: the standard library, jupyter_client, traitlets, course.protection.forkserver.
"""
import asyncio
import itertools
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
import uuid

from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.utils import ensure_async
import zmq
import zmq.asyncio
from traitlets import Bool, Integer, List, Type, Unicode, default

from . import forkserver

LAUNCHER = (
    "import os, resource, sys\n"
    "{prelude}"
    "for name, value in {limits!r}:\n"
    "    resource.setrlimit(getattr(resource, name), value)\n"
    "from ipykernel.kernelapp import launch_new_instance\n"
    "launch_new_instance()\n"
)
# in the sandbox the parent is invisible (bwrap watches it instead): ipykernel must not poll it
_NO_PARENT = "os.environ.pop('JPY_PARENT_PID', None)\n"

INNER_IPC = "/tmp/.kernel/ipc"   # the kernel's socket paths inside the sandbox: /tmp/.kernel/ipc-1 ...
SHM_MB = 16                      # /dev/shm: POSIX semaphores (multiprocessing locks) need it, nothing more
CGROUP_PREFIX = "hw4-kernel-"    # the pids cgroups made when grading as root
TEMPLATE_TMP_MB = 64             # the warm kernels' template's own /tmp (matplotlib's cache); no child sees it
RECONNECT_MS = 5                 # how often a client tries a kernel socket that is not bound yet (PromptClient)
CPU_GRACE_S = 5                  # SIGXCPU at cpu_limit_s, SIGKILL this much later if it was caught
# /etc is not bound whole: root-owned secrets (/etc/shadow, /etc/ssl/private) stay out of view
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "fonts", "passwd",
             "group", "nsswitch.conf", "alternatives", "mime.types", "os-release", "matplotlibrc",
             f"python{sys.version_info[0]}.{sys.version_info[1]}")   # Debian's Python reads its sitecustomize here


class PromptClient(AsyncKernelClient):
    """jupyter_client's client, but its wait for a new kernel does not then idle: it drains IOPub for
    0.2 s of silence after the kernel has answered (twice per notebook, ~0.5 s with its retries),
    where nothing but the kernel's start-up status can arrive; nbclient ignores those anyway.
    And its sockets, connected before a new kernel has bound its own, try again every
    ``RECONNECT_MS`` instead of ZeroMQ's 100 ms, so the kernel's first answer is not held back."""

    @default("context")
    def _context_default(self):
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, RECONNECT_MS)   # the default for the sockets made from it
        return context

    async def wait_for_ready(self, timeout=None):
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        for attempt in itertools.count():
            self.kernel_info()
            try:   # asked again after 0.05, 0.1, 0.2 ... 1 s: a kernel still starting gets few requests
                msg = await ensure_async(self.shell_channel.get_msg(timeout=min(1.0, 0.05 * 2 ** attempt)))
            except Empty:
                msg = None
            if msg is not None and msg["msg_type"] == "kernel_info_reply":
                try:   # IOPub connected (its start-up status arrived), else ask again
                    await ensure_async(self.iopub_channel.get_msg(timeout=0.05))
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(msg)
                    return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


class LimitedKernelManager(AsyncKernelManager):
    """A kernel whose launcher sets resource limits before ipykernel starts (the trusted kernel's)."""

    client_factory = Type(PromptClient, klass=AsyncKernelClient)

    memory_limit_mb = Integer(4096, help="Address-space limit of the kernel, in MiB (0: none).")
    warm = Bool(False, help="Fork the kernel from a template that has preloaded modules (set by TrustedExecute).")
    warm_preload = List(Unicode(), help="Modules the template imports before forking (set by TrustedExecute).")
    warm_up = Unicode("", help="Code the template runs once after its imports, before forking (set by TrustedExecute).")
    threads = Integer(1, help=(
        "Threads of the kernel's numerical libraries (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS). "
        "One: a class is graded in parallel by processes, and idle BLAS or OpenMP threads that spin take CPU "
        "from the other workers (measured: the trusted kernels of a class of 9 graded by 3 workers on 2 cores "
        "took 25.8 s of CPU with the libraries' default, 2 threads here, and 12.9 s with one).  "
        "0: the libraries' default.")).tag(config=True)

    def _thread_env(self):
        if not self.threads:
            return {}
        return {name: str(self.threads) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}

    def _launch_settings(self, kw):
        """The kernel's environment and working folder (``env``, ``cwd``)."""
        kw["env"] = {**(kw.get("env") or os.environ), **self._thread_env()}
        return kw

    def _limits(self):
        limits = [("RLIMIT_CORE", (0, 0))]
        if self.memory_limit_mb:
            limits.append(("RLIMIT_AS", (self.memory_limit_mb * 2**20,) * 2))
        return limits

    def _prelude(self):
        return ""

    async def _async_pre_start_kernel(self, **kw):
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        if len(cmd) > 2 and cmd[1:3] == ["-m", "ipykernel_launcher"]:
            cmd = [cmd[0], "-c", LAUNCHER.format(prelude=self._prelude(), limits=self._limits())] + cmd[3:]
        kw = self._launch_settings(kw)
        # warm or cold is decided here, once: a cold kernel's command is then wrapped as it must be
        self._server = self._fork_server(kw.get("env") or dict(os.environ))
        if self._server is None:
            cmd, kw = self._cold_command(cmd, kw)
        return cmd, kw

    def _cold_command(self, cmd, kw):
        """The command of a kernel started as a new process."""
        return cmd, kw

    # ---- warm kernels
    def _fork_server(self, env):
        """This process's template for kernels like this one, or None (then the kernel starts cold)."""
        if not self.warm:
            return None
        command = self._template_command()
        key = (type(self).__name__, tuple(command), tuple(self.warm_preload), self.warm_up)
        factory = lambda: forkserver.ForkServer(command, self._template_env(env), self.warm_preload,  # noqa: E731
                                                self.log, self.warm_up)
        try:
            return forkserver.shared(key, factory, self.log)
        except (forkserver.ForkServerError, OSError) as exc:
            self.log.warning("warm kernels unavailable (%s): starting a cold kernel", exc)
            forkserver.discard(key)
            return None

    def _template_command(self):
        return []

    def _template_env(self, env):
        return env

    def _spawn_request(self, kw):
        return dict(sandboxed=False, connection_path=self.connection_file, env=kw["env"],
                    workdir=str(kw.get("cwd") or os.getcwd()), limits=self._limits())

    @staticmethod
    def _kernel_options(kernel_cmd):
        """The options after the connection file in a kernel command (nbclient's in-memory history)."""
        if "-f" in kernel_cmd:
            return [arg for arg in kernel_cmd[kernel_cmd.index("-f") + 2:] if arg.startswith("--")]
        return []

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if getattr(self, "_server", None) is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        connection = self.get_connection_info(session=False)
        connection["key"] = connection["key"].decode()
        # in a thread: the first spawn waits for the template's imports, and the other kernel of the
        # notebook (started side by side) starts its own template meanwhile
        process = await asyncio.to_thread(self._server.spawn, connection=connection,
                                          options=self._kernel_options(kernel_cmd), **self._spawn_request(kw))
        self.provisioner.process, self.provisioner.pid, self.provisioner.pgid = process, process.pid, None
        self._reconcile_connection_info(self.provisioner.connection_info)


def _pids_cgroup_root():
    """Where a pids cgroup can be made (cgroup v1 ``pids`` hierarchy, or v2 with pids enabled), or None."""
    try:
        lines = open("/proc/self/mountinfo").read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        fstype, options = fields[fields.index("-") + 1], fields[-1]
        point = fields[4]
        if fstype == "cgroup" and "pids" in options.split(","):
            return point
        if fstype == "cgroup2":
            try:
                if "pids" in open(os.path.join(point, "cgroup.subtree_control")).read().split():
                    return point
            except OSError:
                pass
    return None


def _sweep(root):
    """Remove the empty cgroups of kernels that ended while their manager could not wait for them."""
    import time
    for name in os.listdir(root):
        path = os.path.join(root, name)
        try:
            if name.startswith(CGROUP_PREFIX) and time.time() - os.stat(path).st_mtime > 60:
                os.rmdir(path)   # refused while any process is in it
        except OSError:
            pass


class SandboxedKernelManager(LimitedKernelManager):
    """Starts the student's kernel without network, with limits and a clean environment, in bubblewrap."""

    memory_limit_mb = Integer(3072, help="Address-space limit of the student's kernel, in MiB.").tag(config=True)
    disk_limit_mb = Integer(256, help="Size of the kernel's /tmp, which holds its working folder, in MiB.").tag(config=True)
    process_limit = Integer(128, help="Processes and threads the student's kernel may have at once.").tag(config=True)
    cpu_limit_s = Integer(600, help="CPU seconds of the student's kernel process (0: none).").tag(config=True)
    sandbox = Unicode("auto", help="'bwrap' (required), 'auto' (bwrap if installed) or 'none'.").tag(config=True)
    workdir = Unicode("", help="The kernel's working folder (set by TrustedExecute).")
    helper_files = List(Unicode(), help="Files put read-only into the working folder (set by TrustedExecute).")

    def __init__(self, **kwargs):
        kwargs.setdefault("transport", "ipc")  # no TCP: inside the sandbox there is no network to use
        super().__init__(**kwargs)
        self._exe = None        # bwrap's path while sandboxed
        self._own_ipc = None    # the host folder of the sockets when not sandboxed
        self._cgroup = None
        self._pass = []         # file descriptors handed to bwrap, closed once it runs
        self._info = None       # read end of bwrap's --info-fd

    # ---- what bounds the processes
    def _by_cgroup(self):
        return bool(self._exe) and os.geteuid() == 0

    def _limits(self):
        limits = super()._limits()
        if self.cpu_limit_s:
            limits.append(("RLIMIT_CPU", (self.cpu_limit_s, self.cpu_limit_s + CPU_GRACE_S)))
        if self._exe and not self._by_cgroup():  # counted per user namespace: this sandbox alone
            limits.append(("RLIMIT_NPROC", (self.process_limit,) * 2))
        return limits

    def _prelude(self):
        return _NO_PARENT if self._exe else ""

    def _bwrap_exe(self):
        exe = shutil.which("bwrap")
        if self.sandbox == "none" or (self.sandbox == "auto" and not exe):
            return None
        if not exe:
            raise RuntimeError("SandboxedKernelManager.sandbox='bwrap' but bubblewrap is not installed")
        return exe

    def _bwrap_walls(self, tmp_mb, die_with_parent=True):
        """What every sandbox here has: namespaces, read-only system and Python, /tmp and /dev/shm."""
        args = [self._exe] + (["--die-with-parent"] if die_with_parent else []) + [
                "--new-session", "--unshare-user", "--uid", "65534",
                "--gid", "65534", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--unshare-net", "--proc", "/proc", "--dev", "/dev", "--ro-bind", "/usr", "/usr"]
        for name in ETC_FILES:
            args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        for top in ("/bin", "/lib", "/lib64", "/lib32", "/sbin"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        args += ["--size", str(tmp_mb * 2**20), "--tmpfs", "/tmp",
                 "--size", str(SHM_MB * 2**20), "--tmpfs", "/dev/shm"]
        # the interpreter and the course's packages, bound after the new /tmp so that an environment
        # that lives under /tmp (a clone in a `mktemp -d` folder) is not hidden by it
        for prefix in sorted({sys.base_prefix, sys.prefix}):
            args += ["--ro-bind", prefix, prefix]
        return args

    def _bwrap(self, connection_file, info_fd):
        args = self._bwrap_walls(self.disk_limit_mb)
        args += ["--dir", os.path.dirname(INNER_IPC), "--dir", self.workdir]
        for path in self.helper_files:
            args += ["--ro-bind", path, os.path.join(self.workdir, os.path.basename(path))]
        args += ["--ro-bind", connection_file, connection_file,
                 "--remount-ro", "/", "--remount-ro", "/dev",
                 "--info-fd", str(info_fd), "--chdir", self.workdir]
        return args + ["--"]

    def _bwrap_template(self):
        """The warm kernels' template: the same walls, plus the capabilities (in its own user
        namespace only) to give each child namespaces and file systems of its own (template.py)."""
        # a template shared by the workers of a parallel run ends when the last of them has gone
        # (template.py), not with the worker that happened to start it
        return self._bwrap_walls(TEMPLATE_TMP_MB, die_with_parent=not forkserver.sharing()) + [
            "--remount-ro", "/", "--remount-ro", "/dev", "--chdir", "/",
            "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP", "--cap-add", "CAP_NET_ADMIN", "--"]

    def _make_cgroup(self):
        root = _pids_cgroup_root()
        if root is None:
            self.log.warning("grading as root without a pids cgroup: the student's kernel's processes are "
                             "not bounded (RLIMIT_NPROC does not bind root)")
            return None
        _sweep(root)
        path = os.path.join(root, f"{CGROUP_PREFIX}{uuid.uuid4().hex[:12]}")
        os.mkdir(path)
        with open(os.path.join(path, "pids.max"), "w") as f:
            f.write(str(self.process_limit))
        self._cgroup = path
        return path

    async def _async_pre_start_kernel(self, **kw):
        self._exe = self._bwrap_exe()
        if self._exe:
            self.ip = INNER_IPC   # written into the connection file: where the kernel binds
        else:
            self._own_ipc = tempfile.mkdtemp(prefix="hw4_ipc_")
            self.ip = os.path.join(self._own_ipc, "kernel")
        return await super()._async_pre_start_kernel(**kw)

    def _launch_settings(self, kw):
        env = {  # nothing from the grader's environment: no NBGRADER_*, no secrets
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
            "HOME": self.workdir, "TMPDIR": "/tmp" if self._exe else self.workdir,
            "MPLCONFIGDIR": os.path.join(self.workdir, ".matplotlib"), "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            **self._thread_env(),
        }
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine settings numpy needs here
            if key in os.environ:
                env[key] = os.environ[key]
        kw["env"] = env
        kw["cwd"] = self.workdir or kw.get("cwd")
        return kw

    def _cold_command(self, cmd, kw):
        if self._exe:
            self._info, write_end = os.pipe()
            self._pass = [write_end]
            cmd = self._bwrap(self.connection_file, write_end) + cmd
            kw["pass_fds"] = tuple(self._pass)
            kw["cwd"] = "/"
            if self._by_cgroup() and self._make_cgroup():
                procs = os.path.join(self._cgroup, "cgroup.procs")
                cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', procs] + cmd
        return cmd, kw

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            for fd in self._pass:
                os.close(fd)
            self._pass = []
        if self._exe:
            # clients reach the sockets through the sandbox's own root, seen from the host
            pid = self.provisioner.pid if self._server else self._sandbox_pid()
            self.ip = f"/proc/{pid}/root{INNER_IPC}"

    def _template_command(self):
        return self._bwrap_template() if self._exe else []

    def _template_env(self, env):
        if not self._exe:
            return env
        return {**env, "HOME": "/tmp/template", "TMPDIR": "/tmp",
                "MPLCONFIGDIR": "/tmp/template/.matplotlib"}

    def _spawn_request(self, kw):
        if not self._exe:  # no bubblewrap: a child in the working folder TrustedExecute made
            return super()._spawn_request(kw)
        on_hello = None
        if self._by_cgroup():
            def on_hello(pid):
                path = self._make_cgroup()
                if path:
                    with open(os.path.join(path, "cgroup.procs"), "w") as f:
                        f.write(str(pid))
        return dict(sandboxed=True, connection_path=os.path.join(os.path.dirname(INNER_IPC), "connection.json"),
                    env=kw["env"], workdir=self.workdir, limits=self._limits(), files=self.helper_files,
                    disk_mb=self.disk_limit_mb, shm_mb=SHM_MB, on_hello=on_hello)

    def _sandbox_pid(self):
        """The host pid of bwrap's first process inside the sandbox (from --info-fd)."""
        data = b""
        try:
            while select.select([self._info], [], [], 30)[0]:
                chunk = os.read(self._info, 4096)
                if not chunk:
                    break
                data += chunk
                try:
                    return int(json.loads(data)["child-pid"])
                except ValueError:
                    continue
        finally:
            os.close(self._info)
            self._info = None
        raise RuntimeError(f"bubblewrap did not start the student's kernel ({data[:200]!r})")

    def kernel_socket_dir(self):
        """The folder of the kernel's Unix sockets as the kernel itself sees it (after start the host
        reaches it at ``os.path.dirname(self.ip)``): where the trusted side's bridge listens (bridge.py)."""
        return os.path.dirname(INNER_IPC) if self._exe else os.path.dirname(self.ip)

    def exit_reason(self):
        """Why the kernel process ended, in plain words, when a limit ended it; else None."""
        process = getattr(self.provisioner, "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return None
        sig = code - 128 if (self._exe and code > 128) else -code if code < 0 else None
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and self.cpu_limit_s):
            return (f"it used more than the {self.cpu_limit_s} s of CPU time a notebook may use"
                    if sig == signal.SIGXCPU else
                    f"it was killed (most likely it went on past the {self.cpu_limit_s} s of CPU time a "
                    "notebook may use)")
        return None

    def cleanup_ipc_files(self):
        if self._own_ipc:
            shutil.rmtree(self._own_ipc, ignore_errors=True)
            self._own_ipc = None
        # a sandbox's sockets live in its own tmpfs, which is gone with it

    async def _async_cleanup_resources(self, restart=False):
        if self._control_socket is not None:
            # the interrupt message jupyter_client sends before a kill may still be queued for a kernel
            # that is gone: closing with the default linger would hold every shut-down 0.1 s
            self._control_socket.close(linger=0)
            self._control_socket = None
        await super()._async_cleanup_resources(restart=restart)
        if self._cgroup:
            for _ in range(200):  # the last processes may still be being reaped (else: the next sweep)
                try:
                    os.rmdir(self._cgroup)
                    break
                except OSError:
                    await asyncio.sleep(0.01)
            else:
                self.log.info("the kernel's cgroup %s is left for the next sweep", self._cgroup)
            self._cgroup = None

    async def _async_interrupt_kernel(self):
        """Interrupt by message: a signal would reach bubblewrap, not the kernel in its own session."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))
        else:
            await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel
