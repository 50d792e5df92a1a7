"""Rehearsal of nbgrader's exchange round trip with throwaway Unix users (test support, needs root).

In a scratch folder: release, fetch, submit (twice, late), collect, autograde, feedback,
release_feedback, fetch_feedback, every step one of nbgrader's own commands run as the user who
would type it: the instructor is the user running this (root), each student a separate Unix user
with a private home who runs ``nbgrader`` with nothing but the config the hub admin would give
them.  It prints every step's time, the grades and what a student could and could not reach.

    cd tests && python -m support.exchange_rehearsal round-trip [--all] [--keep]

Used by tests/test_exchange.py; nothing of the repository is touched.
"""

import argparse
import atexit
import datetime
import json
import os
import pwd
import secrets
import shutil
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from course import EXAMPLES, ROOT, pipeline, settings as course_settings
from course.authoring import submissions
from course.exchange.operations import check_exchange, student_config
from course.notebooks import notebook_names

ASSIGNMENT = course_settings.load(ROOT).assignment

CONFIG = ROOT / "nbgrader_config.py"

# ---------------------------------------------------------------------------------------------
# the course's settings


def settings(config=CONFIG):
    """The exchange-related settings of an nbgrader_config.py, as a plain dict."""
    path = Path(config)
    cfg = PyFileConfigLoader(path.name, str(path.parent)).load_config()
    return {
        "exchange_root": cfg.Exchange.get("root", "/usr/local/share/nbgrader/exchange"),
        "course_id": cfg.CourseDirectory.get("course_id", ""),
        "duedate": cfg.DbAssignmentAddApp.get("duedate"),
        "before_duedate": cfg.ExchangeCollect.get("before_duedate", False),
        "named_regexp": cfg.FileNameCollectorPlugin.get("named_regexp", ""),
    }


# ---------------------------------------------------------------------------------------------
# a scratch course and throwaway students


def scratch_course(folder, names, exchange_root, config=CONFIG):
    """A course folder with the notebooks ``names`` and the course's config, its exchange root
    pointed at ``exchange_root``; private to the instructor (0700), as the README asks on a hub."""
    folder = Path(folder)
    pipeline.scratch_course(folder, names, [f"c.Exchange.root = {str(exchange_root)!r}"],
                            course=Path(config).parent)
    folder.chmod(0o700)
    return folder


def can_make_users():
    return os.geteuid() == 0 and shutil.which("useradd") is not None and shutil.which("userdel") is not None


