"""Item statistics for the grading report: which test cells deserve an instructor's look, and why.

For every autograded test cell:

- **pass rate**: the share of graded submissions that earned all its points;
- **discrimination**: the point-biserial correlation of passing it with the rest of the
  autograded score (every other test cell of the assignment).  A good test is passed more often by
  students who do well elsewhere (positive); near zero, passing it says nothing about mastery
  (a test anyone passes by luck, or one that fails for reasons unrelated to the answer); negative,
  strong students fail it more often: suspect the test or its expected values.  It is undefined when
  everyone passed or everyone failed, and noisy in a small class (below ``min_submissions`` it is
  shown but not flagged);
- **most frequent failure messages** with the number of students who got each, read from the
  test cell's error output in ``autograded/STUDENT/ASSIGNMENT/NOTEBOOK.ipynb``.  Messages are
  grouped by their first line with the numbers in it replaced by ``#`` (the case names and the
  kind of mistake stay, the student's own values go), so "2 of 5 entries differ ... expected 1,
  got 0" and "4 of 5 entries differ ... expected 0, got 1" count as one failure.

A cell is flagged with its reasons when: very few pass (a broken test, or a part the class
missed); nearly all pass (it does not tell students apart: fine for a warm-up); discrimination is
negative or near zero; or most of its failures are one error that is not an ``AssertionError``:
the checks (``hw4_checks``) turn every failed check and every exception in a student's function into
an AssertionError, so anything else means the test cell itself crashed on some answers.

Messages come from student submissions: the report escapes everything it shows (``render``).
May import: course.settings, nbformat (the gradebook's data come from grading_report.collect).
"""
import html
import math
import re
from collections import Counter
from dataclasses import dataclass, field

import nbformat
from traitlets import Float, Integer
from traitlets.config import Configurable

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w)")  # not inside a name (float32)
NO_MESSAGE = "(no error shown: partial credit, or output on stderr)"


class ItemStatistics(Configurable):
    """When the report flags a test cell (defaults suit a class of 20 to 500)."""

    hard_below = Float(0.2, help="Flag a test cell passed by fewer than this share of graded submissions.").tag(config=True)
    easy_above = Float(0.95, help="Flag a test cell passed by more than this share (it tells nobody apart).").tag(config=True)
    discrimination_below = Float(
        0.15, help="Flag a test cell whose discrimination (point-biserial, pass vs the rest of the score) is below this."
    ).tag(config=True)
    min_submissions = Integer(
        10, help="Discrimination and 'nearly all pass' are flagged only with at least this many graded submissions."
    ).tag(config=True)
    crash_share = Float(
        0.5, help="Flag a test cell when one error other than AssertionError is at least this share of its failures."
    ).tag(config=True)
    top_messages = Integer(3, help="How many of a cell's most frequent failure messages the report lists.").tag(config=True)


@dataclass
class Item:
    notebook: str
    grade_id: str
    points: float
    n: int                       # graded submissions
    passed: int
    pass_rate: float
    discrimination: float | None  # None: undefined (see why_undefined)
    why_undefined: str
    messages: list = field(default_factory=list)   # [(normalised message, students, an example)]
    failures: int = 0
    reasons: list = field(default_factory=list)

    @property
    def flagged(self):
        return bool(self.reasons)


def normalise(ename, evalue):
    """(group key, first line): the error's first line with numbers as '#', prefixed by the error's name."""
    first = _ANSI.sub("", str(evalue or "")).strip().splitlines()
    first = first[0].strip() if first else ""
    key = _NUMBER.sub("#", first)
    name = ename or "Error"
    return f"{name}: {key}" if key else name, f"{name}: {first}" if first else name


def failure_messages(notebook_path):
    """grade_id -> (ename, evalue) of each graded test cell with an error output in an autograded notebook."""
    try:
        nb = nbformat.read(str(notebook_path), as_version=4)
    except Exception:  # missing or unreadable: the report lists ungraded notebooks elsewhere
        return {}
    out = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                out[meta.get("grade_id", "")] = (output.get("ename", ""), output.get("evalue", ""))
                break
    return out


def point_biserial(passed, rest):
    """Pearson correlation of a 0/1 list with a list of numbers; (None, why) when undefined."""
    n = len(passed)
    if n < 2:
        return None, "fewer than two graded submissions"
    if all(passed):
        return None, "everyone passed"
    if not any(passed):
        return None, "nobody passed"
    mean_p, mean_r = sum(passed) / n, sum(rest) / n
    var_p = sum((p - mean_p) ** 2 for p in passed)
    var_r = sum((r - mean_r) ** 2 for r in rest)
    if var_r == 0:
        return None, "the rest of the score is the same for everyone"
    cov = sum((p - mean_p) * (r - mean_r) for p, r in zip(passed, rest))
    return cov / math.sqrt(var_p * var_r), ""


def analyse(cells, scores, messages, limits=None):
    """Item statistics from plain data.

    cells: [(notebook, grade_id, points)]; scores: {student: {(notebook, grade_id): score}} for the
    graded submissions (a missing cell scores 0); messages: {student: {(notebook, grade_id): (ename,
    evalue)}} of failed cells.  Returns [Item], in the order of ``cells``.
    """
    limits = limits or ItemStatistics()
    students = sorted(scores)
    totals = {s: sum(scores[s].get((nb, gid), 0) or 0 for nb, gid, _ in cells) for s in students}
    items = []
    for nb, gid, points in cells:
        got = {s: scores[s].get((nb, gid), 0) or 0 for s in students}
        passed = [1 if got[s] >= points else 0 for s in students]
        rest = [totals[s] - got[s] for s in students]
        n = len(students)
        r, why = point_biserial(passed, rest)
        groups, examples = Counter(), {}
        for s, ok in zip(students, passed):
            if ok:
                continue
            err = messages.get(s, {}).get((nb, gid))
            key, first = normalise(*err) if err else (NO_MESSAGE, NO_MESSAGE)
            groups[key] += 1
            examples.setdefault(key, first)
        item = Item(nb, gid, points, n, sum(passed), sum(passed) / n if n else float("nan"), r, why,
                    [(k, c, examples[k]) for k, c in groups.most_common()], n - sum(passed))
        item.reasons = _reasons(item, limits)
        items.append(item)
    return items


