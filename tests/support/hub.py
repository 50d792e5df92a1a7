"""The course's JupyterHub (deploy/jupyterhub/) on localhost, as an admin sets it up (test support, root).

tests/test_hub.py runs the README's hub sequence with this module: ``setup`` runs
deploy/jupyterhub/setup.sh (into a prefix kept between runs, so the environment and the npm proxy
are installed once), ``add_user`` creates a real Unix user with a password in the hub's group for
their role, ``instructor_course`` puts the course into the instructor's home as the README tells
the instructor to, and ``Hub`` starts ``jupyterhub -f PREFIX/jupyterhub_config.py`` on free
localhost ports and stops it.  ``remove_user`` ends whatever a throwaway user still runs and
deletes the account.  Nothing here changes the hub's configuration: the test meets the hub an
instructor adopting the course meets.
"""
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from course import ROOT

SETUP = ROOT / "deploy" / "jupyterhub" / "setup.sh"
# Where setup.sh installs the hub for the tests: kept between runs (the environment takes minutes
# to install), world-readable like /opt/hw4-hub, so every test user's server can run from it.
PREFIX = Path(os.environ.get("HW4_HUB_PREFIX", "/var/cache/hw4-hub-test"))
STUDENTS, INSTRUCTORS = "hw4-students", "hw4-instructors"


def missing_requirements():
    """What this machine lacks to run the hub test (empty when it can)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the test creates Unix users)")
    for tool in ("useradd", "userdel", "chpasswd", "npm", "node"):
        if shutil.which(tool) is None:
            missing.append(f"`{tool}` (./run test installs Debian's nodejs and npm)")
    if not os.access("/usr/bin/python3.11", os.X_OK):
        missing.append("/usr/bin/python3.11 (Debian's python3.11 and python3.11-venv)")
    return missing


def setup(course, log_path):
    """Run setup.sh as the admin does, with the exchange settings of the course folder ``course``."""
    with open(log_path, "a") as log:
        proc = subprocess.run(["bash", str(SETUP), "--prefix", str(PREFIX), "--course", str(course)],
                              stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise RuntimeError(f"setup.sh failed ({proc.returncode}):\n" + Path(log_path).read_text()[-4000:])


def add_user(login, group, homes):
    """A Unix user in ``group`` with a private home under ``homes`` and a random password: (home, password)."""
    home = Path(homes) / login
    subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "-K", "HOME_MODE=0700",
                    "--shell", "/bin/bash", "--groups", group, login], check=True, capture_output=True)
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{login}:{password}\n", text=True, check=True, capture_output=True)
    return home, password


def user_pids(login):
    """Process ids of every process of the Unix user ``login``."""
    try:
        uid = pwd.getpwnam(login).pw_uid
    except KeyError:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def remove_user(login):
    """Stop what the throwaway user ``login`` still runs (their server, kernels), then delete them."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in user_pids(login):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while user_pids(login) and time.time() < deadline:
            time.sleep(0.2)
    subprocess.run(["userdel", login], capture_output=True)


def give(login, path, text=None, copy_from=None):
    """Write a file (or copy a tree) into a user's home as if they had made it: owned by them."""
    entry = pwd.getpwnam(login)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if copy_from is not None:
        shutil.copytree(copy_from, path)
    else:
        path.write_text(text)
    for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
        os.chown(p, entry.pw_uid, entry.pw_gid)
    for p in path.parents:
        if p == Path(entry.pw_dir) or Path(entry.pw_dir) not in p.parents:
            break
        os.chown(p, entry.pw_uid, entry.pw_gid)


def instructor_course(login, home, kit):
    """The README's instructor steps: the course in ~/hw4, private (0700), and the formgrader told
    to read its nbgrader_config.py (nbgrader's "one class, one grader" set-up).  Returns the folder."""
    course = Path(home) / "hw4"
    give(login, course, copy_from=kit)
    course.chmod(0o700)
    give(login, Path(home) / ".jupyter" / "nbgrader_config.py",
         f"load_subconfig({str(course / 'nbgrader_config.py')!r})\n")
    return course


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Hub:
    """``jupyterhub -f PREFIX/jupyterhub_config.py`` run from ``state``, on free localhost ports."""

    def __init__(self, state):
        self.state = Path(state)
        self.port, self.hub_port, self.proxy_api_port = free_port(), free_port(), free_port()
        self.proc = None
        self.log_path = self.state.parent / "jupyterhub.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=180):
        self.state.mkdir(mode=0o700, parents=True, exist_ok=True)
        cmd = [str(PREFIX / "venv" / "bin" / "jupyterhub"), "-f", str(PREFIX / "jupyterhub_config.py"),
               f"--JupyterHub.bind_url={self.url}",
               f"--JupyterHub.hub_bind_url=http://127.0.0.1:{self.hub_port}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.proxy_api_port}"]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.state, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=10) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(1)
        self.stop()
        raise RuntimeError(f"jupyterhub did not answer within {timeout} s:\n{self.log_text()}")

    def log_text(self, tail=6000):
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def stop(self):
        """SIGTERM: the hub stops the users' servers and its proxy, then exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        if getattr(self, "log", None):
            self.log.close()
