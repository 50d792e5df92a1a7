"""Student feedback that says what went wrong, in plain words, without giving the hidden tests away.

``PlainFeedback`` (in ``c.GenerateFeedback.preprocessors``) works on the feedback copy only, never
on the autograded notebook or the gradebook: it puts a score table on top (every graded part with
its points, the notebook's total and the homework's total), replaces the hidden-test region of each
test cell by a one-line note, and shows a failed test as its message alone ("kmeans (case):
expected ..., got ...") instead of a traceback that quotes the hidden test.
``c.PlainFeedback.show_hidden_tests = True`` gives students nbgrader's plain rendering instead.

May import: course.notebooks, course.feedback.diagnosis, nbgrader, nbformat.
"""
import ast
import html
import os
import re

import nbformat
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool, List

from .. import settings as course_settings
from ..notebooks import scan_regions
from .diagnosis import repairs
from ..late import notice as late_notice

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
        False, help="Show students the hidden tests' code and the tracebacks of failed tests, as plain nbgrader does."
    ).tag(config=True)

    def _hide_region(self, source):
        """The source with each hidden-test region replaced by a one-line note."""
        out, hidden, open_region = [], 0, False
        for kind, line in scan_regions(source, self.begin_test_delimeter, self.end_test_delimeter):
            if kind == "begin":
                hidden, open_region = 0, True
            elif kind == "inside":
                hidden += 1
            elif kind == "end":
                indent = line[:len(line) - len(line.lstrip())]
                out.append(f"{indent}# ... hidden tests ({hidden} lines), not shown ...")
                open_region = False
            else:
                out.append(line)
        if open_region:  # an unterminated region: hidden to the end
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
        # the sandbox's bounds (course/protection/sandbox.py), said in plain words
        if "No space left on device" in evalue:
            text += ("\nYour notebook used more disk space than allowed (its /tmp and working folder "
                     "together), so your code could not write its file.")
        elif "Resource temporarily unavailable" in evalue or "can't start new thread" in evalue:
            text += "\nYour notebook started more processes or threads than allowed."
        elif "MemoryError" in ename + evalue:
            text += "\nYour code needed more memory than a notebook may use."
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
                totals = [(nb.name, nb.score - (nb.late_submission_penalty or 0), nb.max_score)  # as GetGrades: after any late penalty
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
        fixed = repairs(course_settings.current(os.getcwd())).get(
            (info.get("student"), info.get("notebook")), [])
        if fixed:
            out.append('<div style="border:2px solid #ef6c00;padding:.5em 1em;margin:.5em 0">'
                       "<b>Your notebook had to be repaired before it could be graded:</b><ul>"
                       + "".join(f"<li>{html.escape(p)}</li>" for p in fixed) + "</ul></div>")
        lateness = late_notice.notice_html(course_settings.current(os.getcwd()), info.get("assignment"),
                                           info.get("student"), info.get("late_penalty"), self.config)
        if lateness:  # days late, the student's due date and extension, the penalty (course.late.notice)
            out.append(lateness)
        elif info.get("late_penalty"):
            out.append(f"<p>Late submission penalty: -{info['late_penalty']:g}</p>")
        out.append('<table class="table table-condensed" style="width:auto">'
                   "<tr><th>part</th><th>what it checks</th><th>points</th><th>result</th></tr>"
                   + "".join(rows) + "</table>")
        if not self.show_hidden_tests:
            out.append("<p>A failed test shows its message: which function, which case, what was "
                       "expected and what came back. The hidden tests' code is not shown.</p>")
        return "\n".join(out) + "</div>"