def _reasons(item, limits):
    reasons = []
    if not item.n:
        return reasons
    pct = f"{100 * item.pass_rate:.0f}%"
    if item.pass_rate < limits.hard_below:
        reasons.append(f"only {pct} pass: a broken test, or a part the class missed")
    elif item.pass_rate > limits.easy_above and item.n >= limits.min_submissions:
        reasons.append(f"{pct} pass: it tells almost nobody apart (fine for a warm-up check)")
    if item.discrimination is not None and item.n >= limits.min_submissions:
        if item.discrimination < 0:
            reasons.append(f"negative discrimination ({item.discrimination:+.2f}): students who do well "
                           "elsewhere fail it more often; check the test and its expected values")
        elif item.discrimination < limits.discrimination_below:
            reasons.append(f"discrimination near zero ({item.discrimination:+.2f}): passing it is "
                           "unrelated to the rest of the homework")
    if item.messages and item.failures >= 2:
        key, count, _ = item.messages[0]
        name = key.split(":", 1)[0]
        if key != NO_MESSAGE and name != "AssertionError" and count >= limits.crash_share * item.failures:
            reasons.append(f"{count} of {item.failures} failures are a {name}, not a failed check: "
                           "the test cell crashes on these answers")
    return reasons


def collect(settings, cells, graded, limits=None, hard_below=None):
    """Item statistics of the graded submissions.

    cells: [(notebook, grade_id, points)] (the autograded test cells); graded: the report's graded
    students, each {"id", "cells": {(notebook, grade_id): (score, max_score)}}.  Failure messages are
    read from the autograded notebooks.  ``hard_below`` (the report's ``--flag-below``) overrides
    ``ItemStatistics.hard_below``.
    """
    if limits is None:
        from ..settings import read_config
        limits = ItemStatistics(config=read_config(settings.root))
    if hard_below is not None:
        limits.hard_below = hard_below
    scores = {s["id"]: {k: v[0] for k, v in s["cells"].items()} for s in graded}
    messages = {}
    notebooks = sorted({nb for nb, _, _ in cells})
    for s in graded:
        folder = settings.autograded(s["id"])
        messages[s["id"]] = {(nb, gid): err for nb in notebooks
                             for gid, err in failure_messages(folder / f"{nb}.ipynb").items()}
    return {"items": analyse(cells, scores, messages, limits), "limits": limits}


# --- the report's section -------------------------------------------------------------------

def render(stats):
    """The report's item-statistics table (HTML); every message is escaped: students wrote them."""
    e = html.escape
    items, limits = stats["items"], stats["limits"]
    flagged = [it for it in items if it.flagged]
    n = items[0].n if items else 0
    h = ["<h2 id='item-statistics'>Item statistics</h2>",
         "<p class='note'>For each test cell: the share of graded submissions that passed it; its "
         "discrimination, the correlation of passing it with the rest of the autograded score "
         "(positive: stronger students pass it more often; near zero or negative: look at it); and its "
         "most frequent failure messages with the number of students who got each (numbers in a "
         "message shown as #). "
         f"Flagged: passed by under {100 * limits.hard_below:.0f}%; with at least {limits.min_submissions} "
         f"submissions, passed by over {100 * limits.easy_above:.0f}% or with a discrimination under "
         f"{limits.discrimination_below:g}; or failing mostly with an error that is not a failed check.</p>"]
    if n and n < limits.min_submissions:
        h.append(f"<p class='note'>With {n} graded submissions, discrimination is shown but not flagged "
                 "(too few to tell).</p>")
    h.append(f"<p id='items-flagged'><b>{len(flagged)} of {len(items)} test cells flagged.</b></p>")
    h.append("<table id='item-statistics-table'><tr><th>test cell</th><th>problem</th><th>pass rate</th>"
             "<th>discrimination</th><th>most frequent failures (students)</th><th>why look</th></tr>")
    order = sorted(items, key=lambda it: (not it.flagged, it.pass_rate, it.notebook, it.grade_id))
    for it in order:
        disc = (f"{it.discrimination:+.2f}" if it.discrimination is not None
                else f"<span class='note'>undefined: {e(it.why_undefined)}</span>")
        msgs = "".join(f"<li title='{e(example)}'><span class='count'>{count}</span> &times; {e(key)}</li>"
                       for key, count, example in it.messages[:limits.top_messages])
        more = len(it.messages) - limits.top_messages
        if more > 0:
            msgs += f"<li class='note'>and {more} other message{'s' if more > 1 else ''}</li>"
        h.append(f"<tr class='item-stat{' flagged' if it.flagged else ''}' data-grade-id='{e(it.grade_id)}' "
                 f"data-notebook='{e(it.notebook)}'><td><code>{e(it.grade_id)}</code></td><td>{e(it.notebook)}</td>"
                 f"<td class='num pass-rate' style='white-space:nowrap'>{100 * it.pass_rate:.0f}% ({it.passed} / {it.n})</td>"
                 f"<td class='num discrimination'>{disc}</td>"
                 f"<td class='messages'>{'<ul>' + msgs + '</ul>' if msgs else ''}</td>"
                 f"<td class='reasons'>{'<br>'.join(e(r) for r in it.reasons)}</td></tr>")
    h.append("</table>")
    return "\n".join(h)
