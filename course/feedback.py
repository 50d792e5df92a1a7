"""Student feedback that says what went wrong, in plain words, without giving the hidden tests away.

``nbgrader generate_feedback hw4`` renders each autograded notebook to HTML.
nbgrader_config.py adds two things of this module to that command:

PlainFeedback         a preprocessor that works on the feedback copy only (never
                      on the autograded notebook or the gradebook): it puts a
                      score table on top (every graded part with its points, the
                      notebook's total and the homework's total), replaces the
                      hidden-test region of each test cell by a one-line note,
                      and shows a failed test as its message alone ("kmeans
                      (case): expected ..., got ...") instead of a traceback
                      that quotes the hidden test.  ``c.PlainFeedback.show_hidden_tests
                      = True`` gives students nbgrader's plain rendering instead
                      (hidden tests and tracebacks shown).
ungraded_pages_hook   a post-convert hook: for every notebook that has no
                      autograded copy (missing from the submission, not a
                      readable notebook, or a submission nbgrader gave up on
                      because its kernel died) it writes a feedback page that
                      says so and why, where nbgrader would have put one.

``python -m course.feedback [--root DIR] [--student ID]`` writes those pages on
its own and lists every notebook that could not be graded, with the reason.
"""
import argparse
import ast
import fnmatch
import html
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, List

ASSIGNMENT = "hw4"
AUTOGRADE_LOG = "nbgrader.log"   # c.NbGrader.logfile in nbgrader_config.py
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WARNING = re.compile(r"(?:^|:\s)(\w*(?:Warning|Error)):\s*(.*)$")


def _red(text):
    return f"\x1b[0;31m{text}\x1b[0m"


