"""Feedback a student can act on, and the instructor's report, checked against the gradebook.

Two courses: the session's graded_course (hw4 with the example submissions), and a
toy course built here (two tiny notebooks, one graded cell with a hidden test each)
whose submissions cover what the example submissions cannot: a known mistake, a
kernel crash, a broken file, a missing file and a cell that runs past the time limit.
"""
import csv
import html
import re
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from course import gradebook, notebooks, pipeline, settings
from course.feedback import plain_feedback, ungraded_pages
from course.reports import grading_report as report

from support.course import ROOT

pytestmark = pytest.mark.slow  # autogrades courses with nbgrader and kernels

TIMEOUT = 5   # seconds per cell in the toy course (the course's own limit is longer)
TOY_SOURCE = {
    "toy1": [
        ("code", "import numpy as np\nfrom hw4_checks import call, check_close",
         {"grade": False, "solution": False, "locked": True}, "toy1_imports"),
        ("code", 'def double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n'
                 "    ### END SOLUTION", {"grade": False, "solution": True, "locked": False}, "double"),
        ("code", '"""double doubles a number."""\ncheck_close(call(double, 1.0), 2.0, "double", case="x = 1")\n'
                 "### BEGIN HIDDEN TESTS\nsecret_input_toy = 21.5  # SECRET-TOY-ONE\n"
                 'check_close(call(double, secret_input_toy, case="x = 21.5"), 43.0, "double", case="x = 21.5")\n'
                 "### END HIDDEN TESTS", {"grade": True, "solution": False, "locked": True, "points": 1},
         "double_numbers"),
        ("code", '"""double doubles every entry of an array."""\n### BEGIN HIDDEN TESTS\n'
                 "secret_array_toy = np.arange(3.0)  # SECRET-TOY-TWO\n"
                 'check_close(call(double, secret_array_toy), [0.0, 2.0, 4.0], "double", case="arange(3)")\n'
                 "### END HIDDEN TESTS", {"grade": True, "solution": False, "locked": True, "points": 2},
         "double_arrays"),
    ],
    "toy2": [
        ("code", "from hw4_checks import call, check_close",
         {"grade": False, "solution": False, "locked": True}, "toy2_imports"),
        ("code", 'def half(x):\n    """Half of x."""\n    ### BEGIN SOLUTION\n    return x / 2\n'
                 "    ### END SOLUTION", {"grade": False, "solution": True, "locked": False}, "half"),
        ("code", '"""half halves a number."""\n### BEGIN HIDDEN TESTS\n'
                 'check_close(call(half, 9.0), 4.5, "half", case="x = 9")  # SECRET-TOY-THREE\n'
                 "### END HIDDEN TESTS", {"grade": True, "solution": False, "locked": True, "points": 1},
         "half_numbers"),
    ],
}
# student -> {notebook: code for the answer cells, None: the reference, "MISSING", "BROKEN"}
TOY_STUDENTS = {
    "toy_good": {"toy1": None, "toy2": None},
    "toy_mistake": {"toy1": "def double(x):\n    return x + x + 1\n", "toy2": None},
    "toy_crash": {"toy1": 'double = __import__("os")._exit(1)\n', "toy2": None},
    "toy_broken": {"toy1": None, "toy2": "BROKEN"},
    "toy_missing": {"toy1": None, "toy2": "MISSING"},
    "toy_slow": {"toy1": "def double(x):\n    while True:\n        pass\n", "toy2": None},
}


def _toy_notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    for kind, source, meta, grade_id in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata = {"nbgrader": {**meta, "grade_id": grade_id, "schema_version": 3}}
        nb.cells.append(cell)
    return nb


def _text(path):
    """What a reader sees on an HTML page: tags dropped, entities decoded."""
    page = path.read_text()
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _report_rows(page, cls):
    """The rows of the report's table whose <tr> has class ``cls``: (attributes, [cell texts])."""
    rows = []
    for attrs, body in re.findall(r"<tr class='" + cls + r"(?: [^']*)?'([^>]*)>(.*?)</tr>", page, flags=re.S):
        data = dict(re.findall(r"data-([\w-]+)='([^']*)'", attrs))
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", body)]
        rows.append((data, cells))
    return rows


