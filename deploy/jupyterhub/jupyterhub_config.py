"""JupyterHub for Homework IV: one instructor (or a few) and a class of students on one machine.

Why it looks like this:
- Real Unix accounts, checked by PAM: every student's server runs as that student, so the file
  system keeps students out of each other's homes and out of the instructor's course folder (which
  holds the solutions and the gradebook).  Nothing here grants access: Unix permissions do.
- Who may log in, and who is an instructor, is Unix group membership (``hw4-students``,
  ``hw4-instructors``), so adding a student is one ``useradd``; setup.sh creates the groups.
- Every server runs the course's pinned environment (setup.sh installs it next to this file's
  interpreter, without the solutions) with nbgrader's extensions as nbgrader's documentation sets
  them up for a course: students get the Assignment List and Validate but no formgrader, no
  assignment-creation toolbar, and the exchange settings of the course; instructors get everything,
  and their formgrader reads their course folder's nbgrader_config.py, so autograding from the
  formgrader runs under the course's protections.
- JupyterHub >= 4.1 forbids embedding a user's pages in frames, and nbgrader's JupyterLab menu
  opens the formgrader in one: instructors open it in its own browser tab, /user/NAME/formgrader
  (nbgrader's documentation, "Formgrader with jupyterhub>=4.1"); this file keeps the hub's
  protection rather than loosen it.

setup.sh lays the installation out as PREFIX/venv (this interpreter), PREFIX/proxy (the npm
configurable-http-proxy), PREFIX/etc/student (the students' Jupyter config) and PREFIX/state (the
hub's database and cookie secret; start the hub from there).  Start it as root:
    cd PREFIX/state && PREFIX/venv/bin/jupyterhub -f PREFIX/jupyterhub_config.py
"""
import grp
import os
import pwd
import sys

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

PREFIX = os.path.dirname(sys.prefix)          # setup.sh's installation folder
VENV_BIN = os.path.join(sys.prefix, "bin")
STUDENTS, INSTRUCTORS = "hw4-students", "hw4-instructors"

# Log in with the machine's own accounts and passwords (PAM); only members of the course's groups.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS, INSTRUCTORS}

# Plain HTTP on the loopback only: put an HTTPS reverse proxy in front of it, or serve HTTPS
# directly with --JupyterHub.bind_url=https://:443 --JupyterHub.ssl_cert=... --JupyterHub.ssl_key=...
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
# The proxy in front of the hub and the users' servers: the npm package, installed by setup.sh.
c.ConfigurableHTTPProxy.command = [os.path.join(PREFIX, "proxy", "node_modules", ".bin", "configurable-http-proxy")]

# Each user's server: a local process running as that user, in their home, from the course's environment.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(VENV_BIN, "jupyterhub-singleuser")]
# Users land in JupyterLab (nbgrader's Assignments, Validate and Formgrader are JupyterLab extensions).
c.Spawner.default_url = "/lab"
# A whole class logs in at the start of a lab session: JupyterLab with its extensions can then take
# well over JupyterHub's default 30 s to start on a small machine; wait up to 2 minutes, not fail.
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120


def is_instructor(username):
    """Whether the Unix user ``username`` is in the instructors' group (as primary or extra group)."""
    try:
        gid = grp.getgrnam(INSTRUCTORS).gr_gid
        entry = pwd.getpwnam(username)
    except KeyError:
        return False
    return gid in os.getgrouplist(username, entry.pw_gid)


def role_config_path(spawner):
    """JUPYTER_CONFIG_PATH of a user's server: the students' Jupyter config, or nothing for instructors.

    The students' folder (setup.sh) holds their nbgrader_config.py (exchange root and course id) and
    nbgrader's documented switches: the formgrader server extension and the formgrader and
    create-assignment lab extensions disabled.
    """
    return "" if is_instructor(spawner.user.name) else os.path.join(PREFIX, "etc", "student")


c.Spawner.environment = {
    # `jupyter`, `nbgrader` and `python` in a user's terminal are the course's environment.
    "PATH": os.pathsep.join([VENV_BIN, "/usr/local/bin", "/usr/bin", "/bin"]),
    "JUPYTER_CONFIG_PATH": role_config_path,
}
