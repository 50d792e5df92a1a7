"""The student's kernel, walled in: bubblewrap, a memory limit, a clean environment.

``SandboxedKernelManager`` is the kernel manager ``TrustedExecute`` starts the student's kernel
with.  It exists because nbgrader runs submissions with the grading user's rights, next to the
solutions and the gradebook: bubblewrap gives the kernel a user namespace (uid nobody, no
capabilities), its own PID namespace (its processes die with it), a private /tmp, read-only system
and Python folders and one scratch working folder; the launcher sets the address-space limit before
ipykernel starts; the environment is rebuilt from scratch, so no NBGRADER_* variable or secret
reaches student code.  Every limit is a config trait (nbgrader_config.py).

May import: the standard library, jupyter_client, traitlets.
"""
import os
import shutil
import sys

from jupyter_client.manager import AsyncKernelManager
from traitlets import Integer, Unicode

LAUNCHER = (
    "import os, resource, sys\n"
    "os.environ.pop('JPY_PARENT_PID', None)  # in the sandbox the parent is invisible: bwrap watches it\n"
    "limit = {limit}\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "resource.setrlimit(resource.RLIMIT_CORE, (0, 0))\n"
    "from ipykernel.kernelapp import launch_new_instance\n"
    "launch_new_instance()\n"
)


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the student's kernel with a memory limit, a clean environment and, if it can, in bubblewrap."""

    memory_limit_mb = Integer(3072, help="Address-space limit of the student's kernel, in MiB.").tag(config=True)
    sandbox = Unicode("auto", help="'bwrap' (required), 'auto' (bwrap if installed) or 'none'.").tag(config=True)
    workdir = Unicode("", help="The kernel's working folder (set by TrustedExecute).")

    def _bwrap(self, connection_file):
        exe = shutil.which("bwrap")
        if self.sandbox == "none" or (self.sandbox == "auto" and not exe):
            return []
        if not exe:
            raise RuntimeError("SandboxedKernelManager.sandbox='bwrap' but bubblewrap is not installed")
        args = [exe, "--die-with-parent", "--new-session", "--unshare-user", "--uid", "65534", "--gid", "65534",
                "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc",
                "--unshare-uts", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
        for top in ("/bin", "/lib", "/lib64", "/lib32", "/sbin"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        for prefix in {sys.base_prefix, sys.prefix}:  # the interpreter and the course's packages
            args += ["--ro-bind", prefix, prefix]
        args += ["--bind", self.workdir, self.workdir, "--ro-bind", connection_file, connection_file,
                 "--chdir", self.workdir]
        return args + ["--"]

    async def _async_interrupt_kernel(self):
        """Interrupt by message: a signal would reach bubblewrap, not the kernel in its own session."""
        if self.has_kernel:
            self._connect_control_socket()
            self.session.send(self._control_socket, self.session.msg("interrupt_request", content={}))
        else:
            await super()._async_interrupt_kernel()

    interrupt_kernel = _async_interrupt_kernel

    async def _async_pre_start_kernel(self, **kw):
        cmd, kw = await super()._async_pre_start_kernel(**kw)
        limit = self.memory_limit_mb * 2**20
        if len(cmd) > 2 and cmd[1:3] == ["-m", "ipykernel_launcher"]:
            cmd = [cmd[0], "-c", LAUNCHER.format(limit=limit)] + cmd[3:]
        cmd = self._bwrap(self.connection_file) + cmd
        kw["cwd"] = self.workdir or kw.get("cwd")
        kw["env"] = {  # nothing from the grader's environment: no NBGRADER_*, no secrets
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
            "HOME": self.workdir, "TMPDIR": "/tmp" if self._bwrap(self.connection_file) else self.workdir,
            "MPLCONFIGDIR": os.path.join(self.workdir, ".matplotlib"), "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        }
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine settings numpy needs here
            if key in os.environ:
                kw["env"][key] = os.environ[key]
        return cmd, kw
