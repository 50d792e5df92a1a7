"""Nothing a student writes runs in anyone's browser (README, "How grading is protected").

Payloads - script tags, event handlers on img, svg, body and details, ``javascript:`` links,
iframes, ``<meta http-equiv=refresh>``, style tags, remote images, ``text/html``, ``image/svg+xml``,
``application/javascript`` and forged ``image/png`` outputs, raw HTML in markdown, a hostile
student id - each try to set a marker (``top.__pwned``, the title ``PWNED``) and to reach a
listener on 127.0.0.1 that the test opens.

Fast tests check the pieces (course.protection.inert, the report's escaping, the formgrader's
policy).  Slow tests grade a real submission carrying every payload (problem 1 only, with
``nbgrader autograde``) and open, in Debian's Chromium, the student's feedback page, the
formgrader's manual-grading page and pages listing the students (as the instructor, logged in),
and the grading report: no marker is set, no request reaches the listener, no dialog opens, and
each page still shows the student's answer text and the graded cells' results; a grade saved in
the formgrader still lands in the gradebook (the policy does not break the formgrader).
"""
import html
import html.parser
import http.server
import re
import shutil
import threading
import urllib.request

import nbformat
import pytest
from jinja2 import Environment

from course import gradebook, notebooks, pipeline, settings
from course.authoring import submissions
from course.protection import formgrader_csp, inert
from course.reports import grading_report

from support import jupyterlab as browser
from support.chromium import launched
from support.course import ASSIGNMENT

NOTEBOOK = "problem1_kmeans"
WRITTEN = "written_kmeans_steps"
ANSWER_CODE = "assign_clusters_code"
ANSWER_TEXT = "Mallory's own words: every point joins its nearest centre"
HOSTILE_ID = "eve<img src=x onerror=top.__pwned=1>"
# A 1 x 1 PNG, as a plot's output would carry it.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==")


def js(remote):
    """What every payload runs if it gets the chance: a marker, and a request to the listener."""
    return f"top.document.title='PWNED';top.__pwned=(top.__pwned||0)+1;fetch('{remote}/ran')"


def markup_payloads(remote):
    """name -> raw HTML or markdown that must arrive inert (each a line of a written answer)."""
    j = js(remote)
    return {
        "script": f"<script>{j}</script>",
        "img_onerror": f'<img src="x" onerror="{j}">',
        "svg_onload": f'<svg onload="{j}"><circle r="3"></circle></svg>',
        "body_onload": f'<body onload="{j}">',
        "details_ontoggle": f'<details open ontoggle="{j}"><summary>more</summary>hidden</details>',
        "javascript_link": f'<a href="javascript:{j}">click me</a>',
        "markdown_javascript_link": f"[click me too](javascript:{j.replace('(', '%28').replace(')', '%29')})",
        "iframe": f'<iframe src="{remote}/iframe"></iframe>',
        "iframe_srcdoc": f'<iframe srcdoc="<script>{j}</script>"></iframe>',
        "meta_refresh": f'<meta http-equiv="refresh" content="0;url={remote}/refresh">',
        "style": f"<style>body {{ background: url({remote}/style.png) }}</style>",
        "style_attribute": f'<span style="background-image: url({remote}/inline.png)">styled</span>',
        "remote_img": f"![remote]({remote}/remote.png)",
        "object": f'<object data="{remote}/object"></object>',
        "base": f'<base href="{remote}/">',
        "form": f'<form action="{remote}/form"><button id="b">send</button></form>',
    }


class _Tags(html.parser.HTMLParser):
    """Every element of an HTML text, with its attributes."""

    def __init__(self, text):
        super().__init__()
        self.tags = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_inert(text, remote="http://127.0.0.1:9"):
    """No element of ``text`` can run script or fetch from another server."""
    for tag, attrs in _Tags(text).tags:
        assert tag not in ("script", "iframe", "meta", "style", "svg", "object", "embed", "base", "form",
                           "body", "details", "link", "frame"), (tag, attrs, text[:300])
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in ("href", "src", "action", "data", "srcdoc", "style"):
                assert "javascript:" not in (value or "").lower().replace(" ", ""), (tag, name, value)
                if name != "href":
                    assert remote not in (value or ""), (tag, name, value)


def render_markdown(source, cell=None):
    env = Environment()
    env.filters["markdown2html"] = inert.markdown2html
    return env.from_string("{{ s | markdown2html }}").render(s=source, cell=cell or {}, resources={})


# --------------------------------------------------------------------------------- fast: pieces

