"""JupyterLab servers on localhost for the end-to-end browser test (tests/test_browser.py).

A student's server runs on a folder holding a copy of release/hw4; an instructor's on a course
folder (its nbgrader_config.py is read from the server's current directory, as the formgrader
does).  Both use the nbgrader server and lab extensions of the environment they run in, and
nothing of the user's own Jupyter settings: every Jupyter folder is a fresh one under ``home``.
"""
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, with nothing that reaches for the network (this machine has none).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

# JupyterLab settings for a scripted session: no news or update pop-ups, every cell in the page
# (no windowing, so that every cell's editor and outputs exist), no autosave racing the test.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False, "doNotDisturbMode": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` on ``root`` (also its current directory), on a free localhost port."""

    def __init__(self, root, home, role):
        assert role in ("student", "instructor")
        self.root, self.home, self.role, self.name = Path(root), Path(home), role, role
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.proc = None
        self.log_path = self.home / f"{role}.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        jupyter = self.home / "jupyter"
        settings = jupyter / "lab-settings"
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        if self.role == "student":
            # As nbgrader's docs set up a student: no formgrader and no assignment creation, only
            # the assignment list and Validate (server side and in the page).
            (jupyter / "config" / "labconfig").mkdir(parents=True, exist_ok=True)
            (jupyter / "config" / "labconfig" / "page_config.json").write_text(json.dumps(
                {"disabledExtensions": {"@jupyter/nbgrader:formgrader": True,
                                        "@jupyter/nbgrader:create-assignment": True}}))
            (jupyter / "config" / "jupyter_server_config.json").write_text(json.dumps(
                {"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": False}}}))
        bin_dir = os.path.dirname(sys.executable)
        return {**os.environ,
                "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
                "HOME": str(self.home), "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
                "JUPYTER_DATA_DIR": str(jupyter / "data"), "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
                "JUPYTERLAB_SETTINGS_DIR": str(settings),
                "JUPYTERLAB_WORKSPACES_DIR": str(jupyter / "workspaces"),
                "IPYTHONDIR": str(jupyter / "ipython"), "MPLCONFIGDIR": str(jupyter / "matplotlib"),
                "PYTHONUNBUFFERED": "1"}

    def start(self, timeout=240, tries=3):
        """Start the server and wait until it answers; a port taken meanwhile means another try."""
        self.home.mkdir(parents=True, exist_ok=True)
        for attempt in range(tries):
            if self._start_once(timeout):
                return self
            self.port = free_port()
        raise RuntimeError(f"{self.name}: no free port in {tries} tries:\n" + self.log_path.read_text()[-2000:])

    def _start_once(self, timeout):
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
               f"--port={self.port}", "--port-retries=0", f"--ServerApp.root_dir={self.root}",
               f"--IdentityProvider.token={self.token}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI runs as root
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.close()
                text = self.log_path.read_text()
                if "is not available" in text or "already in use" in text:
                    return False
                raise RuntimeError(f"{self.name}: jupyter lab exited with {self.proc.returncode}:\n"
                                   + text[-4000:])
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=10) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"{self.name}: jupyter lab did not answer within {timeout} s:\n"
                           + self.log_path.read_text()[-4000:])

    def stop(self):
        """Stop the server (its own process group only); it shuts its kernels down as it exits."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
            except ProcessLookupError:
                pass
        if getattr(self, "log", None):
            self.log.close()

    def lab_url(self, path=""):
        return f"{self.url}/lab{'/tree/' + path if path else ''}?token={self.token}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