def part_title(source):
    """The first line of a test cell's docstring (what the cell checks), or ''."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return ""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[0].value.value.strip().splitlines()[0]
    return ""


class PlainFeedback(ClearHiddenTests):
    """Feedback-copy rewrite: score table on top, hidden tests and their tracebacks left out.

    Inherits ClearHiddenTests' delimiters (``begin_test_delimeter``,
    ``end_test_delimeter``), so a course that changes them changes them here too.
    """

    display_data_priority = List(  # as GetGrades has it, so that the shared setting applies here too
        ['text/html', 'application/pdf', 'text/latex', 'image/svg+xml', 'image/png', 'image/jpeg', 'text/plain'],
    ).tag(config=True)
    show_hidden_tests = Bool(
        False, help="Show students the hidden tests' code and full tracebacks, as plain nbgrader does."
    ).tag(config=True)

    def _hide_region(self, source):
        """The source with each hidden-test region replaced by a one-line note."""
        out, inside, hidden = [], False, 0
        for line in source.split("\n"):
            if self.begin_test_delimeter in line:
                inside, hidden = True, 0
            elif self.end_test_delimeter in line and inside:
                inside = False
                indent = line[:len(line) - len(line.lstrip())]
                out.append(f"{indent}# ... hidden tests ({hidden} lines), not shown ...")
            elif inside:
                hidden += 1
            else:
                out.append(line)
        if inside:  # an unterminated region: hide to the end
            out.append(f"# ... hidden tests ({hidden} lines), not shown ...")
        return "\n".join(out)

    def _timeout(self):
        try:
            return int(self.config.Execute.timeout)
        except (AttributeError, TypeError, ValueError):
            return None

    def _plain_error(self, output):
        """An error output reduced to its message: no traceback frames, no code."""
        ename, evalue = output.get("ename", "Error"), _ANSI.sub("", str(output.get("evalue", "")))
        if "Timeout" in ename:
            limit = self._timeout()
            text = (f"Stopped: this cell ran longer than the time limit"
                    f"{f' of {limit} s' if limit else ''} and scores zero "
                    "(an endless loop, or code far slower than it needs to be?).")
        elif ename == "AssertionError":
            text = "Test failed: " + (evalue.strip() or "a check in this cell failed.")
        elif ename == "NameError":
            text = (f"NameError: {evalue} (is the answer above still unanswered, "
                    "renamed, or did its cell fail?)")
        else:
            text = f"{ename}: {evalue}"
        output["traceback"] = [_red(line) if i == 0 else line
                               for i, line in enumerate(text.split("\n"))]
        return output

    @staticmethod
    def _plain_stderr(output):
        """A test cell's stderr (usually a warning, which nbgrader scores zero) without source lines."""
        messages = []
        for line in output.get("text", "").splitlines():
            match = _WARNING.search(line)
            if match and not line.startswith((" ", "\t")):
                messages.append(f"{match.group(1)}: {match.group(2)}")
        note = ("This cell wrote to stderr, and nbgrader scores a test cell that does so zero"
                + (":\n  " + "\n  ".join(messages) if messages else "."))
        output["text"] = note + "\n"
        return output

    def preprocess(self, nb, resources):
        if not self.show_hidden_tests:
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                    continue
                cell.source = self._hide_region(cell.source)
                for output in cell.get("outputs", []):
                    if output.output_type == "error":
                        self._plain_error(output)
                    elif output.output_type == "stream" and output.get("name") == "stderr":
                        self._plain_stderr(output)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(self._summary(nb, resources)))
        return nb, resources

    def _gradebook(self, resources):
        """([(notebook, score, max_score)] of the whole assignment, {grade_id: needs_manual_grade})."""
        from nbgrader.api import Gradebook
        info = resources.get("nbgrader", {})
        try:
            with Gradebook(info["db_url"]) as gb:
                sub = gb.find_submission(info["assignment"], info["student"])
                totals = [(nb.name, nb.score, nb.max_score)
                          for nb in sorted(sub.notebooks, key=lambda n: n.name)]
                this = gb.find_submission_notebook(info["notebook"], info["assignment"], info["student"])
                state = {g.name: (bool(g.needs_manual_grade), g.manual_score) for g in this.grades}
                return totals, state
        except Exception as exc:  # the summary must not cost the student the page
            self.log.warning("feedback summary: no homework total (%s)", exc)
            return [], {}

    def _summary(self, nb, resources):
        """The cell on top (HTML in a markdown cell): every graded part with its points, then the totals."""
        info = resources.get("nbgrader", {})
        totals, state = self._gradebook(resources)
        colors = {"passed": "#2e7d32", "failed": "#c62828", "partial": "#ef6c00"}
        rows = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            gid = meta.get("grade_id", "")
            score, points = meta.get("score") or 0, meta.get("points") or 0
            manual = cell.cell_type == "markdown" or bool(meta.get("solution"))
            needs_manual, manual_score = state.get(gid, (False, None))
            if needs_manual and manual:
                verdict, shown = "awaiting grading by hand", "–"
            elif needs_manual:
                verdict, shown = "awaiting a look by the instructor", f"{score:g}"
            elif manual:
                verdict = "graded by hand" if manual_score is not None else "not answered"
                shown = f"{score:g}"
            else:
                verdict = "passed" if score >= points else "failed" if score == 0 else "partial"
                shown = f"{score:g}"
            what = ("written answer" if cell.cell_type == "markdown" else "answer") if manual \
                else part_title(self._hide_region(cell.source)) or "test"
            color = colors.get(verdict, "#555")
            rows.append(f'<tr><td><a href="#{html.escape(gid)}"><code>{html.escape(gid)}</code></a></td>'
                        f"<td>{html.escape(what)}</td><td style=\"text-align:right\">{shown} / {points:g}</td>"
                        f'<td style="color:{color};font-weight:bold">{verdict}</td></tr>')
        out = [f'<div class="course-summary"><h2>Score: {info.get("score", 0):g} / '
               f'{info.get("max_score", 0):g} in {html.escape(str(info.get("notebook", "")))}</h2>']
        if totals:
            got, top = sum(s for _, s, _ in totals), sum(m for _, _, m in totals)
            parts = ", ".join(f"{html.escape(n)} {s:g} / {m:g}" for n, s, m in totals)
            out.append(f"<p><b>Homework {html.escape(str(info.get('assignment', '')))} total: "
                       f"{got:g} / {top:g}</b> ({parts}). Written answers count once graded by hand.</p>")
        fixed = repairs(os.getcwd(), info.get("assignment", ASSIGNMENT)).get(
            (info.get("student"), info.get("notebook")), [])
        if fixed:
            out.append('<div style="border:2px solid #ef6c00;padding:.5em 1em;margin:.5em 0">'
                       "<b>Your notebook had to be repaired before it could be graded:</b><ul>"
                       + "".join(f"<li>{html.escape(p)}</li>" for p in fixed) + "</ul></div>")
        if info.get("late_penalty"):
            out.append(f"<p>Late submission penalty: -{info['late_penalty']:g}</p>")
        out.append('<table class="table table-condensed" style="width:auto">'
                   "<tr><th>part</th><th>what it checks</th><th>points</th><th>result</th></tr>"
                   + "".join(rows) + "</table>")
        if not self.show_hidden_tests:
            out.append("<p>A failed test shows its message: which function, which case, what was "
                       "expected and what came back. The hidden tests' code is not shown.</p>")
        return "\n".join(out) + "</div>"