def test_markdown_payloads_arrive_as_text_and_math_stays():
    remote = "http://127.0.0.1:9"
    for name, payload in markup_payloads(remote).items():
        out = render_markdown(f"Before {name}.\n\n{payload}\n\nAfter {name}: $x_i < \\mu_k$.")
        assert_inert(out, remote)
        shown = html.unescape(re.sub(r"<[^>]+>", "", out))
        assert f"Before {name}." in shown and f"After {name}: $x_i < \\mu_k$." in shown, (name, out)
    # what students legitimately write keeps its form
    out = render_markdown("# Steps\n\n1. **assign** each point\n2. *update* `mu`\n\n| k | n |\n|---|---|\n| 1 | 3 |\n\n"
                          "$$\\sum_i \\|x_i - \\mu_{z_i}\\|^2$$")
    tags = [t for t, _ in _Tags(out).tags]
    for tag in ("h1", "ol", "strong", "em", "code", "table", "td"):
        assert tag in tags, (tag, out)
    assert "$$\\sum_i \\|x_i - \\mu_{z_i}\\|^2$$" in html.unescape(out)


def test_markdown_attachments_keep_pictures_only():
    cell = {"attachments": {"p.png": {"image/png": PNG}}}
    out = render_markdown("![plot](attachment:p.png)", cell)
    (img,) = [a for t, a in _Tags(out).tags if t == "img"]
    assert img["src"].startswith("data:image/png;base64,")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("![x](attachment:x.svg)")])
    nb.cells[0].attachments = {"x.svg": {"image/svg+xml": "<svg onload='x()'/>"}, "p.png": {"image/png": PNG}}
    nb, _ = inert.InertOutputs().preprocess(nb, {})
    assert nb.cells[0].attachments == {"x.svg": {}, "p.png": {"image/png": PNG}}


def _output(data, metadata=None):
    return nbformat.v4.new_output("display_data", data=data, metadata=metadata or {})


def test_outputs_keep_text_pictures_and_tables_only():
    remote = "http://127.0.0.1:9"
    payload = "".join(markup_payloads(remote).values())
    table = "<table class='dataframe' border='1'><thead><tr><th>a</th></tr></thead><tr><td>TABLE-CELL</td></tr></table>"
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        _output({"text/html": table + payload, "text/plain": "a frame"}),
        _output({"application/javascript": js(remote), "text/plain": "<Javascript>"}),
        _output({"image/svg+xml": f"<svg onload=\"{js(remote)}\"/>"}),
        _output({"image/png": '"><img src=x onerror=alert(1)>', "text/plain": "forged"}),
        _output({"image/png": PNG}, {"image/png": {"width": "1 onerror=alert(1)", "height": 40},
                                     "filenames": {"image/png": f"{remote}/x.png"},
                                     "text/html": {"isolated": True}}),
        _output({"text/markdown": payload, "text/latex": "$x$"}),
        nbformat.v4.new_output("stream", name="stdout", text=payload),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_raw_cell(payload, metadata={"raw_mimetype": "text/html"})])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    nb, _ = inert.InertOutputs().preprocess(nb, {})
    outs = nb.cells[0].outputs
    assert set(outs[0].data) == {"text/html", "text/plain"}
    assert_inert(outs[0].data["text/html"], remote)
    assert "TABLE-CELL" in outs[0].data["text/html"] and "<table" in outs[0].data["text/html"]
    assert dict(outs[1].data) == {"text/plain": "<Javascript>"}
    assert list(outs[2].data) == ["text/plain"] and "image/svg+xml" in outs[2].data["text/plain"]
    assert dict(outs[3].data) == {"text/plain": "forged"}
    assert dict(outs[4].data) == {"image/png": PNG} and outs[4].metadata == {"image/png": {"height": 40}}
    assert set(outs[5].data) == {"text/markdown", "text/latex"}  # both rendered inert by the templates
    assert outs[6].text == payload  # streams are escaped by every template
    assert "raw_mimetype" not in nb.cells[1].metadata and "widgets" not in nb.metadata


def test_formgrader_student_names_are_escaped_for_its_template():
    resources = {"student": HOSTILE_ID, "first_name": "<b>x</b>", "notebook_path": 'a"b', "other": "<i>"}
    _, resources = inert.InertOutputs().preprocess(nbformat.v4.new_notebook(), resources)
    assert resources["student"] == html.escape(HOSTILE_ID) and resources["first_name"] == "&lt;b&gt;x&lt;/b&gt;"
    assert resources["notebook_path"] == "a&quot;b" and resources["other"] == "<i>"


