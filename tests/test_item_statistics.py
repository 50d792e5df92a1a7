"""Item statistics in the grading report: pass rate, discrimination, failure messages, flags.

Fast tests on made-up classes check the numbers and the flags; a slow one renders the report of
the graded example course (tests/conftest.py: graded_course), opens it in Chromium and reads the
section as an instructor sees it.
"""
import math
import os
from pathlib import Path

import nbformat
import pytest

from course.reports import item_statistics as stats

CELLS = [("p1", "easy", 1), ("p1", "good", 2), ("p1", "odd", 1), ("p2", "crashy", 1), ("p2", "solid", 3)]


def _class(rows):
    """{student: {(nb, gid): score}} from {student: [score per CELLS]}."""
    return {s: {(nb, gid): v for (nb, gid, _), v in zip(CELLS, vals)} for s, vals in rows.items()}


def _items(scores, messages=None, **limits):
    found = stats.analyse(CELLS, scores, messages or {}, stats.ItemStatistics(**limits))
    return {it.grade_id: it for it in found}


def _pearson(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    return sxy / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


def test_discrimination_is_the_correlation_of_passing_with_the_rest_of_the_score():
    rows = {f"s{i}": [1, 2 if i >= 4 else (1 if i == 3 else 0), i % 2, 1 if i > 1 else 0] for i in range(8)}
    items = _items(_class(rows), min_submissions=1)
    good = items["good"]
    passed = [1 if rows[s][1] >= 2 else 0 for s in sorted(rows)]
    rest = [sum(rows[s]) - rows[s][1] for s in sorted(rows)]
    assert good.passed == sum(passed) == 4 and good.pass_rate == pytest.approx(0.5)
    assert good.discrimination == pytest.approx(_pearson(passed, rest))
    assert good.discrimination > 0     # the stronger half passes it
    assert items["easy"].discrimination is None and items["easy"].why_undefined == "everyone passed"


def test_flags_say_why_a_cell_deserves_a_look():
    # 12 students, s00 weakest: "good" and "solid" are passed by the strong ones, "odd" mostly by
    # weak ones (negative), "easy" by everyone, "crashy" fails mostly with a TypeError in the test.
    rows, messages = {}, {}
    for i in range(12):
        s = f"s{i:02d}"
        rows[s] = [1, 2 if i >= 6 else 0, 1 if i in (0, 1, 2, 7) else 0, 1 if i in (4, 8, 10) else 0,
                   3 if i >= 4 else 0]
        messages[s] = {}
        if rows[s][3] == 0:
            messages[s][("p2", "crashy")] = (("TypeError", "cannot unpack non-iterable NoneType object")
                                             if i != 11 else ("AssertionError", "crashy (case 2): expected 3, got 4."))
        if rows[s][2] == 0:
            messages[s][("p1", "odd")] = ("AssertionError", f"odd (case): expected {i}, got {i + 1}.")
    items = _items(_class(rows), messages)
    assert any("100% pass" in r for r in items["easy"].reasons)
    assert any("negative discrimination" in r for r in items["odd"].reasons), items["odd"].reasons
    crash = [r for r in items["crashy"].reasons if "TypeError" in r]
    assert crash and "8 of 9 failures" in crash[0], items["crashy"].reasons
    assert items["crashy"].messages[0][:2] == ("TypeError: cannot unpack non-iterable NoneType object", 8)
    assert not items["good"].flagged, items["good"].reasons
    # the students' own numbers do not split one kind of failure into many
    assert items["odd"].messages == [("AssertionError: odd (case): expected #, got #.", 8,
                                      "AssertionError: odd (case): expected 3, got 4.")]


def test_few_submissions_show_discrimination_without_flagging_it():
    rows = {"a": [1, 2, 0, 1], "b": [1, 0, 1, 0], "c": [1, 0, 1, 1]}
    items = _items(_class(rows), min_submissions=10)
    assert items["odd"].discrimination is not None and items["odd"].discrimination < 0
    assert not any("discrimination" in r for r in items["odd"].reasons)


def test_a_failure_without_an_error_output_is_counted_and_named():
    rows = {"a": [1, 1, 1, 1], "b": [1, 2, 1, 1]}   # partial credit on "good", no error shown
    assert _items(_class(rows))["good"].messages == [(stats.NO_MESSAGE, 1, stats.NO_MESSAGE)]


def test_messages_are_read_from_the_autograded_test_cells(tmp_path):
    nb = nbformat.v4.new_notebook()
    test = nbformat.v4.new_code_cell("assert f() == 1")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "t1", "points": 1}
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError",
                                           evalue="\x1b[0;31mf (case): expected 1, got 2.\n  more", traceback=[])]
    answer = nbformat.v4.new_code_cell("raise NotImplementedError()")
    answer.metadata["nbgrader"] = {"grade": False, "solution": True, "grade_id": "a1"}
    answer.outputs = [nbformat.v4.new_output("error", ename="NotImplementedError", evalue="", traceback=[])]
    nb.cells = [answer, test]
    nbformat.write(nb, str(tmp_path / "p1.ipynb"))
    found = stats.failure_messages(tmp_path / "p1.ipynb")
    assert list(found) == ["t1"]
    assert stats.normalise(*found["t1"]) == ("AssertionError: f (case): expected #, got #.",
                                             "AssertionError: f (case): expected 1, got 2.")
    assert stats.failure_messages(tmp_path / "missing.ipynb") == {}


def test_the_section_escapes_what_students_wrote():
    rows = {"a": [1, 0, 1, 1], "b": [1, 2, 1, 1]}
    messages = {"a": {("p1", "good"): ("AssertionError", "<img src=x onerror=alert(1)> got <script>")}}
    page = stats.render({"items": stats.analyse(CELLS, _class(rows), messages), "limits": stats.ItemStatistics()})
    assert "<script>" not in page and "<img src=x" not in page and "&lt;script&gt;" in page


@pytest.mark.slow
def test_report_shows_item_statistics_in_the_browser(graded_course, tmp_path):
    from course import settings
    from course.reports import grading_report
    from support.chromium import launched
    folder, scores, _ = graded_course
    out, data = grading_report.write(settings.load(folder), tmp_path / "report.html")
    items = data["item_statistics"]["items"]
    assert items and all(it.n == len(data["graded"]) for it in items)
    failing = max(items, key=lambda it: it.failures)
    assert failing.failures and failing.messages, "the examples fail some test with a message"
    shots = Path(os.environ.get("HW4_BROWSER_SHOTS", tmp_path)) / "item_statistics"
    shots.mkdir(parents=True, exist_ok=True)
    with launched("the item statistics page test") as chrome:
        try:
            page = chrome.new_page(viewport={"width": 1400, "height": 900})
            page.goto(out.as_uri())
            section = page.locator("#item-statistics-table")
            section.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "item_statistics.png"))
            rows = page.locator("tr.item-stat")
            assert rows.count() == len(items)
            row = page.locator(f"tr.item-stat[data-grade-id='{failing.grade_id}']")
            rate = row.locator(".pass-rate").inner_text()
            shown = row.locator(".messages").inner_text()
        finally:
            chrome.close()
    print(f"\nscreenshot: {shots}")
    assert rate.startswith(f"{100 * failing.pass_rate:.0f}%") and f"{failing.passed} / {failing.n}" in rate
    key, count, _ = failing.messages[0]
    assert f"{count} × {key}" in shown, shown