@dataclass
class Student:
    """A throwaway Unix user with a private home and the students' nbgrader config."""
    login: str
    home: Path
    python: list = field(default_factory=list)
    env: dict = field(default_factory=dict)

    def run(self, *argv, check=True):
        """Run argv as this user in their home, with only the environment a hub would give."""
        proc = subprocess.run(list(argv), cwd=self.home, capture_output=True, text=True,
                              user=self.login, group=self.login, extra_groups=[], env=self.env)
        if check and proc.returncode != 0:
            raise pipeline.NbgraderError(f"{self.login}: `{' '.join(argv)}` failed ({proc.returncode}):\n"
                                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def nbgrader(self, *args, check=True):
        return self.run(*self.python, "-m", "nbgrader", *args, check=check)

    def python_code(self, code, *args):
        return self.run(*self.python, "-c", code, *args)

    def give(self, path, text):
        """Put a file in the student's home as if they had written it (owned by them)."""
        path = self.home / path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        entry = pwd.getpwnam(self.login)
        for p in [path] + [q for q in path.parents if self.home in q.parents or q == self.home]:
            os.chown(p, entry.pw_uid, entry.pw_gid)


def make_student(login, homes, exchange_root, course_id):
    """Create the Unix user ``login`` (own group, no login shell) with a 0700 home under ``homes``."""
    home = Path(homes) / login
    subprocess.run(["useradd", "--user-group", "--no-create-home", "--home-dir", str(home),
                    "--shell", "/usr/sbin/nologin", login], check=True, capture_output=True)
    home.mkdir(mode=0o700)
    entry = pwd.getpwnam(login)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    student = Student(login, home)
    student.env = {"HOME": str(home), "USER": login, "LOGNAME": login, "LANG": "C.UTF-8",
                   "PATH": "/usr/local/bin:/usr/bin:/bin"}
    student.give(".jupyter/nbgrader_config.py", student_config(exchange_root, course_id))
    student.python, extra_env = student_interpreter(student)
    student.env.update(extra_env)
    return student


def remove_student(login):
    subprocess.run(["userdel", login], capture_output=True)


def _open_to_all(path):
    """Whether every folder from / down to ``path`` lets other users through (o+x)."""
    path = Path(path).resolve()
    return all(q.stat().st_mode & 0o001 for q in [path, *path.parents])


_REACHABLE = {}


def _unmount(public, targets):
    for target in targets:
        subprocess.run(["umount", "--lazy", target], capture_output=True)
        try:
            os.rmdir(target)     # never rmtree: a failed unmount must not delete the environment
        except OSError:
            pass
    try:
        os.rmdir(public)
    except OSError:
        pass


def reachable_packages():
    """This environment's site-packages folders as paths a throwaway student may read.

    When the course lives in a private folder (a clone under a 0700 home or ``mktemp -d``), the
    students cannot walk to its .venv: each site-packages folder is then bind-mounted (we are root)
    under a world-readable scratch folder, once per process, and unmounted when the process ends.
    The course folder itself stays private.
    """
    if "paths" not in _REACHABLE:
        packages = site.getsitepackages()
        if all(_open_to_all(p) for p in packages):
            _REACHABLE["paths"] = packages
        else:
            public = Path(tempfile.mkdtemp(prefix="hw4_public_"))
            public.chmod(0o755)
            targets = []
            atexit.register(_unmount, str(public), targets)
            for i, folder in enumerate(packages):
                target = public / f"site{i}"
                target.mkdir()
                subprocess.run(["mount", "--bind", folder, str(target)], check=True, capture_output=True)
                targets.append(str(target))
            _REACHABLE["paths"] = list(targets)
    return _REACHABLE["paths"]


def student_interpreter(student):
    """A Python that the student may run and that imports nbgrader: (argv prefix, extra env).

    This environment's own interpreter first; if the student cannot execute it (a pyenv under
    root's private home, or a course cloned into a private folder), the system's python of the
    same version with this environment's packages on PYTHONPATH (``reachable_packages``).  Raises
    when neither works, saying why.
    """
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    tried = []
    candidates = [([sys.executable], lambda: {})] + [
        ([f"{prefix}/{version}"], lambda: {"PYTHONPATH": os.pathsep.join(reachable_packages())})
        for prefix in ("/usr/bin", "/usr/local/bin")]
    for argv, env_of in candidates:
        if not os.path.exists(argv[0]):
            continue
        env = env_of()
        try:
            probe = subprocess.run(argv + ["-c", "import nbgrader"], cwd=student.home, capture_output=True,
                                   text=True, user=student.login, group=student.login, extra_groups=[],
                                   env={**student.env, **env})
        except OSError as err:  # the student may not execute it
            tried.append(f"{argv[0]}: {err.strerror}")
            continue
        if probe.returncode == 0:
            return argv, env
        tried.append(f"{argv[0]}: {(probe.stderr.strip().splitlines() or ['?'])[-1]}")
    raise RuntimeError(f"no Python that user {student.login} may run imports nbgrader:\n  " + "\n  ".join(tried))


PROBE = r"""
import json, os, sys
out = {}
for spec in sys.argv[1:]:
    op, path = spec.split(":", 1)
    try:
        if op == "list":
            os.listdir(path)
        elif op == "read":
            open(path, "rb").close()
        elif op == "write":
            target = os.path.join(path, ".probe") if os.path.isdir(path) else path
            open(target, "ab").close()
        out[spec] = "allowed"
    except PermissionError:
        out[spec] = "denied"
    except FileNotFoundError:
        out[spec] = "missing"
print(json.dumps(out))
"""


def probe(student, **named):
    """What ``student`` may do: name -> "allowed" | "denied" | "missing", for name=(op, path)."""
    specs = {name: f"{op}:{path}" for name, (op, path) in named.items()}
    result = json.loads(student.python_code(PROBE, *specs.values()).stdout)
    return {name: result[spec] for name, spec in specs.items()}


# ---------------------------------------------------------------------------------------------
# the round trip


def pick_notebooks(examples=EXAMPLES):
    """The notebooks the rehearsal releases: the first one that has a typical-mistakes example."""
    have = [n for n in submissions_names() if (Path(examples) / "typical_mistakes" / f"{n}.py").exists()]
    if not have:
        raise RuntimeError("no notebook of source/hw4 has an examples/typical_mistakes/NAME.py")
    return have[:1]


def submissions_names():
    return notebook_names(course_settings.load(ROOT).source)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass
class RoundTrip:
    """Everything the rehearsal observed, for the test to check and the command to print."""
    workdir: Path
    course: Path
    exchange: Path
    course_id: str
    names: list
    students: dict = field(default_factory=dict)        # role -> Student
    submitted_at: dict = field(default_factory=dict)    # login -> [timestamp strings of their submits]
    duedate: str = ""
    steps: list = field(default_factory=list)           # (what, seconds)
    outputs: dict = field(default_factory=dict)         # step -> stdout+stderr
    modes: dict = field(default_factory=dict)           # exchange path -> mode
    exchange_problems: list = field(default_factory=list)
    access: dict = field(default_factory=dict)          # what the probing student could do
    fetched_feedback: dict = field(default_factory=dict)  # login -> {relative path: text}
    feedback: dict = field(default_factory=dict)        # login -> {notebook: text} (instructor's)
    grades: dict = field(default_factory=dict)          # login -> summary dict


ROLES = {  # role -> what the student hands in (in order); "late" ones after the due date
    "correct": ["reference"],
    "mistakes": ["mistakes"],
    "twice": ["blank", "reference", "late:mistakes"],
    "late": ["late:reference"],
}


def _answers(course, kind, examples):
    if kind == "reference":
        return pipeline.build_student(course, None, submissions.REFERENCE)
    if kind == "blank":
        return pipeline.build_student(course, None, submissions.BLANK)
    code = {f.stem: f.read_text() for f in (Path(examples) / "typical_mistakes").glob("*.py")}
    return pipeline.build_student(course, code, submissions.BLANK)


def round_trip(workdir, names=None, examples=EXAMPLES, config=CONFIG, log=print):
    """Rehearse release -> fetch -> submit -> collect -> grade -> feedback with throwaway users.

    Needs root.  Creates the users ``hw4<random>_<role>`` and removes them before returning.
    """
    workdir = Path(workdir)
    workdir.chmod(0o755)  # the students must reach the exchange and their homes inside it
    names = names or pick_notebooks(examples)
    conf = settings(config)
    trip = RoundTrip(workdir, workdir / "course", workdir / "exchange", conf["course_id"], names)
    scratch_course(trip.course, names, trip.exchange, config)
    (workdir / "home").mkdir(mode=0o755)
    tag = "hw4" + secrets.token_hex(3)
    logins = []

    def step(what, fn):
        start = time.perf_counter()
        log(f"- {what}")
        result = fn()
        trip.steps.append((what, time.perf_counter() - start))
        if hasattr(result, "stdout"):
            trip.outputs[what] = result.stdout + result.stderr
        return result

    def instructor(*args):
        return pipeline.nbgrader(trip.course, *args)

    try:
        for role in ROLES:
            login = f"{tag}_{role}"
            logins.append(login)
            trip.students[role] = make_student(login, workdir / "home", trip.exchange, trip.course_id)
        step(f"instructor: nbgrader generate_assignment {ASSIGNMENT}", lambda: instructor(
            "generate_assignment", ASSIGNMENT, "--force"))
        step(f"instructor: nbgrader release_assignment {ASSIGNMENT}", lambda: instructor(
            "release_assignment", ASSIGNMENT))
        trip.exchange_problems = check_exchange(trip.exchange, trip.course_id, ASSIGNMENT)

        def hand_in(student, kind):
            folder = Path(ASSIGNMENT)
            if not (student.home / folder).exists():
                step(f"{student.login}: nbgrader fetch_assignment {ASSIGNMENT}",
                     lambda: student.nbgrader("fetch_assignment", ASSIGNMENT))
            if kind != "blank":  # "blank": hands in the fetched notebooks untouched
                for name, nb in _answers(trip.course, kind, examples).items():
                    student.give(folder / f"{name}.ipynb", _nb_text(nb))
            out = step(f"{student.login}: nbgrader submit {ASSIGNMENT}  ({kind})",
                       lambda: student.nbgrader("submit", ASSIGNMENT))
            cache = student.home / ".local/share/jupyter/nbgrader_cache" / trip.course_id
            stamps = sorted((p / "timestamp.txt").read_text() for p in cache.iterdir())
            trip.submitted_at.setdefault(student.login, [])
            new = [s for s in stamps if s not in trip.submitted_at[student.login]]
            trip.submitted_at[student.login] += new
            return out

        for role, plan in ROLES.items():
            for kind in plan:
                if not kind.startswith("late:"):
                    hand_in(trip.students[role], kind)
        time.sleep(0.01)
        trip.duedate = utc_now().strftime("%Y-%m-%d %H:%M:%S.%f UTC")
        time.sleep(0.01)
        step(f"instructor: nbgrader db assignment add {ASSIGNMENT} --duedate='{trip.duedate}'",
             lambda: instructor("db", "assignment", "add", ASSIGNMENT, f"--duedate={trip.duedate}"))
        for role, plan in ROLES.items():
            for kind in plan:
                if kind.startswith("late:"):
                    hand_in(trip.students[role], kind.split(":", 1)[1])

        inbound = trip.exchange / trip.course_id / "inbound"
        outbound = trip.exchange / trip.course_id / "outbound" / ASSIGNMENT
        others = trip.students["correct"]
        nosy = trip.students["mistakes"]
        sample = sorted(inbound.iterdir())[0]
        trip.access.update(probe(
            nosy,
            list_inbound=("list", inbound),
            list_release=("list", outbound),
            read_release=("read", next(outbound.glob("*.ipynb"))),
            write_release=("write", outbound),
            write_release_file=("write", next(outbound.glob("*.ipynb"))),
            write_inbound=("write", inbound),
            read_course_source=("read", trip.course / "source" / ASSIGNMENT / f"{names[0]}.ipynb"),
            list_course=("list", trip.course),
            write_course=("write", trip.course),
            list_other_home=("list", others.home),
            read_other_cache=("list", others.home / ".local/share/jupyter/nbgrader_cache"),
        ))
        trip.modes["inbound submission dir"] = stat.S_IMODE(sample.stat().st_mode)
        trip.modes["inbound submission file"] = stat.S_IMODE(next(sample.glob("*.ipynb")).stat().st_mode)

        step(f"instructor: nbgrader collect {ASSIGNMENT}", lambda: instructor("collect", ASSIGNMENT))
        step(f"instructor: nbgrader autograde {ASSIGNMENT}", lambda: instructor("autograde", ASSIGNMENT))
        step(f"instructor: nbgrader generate_feedback {ASSIGNMENT}",
             lambda: instructor("generate_feedback", ASSIGNMENT))
        step(f"instructor: nbgrader release_feedback {ASSIGNMENT}",
             lambda: instructor("release_feedback", ASSIGNMENT))
        feedback_dir = trip.exchange / trip.course_id / "feedback"
        trip.modes["feedback dir"] = stat.S_IMODE(feedback_dir.stat().st_mode)
        trip.access.update(probe(nosy, list_feedback=("list", feedback_dir)))
        trip.exchange_problems += check_exchange(trip.exchange, trip.course_id, ASSIGNMENT)

        for role, student in trip.students.items():
            step(f"{student.login}: nbgrader fetch_feedback {ASSIGNMENT}",
                 lambda: student.nbgrader("fetch_feedback", ASSIGNMENT))
            got = student.home / ASSIGNMENT / "feedback"
            trip.fetched_feedback[student.login] = {
                str(p.relative_to(got)): p.read_text() for p in sorted(got.rglob("*.html"))}
            mine = trip.course / "feedback" / student.login / ASSIGNMENT
            trip.feedback[student.login] = {p.stem: p.read_text() for p in sorted(mine.glob("*.html"))}
        trip.grades = gradebook_summary(trip.course)
    finally:
        for login in logins:
            remove_student(login)
    return trip


def _nb_text(nb):
    import nbformat
    return nbformat.writes(nb)


def gradebook_summary(course):
    """login -> timestamp, seconds late, penalty, score, max score, autograded score per notebook."""
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(course_settings.load(course).db_url) as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            out[sub.student.id] = {
                "timestamp": sub.timestamp,
                "seconds_late": sub.total_seconds_late,
                "penalty": sub.late_submission_penalty,
                "score": sub.score,
                "max_score": sub.max_score,
                "notebooks": {nb.name: {"auto": nb.code_score, "max_auto": nb.max_code_score,
                                        "penalty": nb.late_submission_penalty, "score": nb.score}
                              for nb in sub.notebooks},
            }
    return out


def report(trip):
    lines = [f"round trip of {', '.join(trip.names)} through {trip.exchange}", ""]
    for what, seconds in trip.steps:
        lines.append(f"  {seconds:6.2f} s  {what}")
    lines += ["", f"due date set to {trip.duedate}", ""]
    width = max(len(s.login) for s in trip.students.values()) + 2
    lines.append(f"{'role':<10}{'student':<{width}}{'submits':>8}{'late (s)':>10}{'penalty':>9}{'score':>12}")
    for role, student in trip.students.items():
        g = trip.grades.get(student.login, {})
        lines.append(f"{role:<10}{student.login:<{width}}{len(trip.submitted_at.get(student.login, [])):>8}"
                     f"{g.get('seconds_late', 0):>10.2f}{g.get('penalty', 0):>9g}"
                     f"{g.get('score', 0):>6g} / {g.get('max_score', 0):<4g}")
    lines += ["", "what a student can do in the exchange and the instructor's folders:"]
    lines += [f"  {k:<22} {v}" for k, v in trip.access.items()]
    lines += [f"  mode of {k}: {v:o}" for k, v in trip.modes.items()]
    lines += ["", "exchange permissions: " + ("as nbgrader sets them" if not trip.exchange_problems
                                              else "; ".join(trip.exchange_problems))]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# command line


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m support.exchange_rehearsal", description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", help="notebook names (default: one with a mistakes example)")
    parser.add_argument("--all", action="store_true", help="all four notebooks")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    if not can_make_users():
        print("the rehearsal needs root (it creates throwaway Unix users)", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="hw4_exchange_"))
    try:
        names = submissions_names() if args.all else args.notebooks
        start = time.perf_counter()
        result = round_trip(folder, names)
        print(report(result))
        print(f"\ntook {time.perf_counter() - start:.1f} s")
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