def repairs(root, assignment=ASSIGNMENT):
    """{(student, notebook): [problem, ...]} that course/repair.py recorded in repairs.jsonl while
    grading the submission now in autograded/ (entries older than that grading run are left out)."""
    root = Path(root)
    found = {}
    log = root / "repairs.jsonl"
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
            folder = root / "autograded" / sid / assignment
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


def _log_reason(root, student, assignment=ASSIGNMENT):
    """The last error nbgrader's autograde log records for this submission, in words, or None."""
    log = Path(root) / AUTOGRADE_LOG
    if not log.exists():
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


def assignment_notebooks(root, assignment=ASSIGNMENT):
    """The notebook names of the assignment, from the gradebook (else from release/)."""
    from nbgrader.api import Gradebook, MissingEntry
    db = Path(root) / "gradebook.db"
    if db.exists():
        try:
            with Gradebook("sqlite:///" + str(db)) as gb:
                return sorted(nb.name for nb in gb.find_assignment(assignment).notebooks)
        except MissingEntry:
            pass
    return sorted(p.stem for p in (Path(root) / "release" / assignment).glob("*.ipynb"))


def ungraded(root, student=None, assignment=ASSIGNMENT):
    """{(student, notebook): reason} for every submitted notebook that has no autograded copy.

    A submission nbgrader gave up on has no autograded folder at all: each of its
    notebooks gets the reason (a broken sibling file, or the log's error).
    """
    root = Path(root)
    names = assignment_notebooks(root, assignment)
    result = {}
    for folder in sorted((root / "submitted").glob(f"*/{assignment}")):
        sid = folder.parent.name
        if student and not fnmatch.fnmatch(sid, student):
            continue
        graded_dir = root / "autograded" / sid / assignment
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
                why = _log_reason(root, sid, assignment) or "nbgrader stopped with an error while running it"
                result[sid, name] = (f"the submission could not be graded: {why}. Run the whole notebook "
                                     "with Kernel > Restart & Run All before submitting; it must finish.")
    return result


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto;font-size:15px;line-height:1.5}}
.box{{border:2px solid #d2413a;border-radius:6px;padding:1em 1.5em;background:#fdf3f2}}</style></head>
<body><div class="box"><h2>{title} (Score: 0 / {max_score:g})</h2>
<p><b>This notebook could not be graded.</b></p><p>Why: {reason}</p>
<p>Every autograded part of it scores zero until it is graded. Ask the instructor if you
think this is wrong.</p></div></body></html>
"""


def write_ungraded_pages(root, student=None, assignment=ASSIGNMENT):
    """Write feedback/<student>/<assignment>/<notebook>.html for each notebook that could not be graded."""
    from nbgrader.api import Gradebook
    root = Path(root)
    found = ungraded(root, student, assignment)
    max_scores = {}
    if (root / "gradebook.db").exists():
        with Gradebook("sqlite:///" + str(root / "gradebook.db")) as gb:
            max_scores = {nb.name: nb.max_score for nb in gb.find_assignment(assignment).notebooks}
    for (sid, name), reason in found.items():
        folder = root / "feedback" / sid / assignment
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{name}.html"
        if page.exists():
            page.chmod(0o644)
        page.write_text(_PAGE.format(title=html.escape(name), reason=html.escape(reason),
                                     max_score=max_scores.get(name, 0)))
    return found


def ungraded_pages_hook(assignment=None, student=None, notebooks=None):
    """GenerateFeedback.post_convert_hook: runs in the course root after each student's feedback."""
    assignment = assignment if assignment and assignment != "*" else ASSIGNMENT
    write_ungraded_pages(os.getcwd(), student if student and student != "*" else None, assignment)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.feedback", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent), help="course folder")
    parser.add_argument("--student", default=None, help="student id or pattern (default: all)")
    args = parser.parse_args(argv)
    found = write_ungraded_pages(args.root, args.student)
    for (sid, name), reason in sorted(found.items()):
        print(f"{sid:<30} {name:<24} {reason}")
    print(f"{len(found)} notebook(s) could not be graded; feedback pages written for them.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
