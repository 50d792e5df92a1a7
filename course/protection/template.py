"""The template process of warm kernels: imports once, forks a fresh kernel per notebook.

This file is not imported by the grader: ``forkserver.py`` runs its text with ``python -c`` (inside
the student sandbox the course folder is out of view), so it may use the standard library only,
plus the modules it is asked to preload.

Why: every kernel used to be a new Python that imported numpy, scipy, matplotlib and scikit-learn
(about 1.2 s of CPU) and built matplotlib's font list, twice per notebook.  The template does that
once, never runs student code and holds no tests; each kernel is a ``fork`` of it, so it starts
with those modules in memory and anything it changes stays in its own copy-on-write pages.

After its imports the template runs the grader's warm-up code (``TrustedExecute.warm_up``): work a
kernel would otherwise do the first time it draws a figure or fits a model, and then keep in the
libraries' own caches (matplotlib's mathtext grammar, the PNG writer, scikit-learn's plugin
lookup): about 0.3 s of CPU per kernel.  It then freezes the garbage collector's view of everything
it holds (``gc.freeze``), so that a kernel's collections do not walk, and copy, the template's
hundreds of thousands of long-lived objects.

Nothing may stay open after the imports and the warm-up (a font file, say): a kernel closes every
descriptor it inherits and opens its own sockets under the same numbers, and an object that later
closed "its" file would close one of them (ZeroMQ then aborts the kernel).  The template refuses to
start if anything did (the grader then starts its kernels cold).

Each child of the template, before it runs any code it did not bring:

* **sandboxed** (the student's kernel; the template itself is in bubblewrap, see sandbox.py): the
  template's child makes it process 1 of a new PID namespace, so everything it starts dies with it
  and it cannot address the template or anything else outside; it then unshares new mount, network, IPC
  and UTS namespaces, mounts a fresh size-limited tmpfs on /tmp (its working folder lives there, the
  assignment's helper files are written into it) and on /dev/shm, a /proc of its own PID namespace
  where the kernel allows it, brings up a loopback of its own, and drops every capability
  (bounding set included) with ``no_new_privs`` set.  It then forks the kernel and stays as the
  namespace's init: it reaps orphans and exits with the kernel's status (128 + signal if killed);
* **trusted** (the grading kernel): just a child with its working folder, environment and limits;
* both: a clean environment from the request, the rlimits from the request, new random seeds for
  ``random`` and numpy (a fork would otherwise replay the template's), no inherited file descriptor
  but stdin (/dev/null), stdout and stderr, and ``PR_SET_PDEATHSIG`` so it dies with its parent.

Protocol on the control socket (AF_UNIX SEQPACKET, one JSON object per message), and on every
connection to the listening socket a template shared by the workers of a parallel run has
(forkserver.py; ids are per connection, a connection's kernels die when it closes, the template
ends when the last one has):
template -> grader ``{"ready": ...}`` once, ``{"exit": id, "status": code}`` when a child ends;
grader -> template a request ``{"id", "sandboxed", "connection", "connection_path", "env",
"workdir", "files", "limits", "disk_mb", "shm_mb", "options"}`` with one file descriptor (the child's own
socket: the child says hello on it, so that the grader learns its host pid from the kernel's
SCM_CREDENTIALS, and waits for "go", so that a grader running as root can first put it in a cgroup).
"""
import base64
import ctypes
import errno
import fcntl
import gc
import importlib
import json
import os
import random
import resource
import select
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_REC, MS_PRIVATE, MNT_DETACH = 0x4000, 0x40000, 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
IPC_DIR = "/tmp/.kernel"

libc = ctypes.CDLL(None, use_errno=True)


def _ok(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    _ok(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                   data.encode() if data else None), f"mount {target}")


