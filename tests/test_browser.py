"""End to end in a real browser: a student in JupyterLab, an instructor in the formgrader.

Debian's Chromium (headless, driven by Playwright) against JupyterLab servers that the test
starts on localhost with nbgrader's server and lab extensions:

student     opens release/hw4/problem2_gmm.ipynb (a copy), runs all cells and meets the
            NotImplementedError of the first answer cell; Validate reports failures; pastes the
            reference solution into every answer cell through the page, restarts and runs all:
            every cell runs, the visible tests pass, the plots render; Validate reports success.
instructor  opens the formgrader from JupyterLab's Nbgrader menu on a copy of the graded scratch
            course, sees hw4's graded example submissions with their scores (as in the gradebook),
            opens one submission of problem2_gmm, enters a score and a comment for a written
            answer; both land in the gradebook.

Every step saves a screenshot in the folder printed at the start (HW4_BROWSER_SHOTS names
another); a failing step saves one more and names the folder.  Without Chromium or Playwright the
tests are skipped, except in CI (CI=true), where they fail.
"""
import contextlib
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from course import notebooks, settings
from course.authoring import submissions

from support import jupyterlab as browser
from support.chromium import sync_playwright_or_skip, wait_until
from support.course import ASSIGNMENT

pytestmark = pytest.mark.slow  # JupyterLab servers and Chromium

NOTEBOOK = "problem2_gmm"
# Generous: the machine may be shared with other jobs.
RUN_TIMEOUT_MS = 600_000


@pytest.fixture(scope="module")
def chromium():
    sync_playwright = sync_playwright_or_skip("the browser test")
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=browser.CHROMIUM, headless=True,
                                   args=browser.CHROMIUM_ARGS)
        yield chrome
        chrome.close()


class Steps:
    """Named steps, each ending in a screenshot; a failing step adds one and names the folder."""

    def __init__(self, page, folder):
        self.page, self.folder, self.count = page, Path(folder), 0
        self.folder.mkdir(parents=True, exist_ok=True)
        print(f"\nbrowser screenshots: {self.folder}")

    def shot(self, name):
        self.count += 1
        path = self.folder / f"{self.count:02d}_{name}.png"
        try:
            self.page.screenshot(path=str(path))
        except Exception as exc:  # a screenshot must not hide the real failure
            print(f"screenshot {path.name} failed: {exc}")
        return path

    @contextlib.contextmanager
    def __call__(self, name):
        start = time.time()
        try:
            yield
        except Exception as exc:
            self.shot(f"{name}_FAILED")
            raise AssertionError(f"step '{name}' failed (screenshots in {self.folder}): {exc}") from exc
        self.shot(name)
        print(f"  {name}: {time.time() - start:.0f} s")


def _shots_folder(tmp_path, who):
    base = os.environ.get("HW4_BROWSER_SHOTS")
    return Path(base) / who if base else tmp_path / "screenshots"


def _new_page(chromium):
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    context.set_default_timeout(120_000)
    return context.new_page()


# ---------------------------------------------------------------------------------- JupyterLab

def _menu(page, menu, command):
    """Click a menu of JupyterLab's menu bar, then the item that runs ``command``."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f'.lm-Menu-item[data-command="{command}"]').click()


def _cells(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")


def _prompts(page):
    """The execution prompts of the code cells, by cell index: '12', '*' or ''."""
    return page.evaluate("""() => {
        const out = {};
        document.querySelectorAll('.jp-Notebook .jp-Cell').forEach((cell, i) => {
            if (!cell.classList.contains('jp-CodeCell')) return;
            const prompt = cell.querySelector('.jp-InputArea-prompt');
            const m = /\\[(.*)\\]/.exec(prompt ? prompt.innerText : '');
            out[i] = m ? m[1].trim() : '';
        });
        return out;
    }""")


def _kernel_idle(page):
    """The notebook's kernel is connected and idle (the status bar says "... | Idle")."""
    return page.evaluate("""() => {
        const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
        const bar = document.querySelector('#jp-main-statusbar');
        return !!indicator && indicator.dataset.status === 'idle' && !!bar
            && /\\(ipykernel\\) \\| Idle/.test(bar.innerText);
    }""")


