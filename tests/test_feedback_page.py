"""What a student reads back, in Debian's Chromium with no network: the handout once, math typeset,
failure messages that fit the page; and the instructor's formgrader typesets math offline too.

The fast tests at the top check course.feedback.page's typesetting on small pieces of HTML and
markdown (which ``$`` is math, currency, code, TeX that must not become markup).

The examples are graded once per session (the ``graded_course`` fixture).  Pages are opened from
disk (``file://``), as a student opens a fetched feedback file, in a browser context that is
offline and aborts every request that leaves the machine, recording it: a page that reaches for a
CDN fails the test even where this machine would have no network anyway.

The README's picture of a feedback page is made here: ``HW4_README_SCREENSHOT=1`` writes it to
docs/feedback_typical_mistakes.png (commit it when the page's look changes); otherwise it goes to
the test's temporary folder, where ``HW4_BROWSER_SHOTS`` can send it instead.
"""
import os
import re
import shutil
from pathlib import Path

import pytest

from bs4 import BeautifulSoup
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from course import notebooks, settings
from course.feedback.page import escaped_dollars_kept, typeset

from support import jupyterlab as browser
from support.chromium import launched
from support.course import ASSIGNMENT, ROOT, SOURCE

STUDENT = "example_typical_mistakes"
NOTEBOOK = "problem2_gmm"
README_SCREENSHOT = ROOT / "docs" / "feedback_typical_mistakes.png"
WIDTH = 800
# Math left as TeX: $...$ or $$...$$ around something with no line break (currency never has a closing
# $ on the same short run in these notebooks; the unit tests of course.feedback.page cover currency).
RAW_MATH = re.compile(r"\$\$?[^$\n]{1,200}?\$\$?")
# The page's text without code, outputs' preformatted text and the math already typeset.
PAGE_TEXT = """() => { const copy = document.body.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, math, .MathJax, .MathJax_Preview, .MathJax_Display')
        .forEach(e => e.remove());
    return copy.innerText; }"""
# Every element that holds a failure message or printed output, and the page itself, that is wider
# than its box (so that reading it needs sideways scrolling).
TOO_WIDE = """() => [...document.querySelectorAll(
        '.output_error, .output_error pre, .output_stream, .output_stream pre, .output_subarea, .output_area')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.className + ': ' + e.scrollWidth + ' > ' + e.clientWidth)
    .concat(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1
            ? ['the page: ' + document.documentElement.scrollWidth] : [])"""


def _page(markdown):
    """A feedback page holding one markdown cell rendered as nbconvert renders it, typeset."""
    body = escaped_dollars_kept(markdown2html_mistune)({}, markdown)
    html = (f'<html><head><script src="https://cdn.example/MathJax.js"></script></head><body>'
            f'<div class="text_cell_render rendered_html">{body}</div><pre>$x$ printed</pre></body></html>')
    return BeautifulSoup(typeset(html), "html.parser")


def test_math_in_markdown_becomes_mathml_and_nothing_else_does():
    soup = _page("Means $\\boldsymbol{\\mu}_k$ and $$\\sum_{i=1}^N r_{ik} = N_k$$ but `$a$` stays code.")
    maths = soup.find_all("math")
    assert [m.get("display") for m in maths] == ["inline", "block"]
    assert maths[0].find("msub") is not None and maths[1].find("munderover") is not None
    assert soup.find("code").get_text() == "$a$" and soup.find("pre").get_text() == "$x$ printed"
    assert soup.find("script") is None and "pre-wrap" in soup.find("style").get_text()


def test_currency_written_as_escaped_dollars_stays_text():
    soup = _page("It costs \\$5 or \\$10, and `\\$HOME` is code.")
    assert soup.find("math") is None
    assert "It costs $5 or $10" in soup.get_text() and soup.find("code").get_text() == "\\$HOME"


def test_tex_that_would_become_markup_stays_text():
    soup = _page("Mine: $\\text{<img src=x onerror=alert(1)>}$ and $\\href{javascript:alert(1)}{x}$.")
    assert soup.find("math") is None and soup.find("img") is None
    assert "onerror" in soup.get_text() and not any("href" in t.attrs for t in soup.find_all(True))


@pytest.fixture(scope="module")
def chromium():
    with launched("the feedback page test") as chrome:
        yield chrome


class OfflinePage:
    """A page in an offline context: requests for file:, data: and the local server pass, every other
    one is aborted and recorded in ``outside``."""

    def __init__(self, chrome, local=("file:", "data:", "about:", "http://127.0.0.1")):
        self.context = chrome.new_context(viewport={"width": WIDTH, "height": 1000})
        self.context.set_default_timeout(120_000)
        self.outside = []

        def route(r):
            if r.request.url.startswith(local):
                return r.continue_()
            self.outside.append(r.request.url)
            return r.abort()
        self.context.route("**/*", route)
        self.context.set_offline(not any(prefix.startswith("http") for prefix in local))
        self.page = self.context.new_page()

    def close(self):
        self.context.close()


def _feedback(course, student, name):
    return settings.load(course).feedback(student) / f"{name}.html"


# --------------------------------------------------------------------------- the handout, once

