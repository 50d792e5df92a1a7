"""The instructor's report on a graded homework: one self-contained HTML page, from the gradebook.

``python -m course.reports [--root DIR] [--db-url URL] [--out FILE] [--flag-below SHARE]`` reads
the gradebook (wherever ``CourseDirectory.db_url`` points: SQLite or PostgreSQL) and the course folders after ``nbgrader autograde`` and writes
``hw4_report.html`` (pictures embedded as PNG) with

- the score distribution, overall and per problem (autograded points plus any
  written answers already graded by hand, as ``nbgrader export`` counts them);
- item analysis: every autograded test cell with the share of graded submissions
  that passed it, hardest first; cells passed by fewer than ``--flag-below``
  (default 20 %) are flagged for review (a broken test, or a part the class missed);
- the submissions that could not be graded, and why (course.feedback.diagnosis);
- grading time per submission (median, slowest), from the autograded folder's
  file times: nbgrader copies the assignment's extra files (hw4_checks.py) into
  autograded/STUDENT/hw4 before running anything and writes each notebook there
  when it is graded, so time = newest notebook - oldest file.

Submissions nbgrader could not grade at all are left out of the distributions and
the item analysis (they are listed instead); a notebook missing from a graded
submission counts as it does in the gradebook: zero.
"""
import argparse
import dataclasses
import base64
import html
import io
import statistics
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from .. import gradebook, settings as course_settings
from ..feedback.diagnosis import repairs, ungraded
from . import item_statistics
FLAG_BELOW = 0.2


def grading_seconds(folder):
    """Wall time nbgrader spent on one submission, from its autograded folder's file times, or None."""
    folder = Path(folder)
    files = [p for p in folder.rglob("*") if p.is_file()]
    notebooks = [p.stat().st_mtime for p in files if p.suffix == ".ipynb"]
    others = [p.stat().st_mtime for p in files if p.suffix != ".ipynb"]
    if not notebooks or not others:
        return None
    return max(notebooks) - min(others)


def collect(settings, flag_below=FLAG_BELOW):
    """Everything the report shows, as plain data."""
    root, assignment = settings.root, settings.assignment
    not_graded = ungraded(settings)
    with gradebook.opened(settings) as gb:
        assignment_row = gb.find_assignment(assignment)
        notebooks = [(nb.name, nb.max_score) for nb in sorted(assignment_row.notebooks, key=lambda n: n.name)]
        cells = []  # (notebook, grade_id, points), in notebook order
        for nb in sorted(assignment_row.notebooks, key=lambda n: n.name):
            answers = {sc.name for sc in nb.solution_cells}  # graded answer cells are graded by hand
            for cell in nb.grade_cells:
                if cell.cell_type == "code" and cell.name not in answers:
                    cells.append((nb.name, cell.name, cell.max_score))
        students = []
        for sub in gb.assignment_submissions(assignment):
            sid = sub.student.id
            graded_dir = settings.autograded(sid)
            per_nb, per_cell = {}, {}
            for nb in sub.notebooks:
                per_nb[nb.name] = nb.score
                for grade in nb.grades:
                    if grade.cell.cell_type == "code":
                        per_cell[nb.name, grade.name] = (grade.auto_score, grade.max_score)
            students.append({
                "id": sid, "total": sub.score, "max": sub.max_score, "per_notebook": per_nb,
                "cells": per_cell, "graded": graded_dir.is_dir(),
                "seconds": grading_seconds(graded_dir) if graded_dir.is_dir() else None,
                "timestamp": sub.timestamp,
            })
    students.sort(key=lambda s: s["id"])
    graded = [s for s in students if s["graded"]]
    items = []
    for nb_name, grade_id, points in cells:
        passed = sum(1 for s in graded
                     if (s["cells"].get((nb_name, grade_id), (None, points))[0] or 0) >= points)
        share = passed / len(graded) if graded else float("nan")
        items.append({"notebook": nb_name, "grade_id": grade_id, "points": points,
                      "passed": passed, "n": len(graded), "share": share,
                      "flagged": bool(graded) and share < flag_below})
    items.sort(key=lambda it: (it["share"], it["notebook"], it["grade_id"]))
    times = sorted((s["seconds"], s["id"]) for s in graded if s["seconds"] is not None)
    return {
        "assignment": assignment, "root": str(root), "notebooks": notebooks,
        "gradebook": make_url(settings.db_url).render_as_string(hide_password=True),
        "max_total": sum(m for _, m in notebooks), "students": students, "graded": graded,
        "items": items, "flag_below": flag_below,
        "ungraded": sorted((sid, nb, reason) for (sid, nb), reason in not_graded.items()),
        "repaired": sorted((sid, nb, "; ".join(ps)) for (sid, nb), ps in repairs(settings).items()),
        "times": times,
        "item_statistics": item_statistics.collect(settings, cells, graded, hard_below=flag_below),
        "median_seconds": statistics.median(t for t, _ in times) if times else None,
        "slowest": times[-1] if times else None,
    }