def _run_cell(page, index, timeout_ms=RUN_TIMEOUT_MS):
    """Select code cell ``index`` (command mode), run it with Ctrl+Enter and wait for its count."""
    cell = _cells(page).nth(index)
    before = _prompts(page).get(str(index), "")
    cell.locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Control+Enter")

    def ran():
        now = _prompts(page).get(str(index), "")
        return re.fullmatch(r"\d+", now) and now != before and _kernel_idle(page)
    wait_until(ran, timeout_ms, f"cell {index} to run", interval=0.2)


def _outputs_text(cell):
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def _paste_into_cell(page, cell, text):
    """Replace a cell's text by pasting ``text`` into its editor (a paste event, as Ctrl+V makes)."""
    cell.scroll_into_view_if_needed()
    cell.locator(".jp-InputArea-prompt").click()   # select the cell (command mode) ...
    page.keyboard.press("Enter")                   # ... and edit it (opens a rendered markdown cell)
    editor = cell.locator(".cm-content")
    editor.wait_for()
    page.keyboard.press("Control+a")
    editor.evaluate("""(el, text) => {
        const data = new DataTransfer();
        data.setData('text/plain', text);
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    }""", text)
    page.keyboard.press("Escape")  # back to command mode


def _validate(page, timeout_ms):
    """Click the notebook's Validate button; return (succeeded, dialog text) and close the dialog."""
    page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator(".validation-success, .validation-failed").first.wait_for(timeout=timeout_ms)
    success = dialog.locator(".validation-success").count() > 0
    return success, dialog.inner_text()


def _close_dialog(page):
    page.locator(".jp-Dialog .jp-Dialog-button").last.click()
    page.locator(".jp-Dialog").wait_for(state="detached")


def _answer_cells_by_index(release_nb, source_nb):
    """cell index in the release -> (grade_id, cell_type, the reference answer's text)."""
    answers = submissions.answer_cells(source_nb)
    by_index = {}
    for index, cell in enumerate(release_nb.cells):
        grade_id = notebooks.nbgrader_meta(cell).get("grade_id")
        if notebooks.nbgrader_meta(cell).get("solution") and grade_id in answers:
            kind, text, _ = answers[grade_id]
            by_index[index] = (grade_id, kind, text)
    return by_index


