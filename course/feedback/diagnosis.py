"""Why a submitted notebook was repaired or could not be graded, in words a student can act on.

nbgrader leaves no notebook behind when it gives up on a submission (a missing or unreadable file,
a kernel that died, an error inside nbgrader), and only its log says why.  This module reads the
course's traces - ``repairs.jsonl`` written by course.protection.repair, nbgrader's log file
(``NbGrader.logfile``), the submitted and autograded folders and the gradebook - and turns them into
one sentence per notebook, for the feedback pages and the instructor's report.

May import: course.settings, course.gradebook, course.notebooks, nbformat.
"""
import fnmatch
import json
import re
import time
from pathlib import Path

import nbformat

from .. import gradebook


def repairs(settings):
    """{(student, notebook): [problem, ...]} that course.protection.repair recorded in repairs.jsonl
    while grading the submission now in autograded/ (entries older than that grading run are left out)."""
    found = {}
    log = settings.root / "repairs.jsonl"
    if not log.exists():
        return found
    started = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            sid, name = entry["student"], entry["notebook"]
            when = time.mktime(time.strptime(entry["time"], "%Y-%m-%d %H:%M:%S"))
        except (ValueError, KeyError, TypeError):
            continue
        if sid not in started:
            folder = settings.autograded(sid)
            files = [p.stat().st_mtime for p in folder.glob("*")] if folder.is_dir() else []
            started[sid] = min(files) if files else None
        if started[sid] is not None and when >= int(started[sid]) - 1:  # the log has whole seconds
            problems = found.setdefault((sid, name), [])
            if entry["problem"] not in problems:
                problems.append(entry["problem"])
    return found


# --- notebooks that could not be graded -------------------------------------------------------

_CRASH_HINTS = {
    "DeadKernelError": "the Python kernel died while running it (code that crashes the "
                       "interpreter, or uses up all the memory)",
    "UnresponsiveKernelError": "the kernel stopped responding and could not be interrupted "
                               "(an endless loop or runaway memory use)",
    "CellTimeoutError": "a cell ran past the time limit and could not be stopped",
}


def _log_reason(settings, student):
    """The last error nbgrader's log (``NbGrader.logfile``) records for this submission, in words, or None."""
    log, assignment = settings.logfile, settings.assignment
    if log is None or not log.exists():
        return None
    marker = re.compile(r"There was an error processing assignment: .*[/\\]"
                        + re.escape(student) + r"[/\\]" + re.escape(assignment) + r"\s*$")
    lines = log.read_text(errors="replace").splitlines()
    reason = None
    for i, line in enumerate(lines):
        if not marker.search(line):
            continue
        last = None  # the exception line closing the traceback that follows (log lines are indented)
        for follow in lines[i + 2:]:
            if follow.startswith("["):  # the next log record
                break
            if re.match(r"^[\w.]+(Error|Exception|Interrupt|Exit)\b", follow.strip()):
                last = follow.strip()
        if last:
            name = last.split(":")[0].rsplit(".", 1)[-1]
            detail = last.split(":", 1)[1].strip() if ":" in last else ""
            reason = _CRASH_HINTS.get(name, f"nbgrader stopped with {name}" + (f": {detail}" if detail else ""))
    return reason


def notebook_problem(path):
    """Why a submitted notebook file cannot be graded ('missing', 'broken: ...'), or None."""
    path = Path(path)
    if not path.exists():
        return "missing"
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except UnicodeDecodeError:
        return "broken: the file is not text (not a notebook saved by Jupyter)"
    except json.JSONDecodeError as exc:
        return f"broken: the file is not valid notebook JSON ({exc.msg} at line {exc.lineno})"
    try:
        nb = nbformat.reader.reads(json.dumps(raw))
        nbformat.validate(nbformat.convert(nb, 4))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"broken: the file is not a valid Jupyter notebook ({first[:200]})"
    return None


def ungraded(settings, student=None):
    """{(student, notebook): reason} for every submitted notebook that has no autograded copy.

    A submission nbgrader gave up on has no autograded folder at all: each of its
    notebooks gets the reason (a broken sibling file, or the log's error).
    """
    root, assignment = settings.root, settings.assignment
    names = gradebook.assignment_notebooks(settings)
    result = {}
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        sid = folder.parent.name
        if student and not fnmatch.fnmatch(sid, student):
            continue
        graded_dir = settings.autograded(sid)
        problems = {name: notebook_problem(folder / f"{name}.ipynb") for name in names}
        broken = [n for n, p in problems.items() if p and p.startswith("broken")]
        for name in names:
            if (graded_dir / f"{name}.ipynb").exists():
                continue
            problem = problems[name]
            if problem == "missing":
                result[sid, name] = (f"{name}.ipynb was not in the submission, so it scores 0.")
            elif problem:
                result[sid, name] = (f"{name}.ipynb could not be graded: {problem[len('broken: '):]}. "
                                     "Open it in Jupyter, save it again and resubmit.")
            elif graded_dir.exists():
                result[sid, name] = f"{name}.ipynb has no autograded copy (autograde skipped it)."
            elif broken:
                result[sid, name] = (f"not graded: nbgrader grades a submission as a whole and stopped "
                                     f"at {', '.join(b + '.ipynb' for b in broken)}, which is not a "
                                     "readable notebook; fix that file and resubmit.")
            else:
                why = _log_reason(settings, sid) or "nbgrader stopped with an error while running it"
                result[sid, name] = (f"the submission could not be graded: {why}. Run the whole notebook "
                                     "with Kernel > Restart & Run All before submitting; it must finish.")
    return result