def _loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _drop_capabilities():
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)   # EINVAL past the last capability: ignored
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)    # _LINUX_CAPABILITY_VERSION_3, this process
    _ok(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    _ok(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _wall_in(request):
    """Namespaces, file systems and capabilities of a sandboxed child (process 1 of its PID namespace)."""
    _ok(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={request['shm_mb']}m,mode=1777")
    # a Python environment under /tmp (a course cloned into a `mktemp -d` folder) must stay in view
    # under the new /tmp: bound aside, then back, read-only
    under_tmp = sorted({p for p in (sys.prefix, sys.base_prefix) if p.startswith("/tmp/")})
    aside = []
    for number, path in enumerate(under_tmp):
        stage = f"/dev/shm/.env{number}"
        os.mkdir(stage)
        _mount(path, stage, None, MS_BIND | MS_REC)
        aside.append((stage, path))
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={request['disk_mb']}m,mode=1777")
    for stage, path in aside:
        os.makedirs(path, exist_ok=True)
        _mount(stage, path, None, MS_BIND | MS_REC)
        _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        _ok(libc.umount2(stage.encode(), MNT_DETACH), f"umount {stage}")
        os.rmdir(stage)
    try:  # a /proc of its own PID namespace; refused under a root-started bubblewrap: the old one stays
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass
    _loopback_up()
    _drop_capabilities()


def _prepare_files(request):
    workdir = request["workdir"]
    os.makedirs(workdir, exist_ok=True)
    for name, data in request["files"].items():
        with open(os.path.join(workdir, os.path.basename(name)), "wb") as f:
            f.write(base64.b64decode(data))
    if request["sandboxed"]:
        os.makedirs(IPC_DIR, exist_ok=True)
        os.chmod(workdir, 0o777)
        with open(request["connection_path"], "w") as f:
            json.dump(request["connection"], f)


def _become_kernel(request):
    """The rest of a child's life: environment, limits, fresh random state, then ipykernel."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # dumpable again, as a new process is (its own /proc/self readable): the template and the
    # namespace's init, which it could otherwise trace, stay not dumpable
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.closerange(3, 65536)  # the template's control socket and anything else it holds
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["workdir"])
    for name, value in request["limits"]:
        resource.setrlimit(getattr(resource, name), tuple(value))
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    import tempfile
    tempfile._name_sequence = None
    sys.argv = ["ipykernel_launcher", "-f", request["connection_path"], *request.get("options", ())]
    from ipykernel.kernelapp import launch_new_instance
    launch_new_instance()


def _init(request):
    """Process 1 of a sandboxed child's PID namespace: walls, then the kernel, then its exit status."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _wall_in(request)
    _prepare_files(request)
    pid = os.fork()
    if pid == 0:
        _become_kernel(request)
        os._exit(0)
    os.closerange(3, 65536)
    while True:  # reap orphans until the kernel itself ends
        try:
            done, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        if done == pid:
            os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _child(request, kernel_sock):
    try:
        kernel_sock.send(b"hello")          # the grader reads our host pid from the credentials
        if kernel_sock.recv(16) != b"go":
            os._exit(3)
        kernel_sock.close()
        if request["sandboxed"]:
            _init(request)
        else:
            _prepare_files(request)
            _become_kernel(request)
    except BaseException as exc:  # noqa: BLE001 - a child never returns into the template's loop
        sys.stderr.write(f"warm kernel: could not start: {type(exc).__name__}: {exc}\n")
        os._exit(4)
    os._exit(0)


def _fork(request, kernel_sock):
    pid = os.fork()
    if pid != 0:
        return pid
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    if not request["sandboxed"]:
        _child(request, kernel_sock)
    # sandboxed: this process stays outside and passes on the exit status of process 1 of a new
    # PID namespace (only the template's own namespace could not be re-entered after an unshare)
    try:
        _ok(libc.unshare(CLONE_NEWPID), "unshare pid")
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        init = os.fork()
    except BaseException as exc:  # noqa: BLE001
        sys.stderr.write(f"warm kernel: could not start: {type(exc).__name__}: {exc}\n")
        os._exit(4)
    if init == 0:
        _child(request, kernel_sock)
    kernel_sock.close()
    os.closerange(3, 65536)
    _, status = os.waitpid(init, 0)
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _open_files():
    """{descriptor: what it is} of this process."""
    files = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            files[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:   # the listing's own descriptor, closed by now
            pass
    return files


def _threads():
    for line in open("/proc/self/status"):
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def _send(client, message):
    try:
        client.send(json.dumps(message).encode())
    except OSError:   # that grader is gone; its kernels are killed when its socket is read
        pass


def _warm_up(code):
    """Run the grader's warm-up code in a namespace of its own; the error, if it raised one."""
    if not code:
        return None
    try:
        exec(compile(code, "<warm-up>", "exec"), {"__name__": "__warm_up__"})   # noqa: S102 - the grader's code
    except Exception as exc:  # a library that behaves otherwise here: its kernels do the work themselves
        return f"{type(exc).__name__}: {exc}"
    return None


def main(control_fd, preload, listen_fd=-1, warm_up=""):
    """Serve fork requests from the grader that started the template (``control_fd``) and, when
    ``listen_fd`` is a listening socket, from every grader that connects to it (the other workers of
    a parallel run).  The template ends when the last of them has gone, and kills their kernels."""
    control = socket.socket(fileno=control_fd)
    listener = socket.socket(fileno=listen_fd) if listen_fd >= 0 else None
    if listener is None:   # shared templates live as long as a grader is connected, not as their starter
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    start = time.monotonic()
    inherited = _open_files()
    failed = {}
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a module the environment lacks: its kernels import it (or fail) themselves
            failed[name] = f"{type(exc).__name__}: {exc}"
    if "matplotlib.font_manager" in sys.modules:
        sys.modules["matplotlib.font_manager"].fontManager  # noqa: B018 - the font list, built once here
    problem = _warm_up(warm_up)
    if problem:
        failed["warm-up"] = problem
    gc.collect()
    gc.freeze()   # what the template holds stays out of its kernels' collections
    now_open = _open_files()
    left_open = sorted(set(now_open) - set(inherited))
    if left_open:
        # a kernel closes every file it inherits (_become_kernel): an object still holding one would
        # later close whatever the kernel opened under that number; cold kernels are safe, so refuse
        _send(control, {"ready": False, "why": "the template's imports or warm-up left files open: "
                        + ", ".join(now_open[fd] for fd in left_open)})
        os._exit(5)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)   # no child may ptrace or read the template's memory
    ready = {"ready": True, "seconds": time.monotonic() - start, "failed": failed, "threads": _threads(),
             "instance": os.urandom(8).hex()}   # which template a grader got (logs, tests)
    _send(control, ready)
    clients = [control]
    children = {}   # pid -> (the grader that asked for it, its id there)
    wake_read, wake_write = os.pipe()   # SIGCHLD wakes the loop at once: an ended kernel is reported at once
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while clients:
        readable = select.select(clients + [wake_read] + ([listener] if listener else []), [], [], 5)[0]
        if wake_read in readable:
            os.read(wake_read, 4096)
            readable.remove(wake_read)
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            client, ident = children.pop(pid, (None, None))
            if client is not None:
                _send(client, {"exit": ident, "status": os.waitstatus_to_exitcode(status)})
        if listener is not None and listener in readable:
            readable.remove(listener)
            try:
                client, _ = listener.accept()
            except OSError:
                client = None
            if client is not None:
                clients.append(client)
                _send(client, ready)
        for client in readable:
            try:
                message, fds, _flags, _addr = socket.recv_fds(client, 1 << 20, 1)
            except OSError:
                message, fds = b"", []
            if not message:   # that grader is gone: so are the kernels it asked for
                clients.remove(client)
                for pid, (owner, _) in list(children.items()):
                    if owner is client:
                        _kill(pid)
                client.close()
                continue
            _serve(client, message, fds, children)
    for pid in children:
        _kill(pid)


def _serve(client, message, fds, children):
    kernel_sock = socket.socket(fileno=fds[0]) if fds else None
    request = None
    try:
        request = json.loads(message)
        pid = _fork(request, kernel_sock)
        children[pid] = (client, request["id"])
        reply = {"started": request["id"]}
    except Exception as exc:
        reply = {"failed": request.get("id") if isinstance(request, dict) else None,
                 "why": f"{type(exc).__name__}: {exc}"}
    finally:
        if kernel_sock is not None:
            kernel_sock.close()
    _send(client, reply)


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


if __name__ == "__main__":
    main(int(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else -1,
         sys.argv[4] if len(sys.argv) > 4 else "")