@pytest.mark.slow
def test_every_autograded_notebook_holds_the_source_cells_once_in_order(graded_course):
    """The bug as filed: each handout markdown cell came back three times."""
    course, _, students = graded_course
    autograded = settings.load(course).autograded
    for name in notebooks.notebook_names(SOURCE):
        source_ids = [c.id for c in notebooks.read(SOURCE / f"{name}.ipynb").cells]
        for student in students:
            nb = notebooks.read(autograded(student) / f"{name}.ipynb")
            assert [c.id for c in nb.cells] == source_ids, (student, name, len(nb.cells), len(source_ids))


@pytest.mark.slow
def test_every_feedback_page_shows_each_markdown_cell_once(graded_course, chromium):
    course, _, students = graded_course
    view = OfflinePage(chromium)
    try:
        for name in notebooks.notebook_names(SOURCE):
            source = notebooks.read(SOURCE / f"{name}.ipynb")
            headings = [line for c in source.cells if c.cell_type == "markdown"
                        for line in c.source.splitlines() if line.startswith("#")]
            for student in students:
                view.page.goto(_feedback(course, student, name).as_uri())
                shown = view.page.locator(".text_cell_render").count()
                # the markdown cells of the source and the score summary on top
                assert shown == sum(c.cell_type == "markdown" for c in source.cells) + 1, (student, name, shown)
                titles = view.page.locator(".text_cell_render h1, .text_cell_render h2, .text_cell_render h3")
                texts = [t.strip("¶ \n") for t in titles.all_inner_texts()]
                for heading in headings:
                    title = heading.lstrip("# ").strip()
                    if not set(title) & set("`*_[$\\"):  # rendered as written
                        assert texts.count(title) == 1, (student, name, title, texts.count(title))
    finally:
        view.close()


# --------------------------------------------------------------------------- math and width

@pytest.mark.slow
def test_feedback_pages_typeset_math_offline_and_fit_800_px(graded_course, chromium):
    course, _, students = graded_course
    view = OfflinePage(chromium)
    try:
        for student in students:
            for name in notebooks.notebook_names(SOURCE):
                view.page.goto(_feedback(course, student, name).as_uri())
                text = view.page.evaluate(PAGE_TEXT)
                assert RAW_MATH.findall(text) == [], (student, name, RAW_MATH.findall(text)[:5])
                assert view.page.locator("math").count() > 10, (student, name)
                assert view.page.locator("script").count() == 0, (student, name)
                assert view.page.evaluate(TOO_WIDE) == [], (student, name)
        assert view.outside == []
    finally:
        view.close()


@pytest.mark.slow
def test_a_failure_message_wraps_and_the_readme_picture_is_made(graded_course, chromium, tmp_path):
    course, _, _ = graded_course
    view = OfflinePage(chromium)
    try:
        view.page.goto(_feedback(course, STUDENT, NOTEBOOK).as_uri())
        failures = view.page.locator(".output_error pre")
        assert failures.count() > 0, "the typical mistakes fail no test in problem 2"
        first = failures.first
        text, box = first.inner_text(), first.bounding_box()
        assert text.startswith("Test failed:") and len(text) > 100, text
        assert box["height"] > 30 and box["x"] + box["width"] <= WIDTH, (text, box)  # several lines, inside
        # the picture: the failed test, its message and the math that follows it
        view.page.evaluate("""() => { const e = document.querySelector('.output_error');
            const cell = e.closest('.cell'); window.scrollTo(0, cell.getBoundingClientRect().top
                + window.scrollY - 10); }""")
        target = README_SCREENSHOT if os.environ.get("HW4_README_SCREENSHOT") == "1" else \
            Path(os.environ.get("HW4_BROWSER_SHOTS") or tmp_path) / README_SCREENSHOT.name
        target.parent.mkdir(parents=True, exist_ok=True)
        view.page.screenshot(path=str(target))
        print(f"\nfeedback page screenshot: {target}")
        assert target.stat().st_size > 20_000
        assert view.outside == []
    finally:
        view.close()


# --------------------------------------------------------------------------- the formgrader

@pytest.mark.slow
def test_the_formgrader_typesets_math_from_the_local_server(graded_course, chromium, tmp_path):
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    shutil.copytree(graded_course[0], course)   # the fixture's course stays untouched
    with Gradebook(settings.load(course).db_url) as gb:
        submission = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, STUDENT).id
    with browser.JupyterLab(course, tmp_path / "home", "instructor") as lab:
        view = OfflinePage(chromium, local=("data:", "about:", lab.url))
        try:
            view.page.goto(f"{lab.url}/formgrader/submissions/{submission}/?token={lab.token}")
            view.page.wait_for_function("() => document.querySelectorAll('.MathJax, .MathJax_Display').length > 10",
                                        timeout=180_000)
            view.page.wait_for_timeout(2000)  # MathJax typesets the page in chunks
            text = view.page.evaluate(PAGE_TEXT)
            shots = Path(os.environ.get("HW4_BROWSER_SHOTS") or tmp_path)
            shots.mkdir(parents=True, exist_ok=True)
            view.page.screenshot(path=str(shots / "formgrader_math.png"))
            assert RAW_MATH.findall(text) == [], RAW_MATH.findall(text)[:5]
            assert view.outside == []
        finally:
            view.close()