@pytest.fixture(scope="module")
def toy_course(tmp_path_factory):
    """The toy course, autograded (with a 5 s cell limit) and its feedback and report written."""
    root = tmp_path_factory.mktemp("toy_course")
    pipeline.scratch_course(root, names=[])   # the course's config and hw4_checks.py, no notebook
    for name, cells in TOY_SOURCE.items():
        notebooks.write(_toy_notebook(cells), root / "source" / "hw4" / f"{name}.ipynb")
    pipeline.generate(root)
    for student, plan in TOY_STUDENTS.items():
        built = pipeline.build_student(root, {n: c for n, c in plan.items() if c not in (None, "MISSING", "BROKEN")},
                                       "reference")
        folder = pipeline.submit(root, student, {n: nb for n, nb in built.items() if plan[n] != "MISSING"})
        for name, code in plan.items():
            if code == "BROKEN":
                (folder / f"{name}.ipynb").write_text('{"cells": [ this is not json')
    start = time.time()
    # nbgrader exits non-zero when it gives up on a submission (the crash, the broken file): expected here
    pipeline.nbgrader(root, "autograde", "hw4", "--force", f"--TrustedExecute.call_timeout={TIMEOUT}", check=False)
    wall = time.time() - start
    # the time limit in force is config (not the notebook): the feedback run must see the same one
    pipeline.nbgrader(root, "generate_feedback", "hw4", "--force", f"--Execute.timeout={TIMEOUT}")
    pipeline.nbgrader(root, "generate_feedback", "hw4", "--force", "--PlainFeedback.show_hidden_tests=True",
                      "--CourseDirectory.feedback_directory=feedback_shown")
    out = root / "report.html"
    proc = subprocess.run([sys.executable, "-m", "course.reports", "--root", str(root), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return root, wall, out


def _hidden_lines(root):
    """Telling lines of the hidden tests that appear nowhere else in their source notebook."""
    lines = []
    for path in sorted((root / "source" / "hw4").glob("*.ipynb")):
        nb = notebooks.read(path)
        hidden = {line.strip() for line in notebooks.hidden_test_lines(nb) if notebooks.is_telling(line)}
        elsewhere = [line.strip() for cell in nb.cells
                     for line in plain_feedback.PlainFeedback()._hide_region(cell.source).splitlines()]
        lines += sorted(hidden - set(elsewhere))
    return lines


# --- feedback ---------------------------------------------------------------------------------

def test_feedback_for_a_known_mistake_names_the_test_and_hides_its_code(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback" / "toy_mistake" / "hw4" / "toy1.html")
    # the score table on top: both failed parts by name, with the notebook and homework totals
    top = text[:text.index("Student's answer")]
    for grade_id, points in (("double_numbers", 1), ("double_arrays", 2)):
        assert re.search(grade_id + r"\s*double doubles.*?0 / " + str(points) + r"\s*failed", top, re.S), top
    assert "Score: 0 / 3 in toy1" in top and "total: 1 / 4" in top, top
    # the failure in plain words, from the check helpers
    assert "Test failed: double (x = 1): expected 2, got 3" in text
    assert "Test failed: double (arange(3)): 3 of 3 entries are off" in text
    # no hidden test code, no traceback into it
    for line in _hidden_lines(root):
        assert line not in text, f"hidden test line in the feedback: {line}"
    assert "SECRET-TOY" not in text and "Traceback" not in text and "----> " not in text
    assert "hidden tests (2 lines), not shown" in text


def test_instructor_switch_shows_hidden_tests(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback_shown" / "toy_mistake" / "hw4" / "toy1.html")
    assert "SECRET-TOY-ONE" in text and "SECRET-TOY-TWO" in text
    assert "Traceback" in text or "----> " in text


def test_passed_parts_say_so(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback" / "toy_good" / "hw4" / "toy1.html")
    top = text[:text.index("Student's answer")]
    assert re.search(r"double_numbers.*?1 / 1\s*passed", top, re.S) and "total: 4 / 4" in top, top
    assert "Test failed" not in text


def test_timeout_is_explained(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback" / "toy_slow" / "hw4" / "toy1.html")
    assert re.search(r"Test failed: double .*took too long", text), text[-2000:]
    assert "SECRET-TOY" not in text and "Traceback" not in text


def test_crash_is_explained(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback" / "toy_crash" / "hw4" / "toy1.html")
    assert re.search(r"Test failed: .*kernel died", text), text[-2000:]
    assert "SECRET-TOY" not in text


def test_repaired_notebook_says_what_was_repaired(toy_course):
    root, _, _ = toy_course
    text = _text(root / "feedback" / "toy_broken" / "hw4" / "toy2.html")
    assert "had to be repaired" in text and "not valid JSON" in text, text[:3000]
    # and only there: the same student's sound notebook carries no such note
    assert "had to be repaired" not in _text(root / "feedback" / "toy_broken" / "hw4" / "toy1.html")


def test_missing_notebook_gets_feedback_saying_so(toy_course):
    root, _, _ = toy_course
    assert not (root / "autograded" / "toy_missing" / "hw4" / "toy2.ipynb").exists()
    text = _text(root / "feedback" / "toy_missing" / "hw4" / "toy2.html")
    assert "could not be graded" in text and "toy2.ipynb was not in the submission" in text, text


def test_submission_nbgrader_gave_up_on_is_explained_from_its_log(tmp_path):
    """No submission makes the protected autograde give up, so its traces are laid out by hand."""
    (tmp_path / "release" / "hw4").mkdir(parents=True)
    for name in ("toy1", "toy2"):
        notebooks.write(_toy_notebook(TOY_SOURCE[name]), tmp_path / "release" / "hw4" / f"{name}.ipynb")
    sub = tmp_path / "submitted" / "lost" / "hw4"
    sub.mkdir(parents=True)
    for name in ("toy1", "toy2"):
        shutil.copy(tmp_path / "release" / "hw4" / f"{name}.ipynb", sub)
    (tmp_path / "autograded" / "fine" / "hw4").mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.NbGrader.logfile = 'nbgrader.log'\n")
    (tmp_path / "nbgrader.log").write_text(
        f"[AutogradeApp | ERROR] There was an error processing assignment: {sub}\n"
        "[AutogradeApp | ERROR] Traceback (most recent call last):\n"
        '      File "x.py", line 1, in f\n        raise DeadKernelError("Kernel died")\n'
        "    nbclient.exceptions.DeadKernelError: Kernel died\n    \n"
        f"[AutogradeApp | WARNING] Removing failed assignment: {tmp_path}/autograded/lost/hw4\n")
    found = ungraded_pages.write_ungraded_pages(settings.load(tmp_path))
    assert set(found) == {("lost", "toy1"), ("lost", "toy2")}
    text = _text(tmp_path / "feedback" / "lost" / "hw4" / "toy1.html")
    assert "could not be graded" in text and "kernel died" in text, text


# --- report -----------------------------------------------------------------------------------

def _check_report_against_gradebook(root, page, graded_students):
    """Every number of the item table and the problem table, recomputed from course.gradebook.scores."""
    scores = gradebook.scores(settings.load(root))
    items = _report_rows(page, "item")
    cells = {(nb, gid): top for per in scores.values() for nb, cs in per.items()
             for gid, (_, top, auto) in cs.items() if auto}
    assert {(d["notebook"], d["grade-id"]) for d, _ in items} == set(cells)
    shares = []
    for data, row in items:
        nb, gid = data["notebook"], data["grade-id"]
        passed = sum(1 for s in graded_students
                     if (scores[s].get(nb, {}).get(gid, (0,))[0] or 0) >= cells[nb, gid])
        assert row[3] == f"{passed} / {len(graded_students)}", (gid, row)
        shares.append(passed / len(graded_students))
    assert shares == sorted(shares), "item analysis is not sorted hardest first"
    for data, row in _report_rows(page, "problem"):
        got = [sum(s or 0 for s, _, _ in scores[st].get(data["notebook"], {}).values())
               for st in graded_students]
        top = float(row[1])
        assert row[4] == f"{sum(g >= top for g in got)} / {len(graded_students)}", (data, row)
        assert abs(float(row[2]) - sum(got) / len(got)) < 0.006, (data, row)
    return items


def test_toy_report_matches_gradebook_and_lists_ungraded(toy_course):
    root, wall, out = toy_course
    page = out.read_text()
    graded = sorted(TOY_STUDENTS)
    assert re.search(r"id='n-graded'>6<", page) and re.search(r"id='n-failed'>0<", page)
    items = _check_report_against_gradebook(root, page, graded)
    assert len(items) == 3
    listed = {(d["student"], d["notebook"]) for d, _ in _report_rows(page, "ungraded")}
    assert listed == {("toy_missing", "toy2")}
    repaired = {(d["student"], d["notebook"]) for d, _ in _report_rows(page, "repaired")}
    assert repaired == {("toy_broken", "toy2")}
    # grading times: the slow submission waited out a TIMEOUT-second cell, and none took longer than the run
    times = {d["student"]: float(row[1]) for d, row in _report_rows(page, "time")}
    assert set(times) == set(graded)
    assert max(times, key=times.get) == "toy_slow" and times["toy_slow"] >= TIMEOUT
    assert all(0 < t <= wall for t in times.values()), (times, wall)
    assert page.count("data:image/png;base64,") == 4


def test_examples_report_matches_gradebook_and_export(graded_course, tmp_path):
    root, _, students = graded_course
    out = tmp_path / "report.html"
    report.write(settings.load(root), out)
    page = out.read_text()
    items = _check_report_against_gradebook(root, page, sorted(students))
    # the reference passes every test and the blank release none: each count lies strictly between
    for data, row in items:
        passed, n = map(int, row[3].split(" / "))
        assert 0 < passed < n, (data, row)
        assert bool(row[5]) == (passed / n < report.FLAG_BELOW), (data, row)
    # the mean total against nbgrader's own export (an independent reading of the gradebook)
    pipeline.nbgrader(root, "export", f"--to={tmp_path / 'grades.csv'}")
    with open(tmp_path / "grades.csv") as f:
        totals = [float(r["raw_score"]) for r in csv.DictReader(f) if r["student_id"] in students]
    mean = float(re.search(r"id='mean-total'>([\d.]+) /", page).group(1))
    assert abs(mean - sum(totals) / len(totals)) < 0.006
    assert page.count("data:image/png;base64,") == 4


def test_examples_feedback_names_failed_tests_without_hidden_code(graded_course):
    root, scores, students = graded_course
    hidden = _hidden_lines(root)
    assert hidden
    for student in students:
        for nb, cells in scores[student].items():
            text = _text(root / "feedback" / student / "hw4" / f"{nb}.html")
            top = text[:text.index("Student's answer")] if "Student's answer" in text else text
            for gid, (score, points, auto) in cells.items():
                if auto and (score or 0) < points:
                    assert re.search(re.escape(gid) + r".*?failed", top, re.S), (student, nb, gid)
            submitted = root / "submitted" / student / "hw4" / f"{nb}.ipynb"
            own = {line.strip() for cell in notebooks.read(submitted).cells for line in cell.source.splitlines()}
            shown = {line.strip() for line in text.splitlines()}  # whole lines: a short hidden line may be
            for line in hidden:  # the end of a visible one; a line the student wrote too may show, as theirs
                assert line in own or line not in shown, f"{student}/{nb}: hidden test line in the feedback: {line}"