def test_student_completes_and_validates_in_jupyterlab(graded_course, chromium, tmp_path):
    course, _, _ = graded_course
    folder = tmp_path / "student" / ASSIGNMENT
    shutil.copytree(course / "release" / ASSIGNMENT, folder)
    path = folder / f"{NOTEBOOK}.ipynb"
    release_nb = notebooks.read(path)
    source_nb = notebooks.read(course / "source" / ASSIGNMENT / path.name)
    answers = _answer_cells_by_index(release_nb, source_nb)
    code_answers = [i for i, (_, kind, _) in answers.items() if kind == "code"]
    test_cells = [i for i, c in enumerate(release_nb.cells)
                  if notebooks.nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    code_cells = [i for i, c in enumerate(release_nb.cells) if c.cell_type == "code"]
    plot_cells = [i for i, c in enumerate(release_nb.cells)
                  if c.cell_type == "code" and "plt.show()" in c.source]
    assert code_answers and test_cells and plot_cells

    with browser.JupyterLab(folder, tmp_path / "student" / "home", "student") as lab:
        page = _new_page(chromium)
        step = Steps(page, _shots_folder(tmp_path, "student"))

        with step("open_release_notebook"):
            page.goto(lab.lab_url(path.name))
            wait_until(lambda: _cells(page).count() == len(release_nb.cells), 180_000,
                        f"the {len(release_nb.cells)} cells of {path.name}")
            page.locator(".jp-NotebookPanel-toolbar .validate-button").wait_for()
            wait_until(lambda: _kernel_idle(page), 180_000, "the kernel to start")

        with step("run_every_cell_blank_raises_NotImplementedError"):
            # Run All stops at the first failing cell; a student who runs every cell in turn
            # meets the unanswered functions' NotImplementedError where they are called.
            for index in code_cells:
                _run_cell(page, index)
            raised = [i for i in code_cells if "NotImplementedError" in _outputs_text(_cells(page).nth(i))]
            assert raised, "no cell shows NotImplementedError"
            failed = [i for i in test_cells if "not implemented yet" in _outputs_text(_cells(page).nth(i))]
            assert failed == test_cells, f"test cells that do not say 'not implemented yet': " \
                f"{sorted(set(test_cells) - set(failed))}"
            _cells(page).nth(raised[0]).locator(".jp-OutputArea-output").last.scroll_into_view_if_needed()

        with step("validate_blank_reports_failures"):
            ok, text = _validate(page, RUN_TIMEOUT_MS)
            assert not ok, f"Validate passed the blank notebook:\n{text[:2000]}"
            assert "not implemented yet" in text or "NotImplementedError" in text, text[:2000]
        _close_dialog(page)

        with step("paste_reference_answers"):
            for index, (grade_id, kind, text) in answers.items():
                _paste_into_cell(page, _cells(page).nth(index), text)
            _menu(page, "File", "docmanager:save")
            wait_until(lambda: "jp-mod-dirty" not in (page.locator(
                ".lm-TabBar-tab.jp-mod-current").first.get_attribute("class") or ""),
                60_000, "the notebook to be saved")
            saved = nbformat.read(path, as_version=4)
            for index, (grade_id, kind, text) in answers.items():
                got = saved.cells[index].source
                assert got.strip() == text.strip(), \
                    f"cell {grade_id} after pasting differs from the reference:\n{got[:500]}"
            _cells(page).nth(code_answers[0]).scroll_into_view_if_needed()

        with step("restart_run_all_tests_pass"):
            _menu(page, "Run", "runmenu:restart-and-run-all")
            page.locator(".jp-Dialog .jp-mod-accept").click()
            wait_until(lambda: all(re.fullmatch(r"\d+", p) for p in _prompts(page).values())
                        and _kernel_idle(page), RUN_TIMEOUT_MS, "every code cell to run")
            for index in test_cells:
                cell = _cells(page).nth(index)
                errors = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
                assert errors.count() == 0, f"test cell {index} failed in the page:\n{_outputs_text(cell)[:2000]}"
            _cells(page).nth(test_cells[-1]).scroll_into_view_if_needed()

        with step("plots_render"):
            for index in plot_cells:
                images = _cells(page).nth(index).locator(".jp-RenderedImage img")
                assert images.count() >= 1, f"cell {index} shows no plot"
                assert images.first.evaluate("img => img.complete && img.naturalWidth > 100"), \
                    f"the plot of cell {index} did not render"
            _cells(page).nth(plot_cells[-1]).scroll_into_view_if_needed()

        with step("validate_completed_reports_success"):
            ok, text = _validate(page, RUN_TIMEOUT_MS)
            assert ok, f"Validate failed the completed notebook:\n{text[:3000]}"
        _close_dialog(page)

        # What Validate saved is the executed notebook: no errors, every plot an image.
        saved = nbformat.read(path, as_version=4)
        errors = [i for i, c in enumerate(saved.cells) if c.cell_type == "code"
                  and any(o.output_type == "error" for o in c.outputs)]
        assert not errors, f"cells with errors in the saved notebook: {errors}"
        for index in plot_cells:
            assert any("image/png" in o.get("data", {}) for o in saved.cells[index].outputs), index


# ---------------------------------------------------------------------------------- formgrader

def test_instructor_grades_in_formgrader(graded_course, chromium, tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(graded_course[0], course)   # the fixture's gradebook stays untouched
    source_nb = notebooks.read(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    written = [(notebooks.nbgrader_meta(c)["grade_id"], notebooks.nbgrader_meta(c)["points"])
               for c in source_nb.cells
               if c.cell_type == "markdown" and notebooks.nbgrader_meta(c).get("grade")]
    assert written, f"{NOTEBOOK} has no written answer cell"
    grade_id, points = written[0]
    student = "example_reference"
    with Gradebook(settings.load(course).db_url) as gb:
        expected = {s.student.id: (s.score, s.max_score) for s in gb.assignment_submissions(ASSIGNMENT)}
        submission_id = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).id
        assert gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student).manual_score is None
    assert student in expected and len(expected) >= 3
    new_score = max(points - 1, 0.5)
    comment = "Browser test: soft assignments and the k-means limit explained; the shapes point is thin."

    with browser.JupyterLab(course, tmp_path / "instructor" / "home", "instructor") as lab:
        page = _new_page(chromium)
        step = Steps(page, _shots_folder(tmp_path, "instructor"))

        with step("open_formgrader"):
            page.goto(lab.lab_url())
            page.locator(".lm-MenuBar-item", has_text=re.compile("^Nbgrader$")).wait_for()
            _menu(page, "Nbgrader", "nbgrader:open-formgrader")
            frame = page.frame_locator("iframe[src*='formgrader']")
            frame.locator("text=Manage Assignments").first.wait_for()
            frame.locator("td", has_text=re.compile(f"^{ASSIGNMENT}$")).first.wait_for()

        with step("submissions_with_scores"):
            frame.locator(f"a[href$='/formgrader/manage_submissions/{ASSIGNMENT}']").first.click()
            rows = frame.locator("tr", has=frame.locator("td.student-id"))
            wait_until(lambda: rows.count() >= len(expected), 120_000, "the submissions table")
            shown = {}
            for row in rows.all():
                sid = row.locator("td.student-id").inner_text().strip()
                shown[sid] = (row.locator("td.status").inner_text().strip(),
                              row.locator("td.score").inner_text().strip())
            for sid, (score, max_score) in expected.items():
                assert sid in shown, f"{sid} missing from the formgrader's submissions: {sorted(shown)}"
                status, text = shown[sid]
                assert status in ("needs manual grading", "graded"), f"{sid}: status {status!r}"
                got = re.fullmatch(r"([\d.]+) / ([\d.]+)", text)
                assert got, f"{sid}: score shown as {text!r}"
                assert abs(float(got[1]) - score) < 0.01 and abs(float(got[2]) - max_score) < 0.01, \
                    f"{sid}: formgrader shows {text}, the gradebook has {score} / {max_score}"

        with step("open_submission"):
            frame.locator("a", has_text="Manual Grading").first.click()
            frame.locator(f"a[href$='/formgrader/gradebook/{ASSIGNMENT}']").first.click()
            frame.locator(f"a[href$='/formgrader/gradebook/{ASSIGNMENT}/{NOTEBOOK}']").first.click()
            frame.locator(f"a[href$='/formgrader/submissions/{submission_id}']").first.click()
            score_box = frame.locator(f"input.score#{grade_id}")
            score_box.wait_for()
            score_box.scroll_into_view_if_needed()

        with step("enter_manual_grade_and_comment"):
            score_box.fill(str(new_score))
            score_box.press("Tab")   # change + blur: the formgrader saves the score
            comment_box = frame.locator(f"textarea#{grade_id}-comment")
            comment_box.fill(comment)
            comment_box.press("Tab")

            def landed():
                with Gradebook(settings.load(course).db_url) as gb:
                    grade = gb.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student)
                    note = gb.find_comment(grade_id, NOTEBOOK, ASSIGNMENT, student)
                    return (grade.manual_score, note.manual_comment)
            wait_until(lambda: landed() == (new_score, comment), 60_000,
                        f"the grade and comment of {grade_id} in the gradebook (have {landed()})")
            comment_box.scroll_into_view_if_needed()

        with step("failed_test_traceback"):
            # under a failed test the instructor reads the test's own lines and the message
            # (course/protection/tracebacks.py), not the check helpers' code or a scratch folder
            with Gradebook(settings.load(course).db_url) as gb:
                failing = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "example_typical_mistakes").id
            page.goto(f"{lab.url}/formgrader/submissions/{failing}/")
            error = page.locator("pre", has_text="This cell, line").first
            error.wait_for()
            error.scroll_into_view_if_needed()
            text = error.inner_text()
            assert re.search(r"^---> +\d+ ", text, re.M) and "\nAssertionError: " in text, text
            assert "hw4_checks.py" not in text and "hw4_trusted_" not in text and "Cell In[" not in text, text


# ---------------------------------------------------------------------------------- environment

def test_nbgrader_extensions_enabled():
    """The environment serves nbgrader's server extensions and its JupyterLab extension, enabled."""
    import subprocess
    import sys

    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
    server = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"],
                            capture_output=True, text=True, env=env)
    text = re.sub(r"\x1b\[[0-9;]*m", "", server.stdout + server.stderr)
    for ext in ("formgrader", "validate_assignment", "assignment_list", "course_list"):
        assert re.search(rf"nbgrader\.server_extensions\.{ext}\s+enabled", text), f"{ext}:\n{text}"
    lab = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                         capture_output=True, text=True, env=env)
    text = re.sub(r"\x1b\[[0-9;]*m", "", lab.stdout + lab.stderr)
    assert re.search(r"@jupyter/nbgrader v\S+ enabled\s+OK", text), text