def test_report_escapes_every_field():
    remote = "http://127.0.0.1:9"
    bad = "<img src=x onerror=alert(1)>'\"" + markup_payloads(remote)["script"]
    student = {"id": bad, "total": 1.0, "max": 2.0, "per_notebook": {bad: 1.0}, "cells": {}, "graded": True,
               "seconds": 3.0, "timestamp": None}
    data = {"assignment": bad, "root": bad, "notebooks": [(bad, 2.0)], "gradebook": bad, "max_total": 2.0,
            "students": [student], "graded": [student], "flag_below": 0.2,
            "items": [{"notebook": bad, "grade_id": bad, "points": 1.0, "passed": 0, "n": 1, "share": 0.0,
                       "flagged": True}],
            "ungraded": [(bad, bad, bad)], "repaired": [(bad, bad, bad)], "times": [(3.0, bad)],
            "median_seconds": 3.0, "slowest": (3.0, bad)}
    page = grading_report.render(data, {})
    head, body = page.split("<body>", 1)
    assert_inert(body, remote)
    assert "Content-Security-Policy" in head and "script-src" not in head and "default-src 'none'" in head
    assert html.escape(bad) in body


def test_formgrader_policy_trusts_the_templates_scripts_only():
    page = (b'<html><head><script src="/formgrader/static/x.js"></script><SCRIPT>var a = 1;</SCRIPT></head>'
            b'<body><script>top.__pwned=1</script><img src=x onerror="y()"></body></html>')
    out = formgrader_csp.with_nonce(page, "N0NCE")
    head, body = out.split(b"<body>")
    assert head.count(b'nonce="N0NCE"') == 2 and b"nonce" not in body
    assert formgrader_csp.with_nonce(b"<script>x</script>", "N") == b"<script>x</script>"  # no <body>: none trusted
    scripts, handlers = formgrader_csp.formgrader_inline_code()
    assert "toggle_name(true);" in handlers and any("tooltip" in s for s in scripts), (scripts, handlers)
    assert not any("{{" in code or "{%" in code for code in scripts + handlers)
    policy = formgrader_csp.page_policy("N0NCE", scripts, handlers)
    script = re.search(r"script-src ([^;]*)", policy)[1].split()
    assert "'nonce-N0NCE'" in script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert not any(s.startswith(("http", "*")) for s in script)
    assert "img-src 'self' data:" in policy and "object-src 'none'" in policy and "base-uri 'self'" in policy

    class Request:
        def __init__(self, path):
            self.path = path
    kinds = {p: formgrader_csp.FormgraderPolicy(Request(p)).kind for p in (
        "/formgrader/", "/formgrader/submissions/abc/", "/formgrader/submissions/abc/next",
        "/formgrader/submissions/abc/evil.html", "/formgrader/submissions/components/x.js",
        "/formgrader/api/submission/abc", "/lab", "/files/x.html")}
    assert kinds == {"/formgrader/": "page", "/formgrader/submissions/abc/": "page",
                     "/formgrader/submissions/abc/next": "page", "/formgrader/submissions/abc/evil.html": "files",
                     "/formgrader/submissions/components/x.js": "page", "/formgrader/api/submission/abc": "page",
                     "/lab": None, "/files/x.html": None}


# --------------------------------------------------------------------------------- slow: real pages