# --- pictures ---------------------------------------------------------------------------------

def _png(fig):
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _hist(ax, values, top, title):
    import math
    import numpy as np
    top = max(top, 1)
    step = max(1, math.ceil(top / 25))  # whole points per bar, at most ~25 bars
    bins = np.arange(0, top + step + 1e-9, step) - step / 2
    ax.hist(values, bins=bins, color="#4c72b0", edgecolor="white")
    ax.set_xlim(-0.5 * step, top + 0.5 * step)
    ax.set_title(title, fontsize=12)
    ax.set_xlabel("points")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)


def pictures(data):
    """name -> base64 PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 11})
    out = {}
    graded = data["graded"]
    if graded:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        _hist(ax, [s["total"] for s in graded], data["max_total"],
              f"Total score ({len(graded)} graded submissions, out of {data['max_total']:g})")
        out["total"] = _png(fig)
        n = len(data["notebooks"])
        cols = 2 if n > 1 else 1
        rows = (n + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(10, 3.2 * rows), squeeze=False)
        for ax, (name, top) in zip(axes.flat, data["notebooks"]):
            _hist(ax, [s["per_notebook"].get(name, 0) for s in graded], top, f"{name} (of {top:g})")
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        fig.tight_layout()
        out["problems"] = _png(fig)
    items = data["items"]
    if items and graded:
        fig, ax = plt.subplots(figsize=(10, 0.6 + 0.24 * len(items)))
        labels = [f"{it['notebook'].split('_')[0]}: {it['grade_id']}" for it in items]
        colors = ["#c62828" if it["flagged"] else "#4c72b0" for it in items]
        ax.barh(range(len(items)), [100 * it["share"] for it in items], color=colors)
        ax.set_yticks(range(len(items)), labels, fontsize=9)
        ax.invert_yaxis()
        ax.axvline(100 * data["flag_below"], color="#c62828", linestyle="--", linewidth=1)
        ax.set_xlim(0, 100)
        ax.set_xlabel("% of graded submissions that passed (red: flagged for review)")
        ax.set_title("Item analysis: test cells, hardest first", fontsize=12)
        out["items"] = _png(fig)
    if data["times"]:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        ax.hist([t for t, _ in data["times"]], bins=min(20, max(5, len(data["times"]))), color="#55a868",
                edgecolor="white")
        ax.set_xlabel("seconds per submission")
        ax.set_ylabel("submissions")
        ax.set_title("Grading time per submission", fontsize=12)
        out["times"] = _png(fig)
    return out


# --- the page ---------------------------------------------------------------------------------

_STYLE = """body{font-family:sans-serif;max-width:70em;margin:1.5em auto;font-size:15px;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f0f0f0}td.num{text-align:right}tr.flagged td{background:#fdecea}img{max-width:100%}
.note{color:#555}"""


# What the report may load: its own inline style and its embedded PNGs; nothing runs, nothing is fetched.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _img(pics, name, alt):
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{pics[name]}">' if name in pics else ""


def render(data, pics):
    e = html.escape
    graded, students = data["graded"], data["students"]
    totals = [s["total"] for s in graded]
    # The page has no script of its own: the policy keeps it so, whatever a student id or a reason holds.
    h = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta http-equiv='Content-Security-Policy' "
         f"content=\"{CSP}\"><title>{e(data['assignment'])} grading report"
         f"</title><style>{_STYLE}</style></head><body>",
         f"<h1>Grading report: {e(data['assignment'])}</h1>",
         f"<p class='note'>From the gradebook {e(data['gradebook'])}, written {datetime.now():%Y-%m-%d %H:%M}.</p>",
         "<h2>Summary</h2><table>",
         f"<tr><th>submissions in the gradebook</th><td class='num' id='n-submissions'>{len(students)}</td></tr>",
         f"<tr><th>graded</th><td class='num' id='n-graded'>{len(graded)}</td></tr>",
         f"<tr><th>could not be graded (whole submission)</th><td class='num' id='n-failed'>"
         f"{len(students) - len(graded)}</td></tr>"]
    if totals:
        h += [f"<tr><th>mean total</th><td class='num' id='mean-total'>{statistics.mean(totals):.2f} / "
              f"{data['max_total']:g}</td></tr>",
              f"<tr><th>median total</th><td class='num' id='median-total'>{statistics.median(totals):g} / "
              f"{data['max_total']:g}</td></tr>"]
    if data["median_seconds"] is not None:
        t, who = data["slowest"]
        h += [f"<tr><th>grading time, median</th><td class='num' id='median-seconds'>"
              f"{data['median_seconds']:.1f} s</td></tr>",
              f"<tr><th>grading time, slowest</th><td class='num' id='slowest-seconds'>{t:.1f} s "
              f"({e(who)})</td></tr>"]
    h.append("</table>")

    h.append("<h2>Score distribution</h2>")
    h.append("<p class='note'>Autograded points plus written answers already graded by hand, "
             "as in <code>nbgrader export</code>.</p>")
    h += [_img(pics, "total", "histogram of total scores"), _img(pics, "problems", "histograms per problem")]
    h.append("<table><tr><th>problem</th><th>max</th><th>mean</th><th>median</th><th>full marks</th></tr>")
    for name, top in data["notebooks"]:
        vals = [s["per_notebook"].get(name, 0) for s in graded]
        if vals:
            full = sum(1 for v in vals if v >= top)
            h.append(f"<tr class='problem' data-notebook='{e(name)}'><td>{e(name)}</td><td class='num'>{top:g}</td>"
                     f"<td class='num mean'>{statistics.mean(vals):.2f}</td>"
                     f"<td class='num'>{statistics.median(vals):g}</td>"
                     f"<td class='num full'>{full} / {len(vals)}</td></tr>")
    h.append("</table>")

    h.append("<h2>Item analysis</h2>")
    h.append(f"<p class='note'>Each autograded test cell: how many graded submissions earned its points. "
             f"Hardest first; flagged when fewer than {100 * data['flag_below']:.0f}% passed "
             "(check the test, or the teaching of that part).</p>")
    h.append(_img(pics, "items", "share of submissions passing each test cell"))
    h.append("<table><tr><th>test cell</th><th>problem</th><th>points</th><th>passed</th><th>share</th>"
             "<th>review</th></tr>")
    for it in data["items"]:
        h.append(f"<tr class='item{' flagged' if it['flagged'] else ''}' data-grade-id='{e(it['grade_id'])}' "
                 f"data-notebook='{e(it['notebook'])}'><td><code>{e(it['grade_id'])}</code></td>"
                 f"<td>{e(it['notebook'])}</td><td class='num'>{it['points']:g}</td>"
                 f"<td class='num passed'>{it['passed']} / {it['n']}</td>"
                 f"<td class='num'>{100 * it['share']:.0f}%</td>"
                 f"<td>{'FLAGGED: nearly everyone fails' if it['flagged'] else ''}</td></tr>")
    h.append("</table>")
    if "item_statistics" in data:  # pass rate, discrimination, failure messages (course.reports.item_statistics)
        h.append(item_statistics.render(data["item_statistics"]))

    h.append("<h2>Could not be graded</h2>")
    if data["ungraded"]:
        h.append("<table><tr><th>student</th><th>notebook</th><th>reason</th></tr>")
        for sid, nb, reason in data["ungraded"]:
            h.append(f"<tr class='ungraded' data-student='{e(sid)}' data-notebook='{e(nb)}'><td>{e(sid)}</td>"
                     f"<td>{e(nb)}</td><td>{e(reason)}</td></tr>")
        h.append("</table><p class='note'>Each of these students has a feedback page saying so "
                 "(<code>nbgrader generate_feedback</code> writes it).</p>")
    else:
        h.append("<p>Every submitted notebook was graded.</p>")

    h.append("<h2>Repaired before grading</h2>")
    if data["repaired"]:
        h.append("<p class='note'>course.protection.repair rebuilt these notebooks (repairs.jsonl); "
                 "the student's feedback page says what was repaired.</p>")
        h.append("<table><tr><th>student</th><th>notebook</th><th>what was repaired</th></tr>")
        for sid, nb, what in data["repaired"]:
            h.append(f"<tr class='repaired' data-student='{e(sid)}' data-notebook='{e(nb)}'><td>{e(sid)}</td>"
                     f"<td>{e(nb)}</td><td>{e(what)}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p>No notebook needed repairs.</p>")

    h.append("<h2>Grading time per submission</h2>")
    h.append("<p class='note'>From the autograded folder's file times: newest notebook minus the "
             "extra files nbgrader copies in before running anything.</p>")
    if data["times"]:
        h.append(_img(pics, "times", "histogram of grading times"))
        h.append("<table><tr><th>student</th><th>seconds</th></tr>")
        for t, sid in reversed(data["times"][-10:]):
            h.append(f"<tr class='time' data-student='{e(sid)}'><td>{e(sid)}</td><td class='num'>{t:.1f}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p>No grading times found.</p>")
    h.append("</body></html>")
    return "\n".join(h)


def write(settings, out=None, flag_below=FLAG_BELOW):
    data = collect(settings, flag_below)
    out = Path(out) if out else settings.root / f"{settings.assignment}_report.html"
    out.write_text(render(data, pictures(data)))
    return out, data


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course.reports", description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".", help="course folder (default: the current directory)")
    parser.add_argument("--db-url", default=None, help="gradebook URL (default: the course's CourseDirectory.db_url)")
    parser.add_argument("--out", default=None, help="output file (default: ROOT/ASSIGNMENT_report.html)")
    parser.add_argument("--flag-below", type=float, default=FLAG_BELOW,
                        help="flag test cells passed by fewer than this share (default 0.2)")
    args = parser.parse_args(argv)
    settings = course_settings.load(args.root)
    if args.db_url:
        settings = dataclasses.replace(settings, db_url=args.db_url)
    if not gradebook.exists(settings):
        print(f"no gradebook at {settings.db_url}: run ./run grade (or nbgrader autograde) first", file=sys.stderr)
        return 1
    out, data = write(settings, args.out, flag_below=args.flag_below)
    print(f"{len(data['graded'])} of {len(data['students'])} submissions graded; "
          f"{sum(it['flagged'] for it in data['items'])} of {len(data['items'])} test cells flagged; "
          f"{len(data['ungraded'])} notebook(s) could not be graded")
    if data["median_seconds"] is not None:
        print(f"grading time per submission: median {data['median_seconds']:.1f} s, "
              f"slowest {data['slowest'][0]:.1f} s ({data['slowest'][1]})")
    print(f"report: {out}")
    return 0