class Listener:
    """An HTTP server on 127.0.0.1 that records every request a payload manages to make."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
            do_POST = do_GET

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _display_code(remote):
    """Answer-cell code that displays every payload as an output of its own type."""
    payload = "\n".join(markup_payloads(remote).values())
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js(remote)}"><script>{js(remote)}</script></svg>'
    return "\n".join([
        "from IPython.display import display, HTML, Javascript, SVG, Markdown, publish_display_data",
        f"display(HTML({payload!r} + '<table><tr><td>TABLE-CELL-SHOWN</td></tr></table>'))",
        f"display(Javascript({js(remote)!r}))",
        f"display(SVG({svg!r}))",
        f"display(Markdown({payload!r}))",
        "publish_display_data({'image/png': '\"><img src=x onerror=top.__pwned=1>', 'text/plain': 'forged png'})",
        f"publish_display_data({{'image/png': {PNG!r}}}, metadata={{'image/png': {{'width': '1 onerror=top.__pwned=1'}}}})",
        f"print({payload!r})",
        "print('PRINTED-TEXT-SHOWN')",
    ])


@pytest.fixture(scope="module")
def hostile_course(tmp_path_factory):
    """A course with problem 1 only, graded: mallory (the reference answers, every payload in her
    written answer, in an answer cell's outputs and in a cell she added) and a student whose id is
    itself a payload.  Yields (folder, listener)."""
    listener = Listener()
    folder = tmp_path_factory.mktemp("inert")
    pipeline.scratch_course(folder, names=[NOTEBOOK])
    pipeline.generate(folder)
    built = pipeline.build_student(folder, base=submissions.REFERENCE)
    nb = built[NOTEBOOK]
    written = "\n\n".join(f"{p}\n\nLine {name} of the answer." for name, p in markup_payloads(listener.url).items())
    for cell in nb.cells:
        gid = notebooks.nbgrader_meta(cell).get("grade_id")
        if gid == WRITTEN:
            cell.source = f"{ANSWER_TEXT}, $x_i \\mapsto \\arg\\min_k \\|x_i - \\mu_k\\|$.\n\n{written}"
        elif gid == ANSWER_CODE:
            cell.source += "\n\n" + _display_code(listener.url)
    nb.cells.append(nbformat.v4.new_markdown_cell("An added cell.\n\n" + written))
    pipeline.submit(folder, "mallory", {NOTEBOOK: nb})
    pipeline.submit(folder, HOSTILE_ID, pipeline.build_student(folder, base=submissions.REFERENCE))
    pipeline.autograde(folder)
    pipeline.feedback(folder)
    yield folder, listener
    listener.close()


def _watch(page):
    """Collect dialogs (alert) and CSP reports; returns the list they go into."""
    events = []
    page.on("dialog", lambda d: (events.append(("dialog", d.message)), d.dismiss()))
    page.on("console", lambda m: events.append(("console", m.text)) if "Content Security Policy" in m.text else None)
    return events


def _assert_nothing_ran(page, listener, events, where):
    page.wait_for_timeout(1500)  # onload, ontoggle, refresh and fetches have had their chance
    for link in page.get_by_text(re.compile(r"^click me")).all():
        try:
            link.click(timeout=2000, no_wait_after=True)
        except Exception:
            pass  # not clickable (no link left): fine
    page.wait_for_timeout(500)
    pwned = page.evaluate("() => [top.__pwned || 0, top.document.title]")
    assert pwned[0] == 0 and "PWNED" not in pwned[1], f"{where}: a payload ran: {pwned}"
    assert not listener.hits, f"{where}: payloads reached the network: {listener.hits}"
    assert not [e for e in events if e[0] == "dialog"], f"{where}: {events}"


@pytest.fixture(scope="module")
def chromium():
    with launched("the inert pages test") as chrome:
        yield chrome


@pytest.mark.slow
def test_grades_are_not_changed_by_payloads(hostile_course):
    folder, _ = hostile_course
    scores = gradebook.scores(settings.load(folder))
    auto = [score for score in scores["mallory"][NOTEBOOK].values() if score[2]]
    assert len(auto) >= 10 and all(got == top for got, top, _ in auto), scores  # the reference's full marks
    assert scores[HOSTILE_ID] == scores["mallory"], scores
    raw = notebooks.read(settings.load(folder).autograded("mallory") / f"{NOTEBOOK}.ipynb")
    kept = {m for c in raw.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert {"application/javascript", "image/svg+xml"} <= kept  # the autograded notebook is the submission as run


@pytest.mark.slow
def test_feedback_page_is_inert_and_shows_the_answer(hostile_course, chromium, tmp_path):
    folder, listener = hostile_course
    for student in ("mallory", HOSTILE_ID):
        page_file = settings.load(folder).feedback(student) / f"{NOTEBOOK}.html"
        page = chromium.new_page()
        events = _watch(page)
        page.goto(page_file.as_uri())
        _assert_nothing_ran(page, listener, events, f"feedback of {student}")
        text = page.inner_text("body")
        page.screenshot(path=str(tmp_path / f"feedback_{len(student)}.png"), full_page=False)
        assert "passed" in text and re.search(r"Score: \d+ / \d+", text), text[:500]
        if student == "mallory":
            assert ANSWER_TEXT in text and "Line style of the answer." in text and "x_i" in text
            assert "TABLE-CELL-SHOWN" in text and "PRINTED-TEXT-SHOWN" in text and "<script>" in text
            assert page.locator("img[src^='data:image/png']").count() >= 1
        page.close()


@pytest.mark.slow
def test_grading_report_is_inert(hostile_course, chromium):
    folder, listener = hostile_course
    out, _ = grading_report.write(settings.load(folder))
    page = chromium.new_page()
    events = _watch(page)
    page.goto(out.as_uri())
    _assert_nothing_ran(page, listener, events, "grading report")
    assert HOSTILE_ID in page.inner_text("body")
    page.close()


@pytest.mark.slow
def test_formgrader_pages_are_inert_and_still_grade(hostile_course, chromium, tmp_path):
    from nbgrader.api import Gradebook

    folder, listener = hostile_course
    course = tmp_path / "course"
    shutil.copytree(folder, course)
    db_url = settings.load(course).db_url
    with Gradebook(db_url) as gb:
        ids = {s: gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).id for s in ("mallory", HOSTILE_ID)}
    with browser.JupyterLab(course, tmp_path / "home", "instructor") as lab:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        events = _watch(page)
        page.goto(lab.lab_url())  # logs in (the token sets the session cookie)
        page.locator(".lm-MenuBar-item", has_text=re.compile("^Nbgrader$")).wait_for(timeout=120_000)
        with urllib.request.urlopen(f"{lab.url}/formgrader/submissions/{ids['mallory']}/?token={lab.token}") as r:
            policy = r.headers["Content-Security-Policy"]
        assert "'strict-dynamic'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0], policy

        for student, sid in ids.items():
            page.goto(f"{lab.url}/formgrader/submissions/{sid}/")
            page.locator(f"input.score#{WRITTEN}").wait_for(timeout=60_000)
            _assert_nothing_ran(page, listener, events, f"formgrader page of {student}")
            page.screenshot(path=str(tmp_path / f"formgrader_{len(student)}.png"))
            text = page.inner_text("body")
            assert "kmeans_matches_sklearn" in text  # the graded cells and their results
            if student == "mallory":
                assert ANSWER_TEXT in text and "Line script of the answer." in text
                assert "TABLE-CELL-SHOWN" in text and "PRINTED-TEXT-SHOWN" in text
            # MathJax probes fonts with about:blank; anything else the policy stopped slipped past the sanitiser
            stopped = [e for e in events if e[0] == "console" and "'about:blank'" not in e[1]]
            assert not stopped, f"the policy had to stop something the sanitiser let through: {stopped}"

        # the formgrader itself still works under the policy: a score typed in lands in the gradebook
        # a second visit of the same page: its scripts run again (fresh nonce) and load the grades
        with page.expect_response(lambda r: "/formgrader/api/grades" in r.url and r.ok, timeout=60_000):
            page.goto(f"{lab.url}/formgrader/submissions/{ids['mallory']}/")
        page.wait_for_timeout(1000)  # the page binds its score boxes to the grades it loaded
        box = page.locator(f"input.score#{WRITTEN}")
        with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url and r.request.method == "PUT",
                                  timeout=60_000) as saved:
            box.fill("1.5")
            box.press("Tab")  # change + blur: the page saves the score
        assert saved.value.ok, saved.value.status
        for _ in range(60):
            with Gradebook(db_url) as gb:
                if gb.find_grade(WRITTEN, NOTEBOOK, ASSIGNMENT, "mallory").manual_score == 1.5:
                    break
            page.wait_for_timeout(1000)
        else:
            raise AssertionError("the manual score typed in the formgrader never reached the gradebook")

        for path in ("manage_students", f"manage_submissions/{ASSIGNMENT}", f"gradebook/{ASSIGNMENT}/{NOTEBOOK}"):
            page.goto(f"{lab.url}/formgrader/{path}")
            page.get_by_text("mallory").first.wait_for(state="attached", timeout=60_000)  # names may be hidden
            _assert_nothing_ran(page, listener, events, f"formgrader {path}")
            assert HOSTILE_ID in page.text_content("body")
        page.screenshot(path=str(tmp_path / "formgrader_list.png"))

        # a file in the student's autograded folder (nbgrader copies what a student hands in) is
        # served by the formgrader under the submission's URL: sandboxed, nothing of it runs
        (settings.load(course).autograded("mallory") / "evil.html").write_text(
            f"<html><body>EVIL-FILE<script>{js(listener.url)}</script><img src=x onerror=\"{js(listener.url)}\">"
            "</body></html>")
        response = page.goto(f"{lab.url}/formgrader/submissions/{ids['mallory']}/evil.html")
        assert response.ok and "sandbox" in response.headers["content-security-policy"]
        _assert_nothing_ran(page, listener, events, "a file served from the submission folder")
        assert "EVIL-FILE" in page.text_content("body")
        context.close()
        print(f"\nscreenshots: {tmp_path}")
