"""The course on a real JupyterHub, end to end, as the README's hub section tells an admin to run it.

An instructor adopting the course meets the hub first, so this test runs deploy/jupyterhub/ as
the README says: setup.sh (the pinned environment, the npm proxy, the students' nbgrader config,
the exchange, the groups), real Unix accounts with passwords (PAM), the course in the
instructor's private home, and ``jupyterhub -f`` on localhost.  Then, in Debian's Chromium:

instructor  logs in; the Nbgrader menu offers the Formgrader; in the formgrader (its own tab)
            generates and releases hw4.
students    three log in (one answers correctly, one with the typical mistakes, one hands in the
            blank release); their Nbgrader menu has no Formgrader; each fetches hw4 from the
            Assignment List, uploads their answers, validates a notebook (Validate passes only the
            correct one) and submits.  From a student's own server, the other students' homes and
            the instructor's course folder cannot be read.
instructor  collects, autogrades each submission and generates and releases feedback, all in
            the formgrader, which grades with the course's protected executor; the formgrader
            shows the gradebook's scores: every autograded point for the reference, none for the
            blank release, part of every notebook's points for the typical mistakes.
students    fetch their feedback and open it: each page shows that student's own score.

Every step saves a screenshot (HW4_HUB_SHOTS names the folder; by default a temporary one, printed).
Needs root, Debian's Chromium, Node.js and npm (./run test installs them); skipped without them,
except in CI, where it fails.  The users it creates are removed at the end.
"""
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

from course import gradebook, pipeline, settings as course_settings
from course.authoring import examples, submissions
from course.notebooks import nbgrader_meta, notebook_names, read as read_notebook, write as write_notebook

from support import hub, hub_pages as pages
from support.chromium import sync_playwright_or_skip
from support.course import EXAMPLES

# The three students: the reference answers, the typical mistakes (examples/), the blank release.
ROLES = ("correct", "mistakes", "blank")


def _answers(course, role):
    """{notebook: submission notebook} for a student's role, built from the instructor's release."""
    if role == "correct":
        return pipeline.build_student(course, None, submissions.REFERENCE)
    if role == "mistakes":
        code = examples.example_students(EXAMPLES)["example_typical_mistakes"]
        return pipeline.build_student(course, code, submissions.BLANK)
    return None  # blank: hands in the fetched release untouched


PROBE = """
import os
paths = {paths!r}
for p in paths:
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            open(p, "rb").close()
        print("READABLE", p)
    except PermissionError:
        print("DENIED", p)
print("PROBE-END")
"""


@pytest.mark.slow
def test_course_on_jupyterhub(tmp_path):
    sync_playwright = sync_playwright_or_skip("the hub test", hub.missing_requirements())
    scratch = Path(tempfile.mkdtemp(prefix="hw4_hub_"))
    scratch.chmod(0o755)          # the users reach their homes and the exchange through it
    shots = Path(os.environ["HW4_HUB_SHOTS"]) if os.environ.get("HW4_HUB_SHOTS") else tmp_path / "shots"
    tag = "hw4" + secrets.token_hex(2)
    logins = {"instructor": f"{tag}_teach", **{role: f"{tag}_{role}" for role in ROLES}}
    made, the_hub = [], None
    try:
        # The admin: setup.sh, with the exchange of a scratch copy of the course's config.
        exchange = scratch / "exchange"
        kit = scratch / "kit"
        pipeline.scratch_course(kit, config_lines=[f"c.Exchange.root = {str(exchange)!r}"])
        hub.setup(kit, scratch / "setup.log")
        assert (exchange.stat().st_mode & 0o777) == 0o777
        # The admin: one account per person, in the hub's group for their role.
        homes = scratch / "home"
        homes.mkdir(mode=0o755)
        users = {}
        for role, login in logins.items():
            group = hub.INSTRUCTORS if role == "instructor" else hub.STUDENTS
            users[role] = hub.add_user(login, group, homes)
            made.append(login)
        # The instructor: the course in ~/hw4, private; the formgrader reads its config.
        teach_home = users["instructor"][0]
        course = hub.instructor_course(logins["instructor"], teach_home, kit)
        settings = course_settings.load(course)
        names = notebook_names(settings.source)

        the_hub = hub.Hub(scratch / "state").start()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=pages.CHROMIUM, headless=True,
                                        args=pages.CHROMIUM_ARGS)
            step = pages.Steps(shots)
            _instructor_releases(browser, step, the_hub, logins["instructor"], users["instructor"][1],
                                 settings)
            pages_of = {}
            for role in ROLES:
                pages_of[role] = _student_hands_in(browser, step, the_hub, role, logins[role],
                                                   users[role], course, names, settings)
            _student_cannot_read_others(step, pages_of["mistakes"], users, course, names)
            teacher = _instructor_grades(browser, step, the_hub, logins, users, settings)
            scores = gradebook.scores(settings)
            got = {role: gradebook_total(scores.get(logins[role], {}), names) for role in ROLES}
            top = autograded_points(settings, names)     # 76 (README: the reference 76/76, blank 0/76)
            assert got["correct"] == (top, top), got
            assert got["blank"] == (0, top), got
            assert 0 < got["mistakes"][0] < top and got["mistakes"][1] == top, got
            for name in names:   # every notebook's typical mistakes cost some points, not all
                g, t = gradebook.auto_total(scores[logins["mistakes"]].get(name, {}))
                assert 0 < g < t, f"mistakes in {name}: {g} / {t}"
            print(f"\ngradebook (autograded): {got}")
            for role in ROLES:
                _student_reads_feedback(step, pages_of[role], the_hub, role, logins[role], users[role][0],
                                        settings, names, scores[logins[role]])
            browser.close()
        assert teacher  # the instructor's page stayed usable to the end
        print("\nsteps (s): " + ", ".join(f"{n} {t:.0f}" for n, t in step.times))
    except Exception:
        if the_hub is not None:
            print("\njupyterhub log (end):\n" + the_hub.log_text())
        raise
    finally:
        if the_hub is not None:
            the_hub.stop()
        for login in made:
            hub.remove_user(login)
        shutil.rmtree(scratch, ignore_errors=True)


def autograded_points(settings, names):
    """The points of the autograded test cells of the source notebooks."""
    return sum(nbgrader_meta(c).get("points", 0)
               for name in names for c in read_notebook(settings.source / f"{name}.ipynb").cells
               if c.cell_type == "code" and nbgrader_meta(c).get("grade"))


def gradebook_total(by_notebook, names):
    got = top = 0
    for name in names:
        g, t = gradebook.auto_total(by_notebook.get(name, {}))
        got, top = got + g, top + t
    return (got, top)


def _instructor_releases(browser, step, the_hub, login, password, settings):
    page = pages.log_in(browser, the_hub.url, login, password)
    with step(page, "instructor_logs_in_formgrader_in_menu"):
        menu = pages.nbgrader_menu(page)
        assert "Formgrader" in menu and "Assignment List" in menu, menu
    with step(page, "instructor_generates_hw4"):
        pages.open_formgrader(page, the_hub.url, login)
        row = pages.assignment_row(page, settings.assignment)
        pages.formgrader_action(page, row, "assign", "generate")
        row.locator("td.release a").first.wait_for()
        assert settings.release.is_dir()
    with step(page, "instructor_releases_hw4"):
        pages.formgrader_action(page, row, "release", "release")
        row.locator("td.status", has_text="released").wait_for()
    page.context.close()


def _student_hands_in(browser, step, the_hub, role, login, user, course, names, settings):
    home, password = user
    page = pages.log_in(browser, the_hub.url, login, password)
    with step(page, f"{role}_logs_in_no_formgrader"):
        menu = pages.nbgrader_menu(page)
        assert "Assignment List" in menu and "Formgrader" not in menu, menu
        assert "Create assignment" not in menu, menu
    with step(page, f"{role}_fetches_hw4"):
        pages.open_assignment_list(page)
        pages.fetch(page, settings.assignment)
        assert sorted(p.stem for p in (home / settings.assignment).glob("*.ipynb")) == names
    answers = _answers(course, role)
    lab = f"{the_hub.url}/user/{login}/lab/tree/{settings.assignment}"
    if answers is not None:
        with step(page, f"{role}_uploads_answers"):
            folder = home.parent.parent / "answers" / role
            folder.mkdir(parents=True)
            files = []
            for name, nb in answers.items():
                write_notebook(nb, folder / f"{name}.ipynb")
                files.append(folder / f"{name}.ipynb")
            pages.upload(page, lab, files)

            def replaced():
                return all((home / settings.assignment / f.name).read_text() == f.read_text() for f in files)
            pages.wait_until(replaced, 120_000, "the uploaded notebooks in the student's ~/hw4")
    with step(page, f"{role}_validates_{names[0]}"):
        passed, text = pages.validate_notebook(page, f"{lab}/{names[0]}.ipynb")
        assert passed == (role == "correct"), f"Validate {'failed' if role == 'correct' else 'passed'}:\n{text[:2000]}"
    pages.close_dialog(page)
    with step(page, f"{role}_submits"):
        page.goto(f"{the_hub.url}/user/{login}/lab")
        pages.open_assignment_list(page)
        pages.submit(page, settings.assignment)
    return page


def _student_cannot_read_others(step, page, users, course, names):
    other_home = users["correct"][0]
    own_home = users["mistakes"][0]
    paths = [str(own_home / "hw4" / f"{names[0]}.ipynb"),          # control: their own file
             str(other_home), str(other_home / "hw4" / f"{names[0]}.ipynb"),
             str(course), str(course / "source" / "hw4" / f"{names[0]}.ipynb"),
             str(course / "gradebook.db")]
    with step(page, "student_probes_others_from_own_server"):
        out = pages.run_in_console(page, PROBE.format(paths=paths))
        verdicts = {path: verdict for verdict, path in re.findall(r"^(READABLE|DENIED) (\S+)$", out, re.M)}
        assert verdicts.get(paths[0]) == "READABLE", out
        for path in paths[1:]:
            assert verdicts.get(path) == "DENIED", f"{path}: {verdicts.get(path)}\n{out}"


def _instructor_grades(browser, step, the_hub, logins, users, settings):
    login = logins["instructor"]
    page = pages.log_in(browser, the_hub.url, login, users["instructor"][1])
    with step(page, "instructor_collects"):
        pages.open_formgrader(page, the_hub.url, login)
        row = pages.assignment_row(page, settings.assignment)
        pages.formgrader_action(page, row, "collect", "collect")
        row.locator("td.num-submissions", has_text=str(len(ROLES))).wait_for()
    with step(page, "instructor_autogrades_each"):
        row.locator("td.num-submissions a").click()
        logs = {}
        for role in ROLES:
            student_row = page.locator("tr", has=page.locator("td.student-id", has_text=logins[role]))
            logs[role] = pages.formgrader_action(page, student_row, "autograde", f"autograde {logins[role]}")
        # The formgrader graded with the course's config: its protected executor ran every notebook.
        for role, text in logs.items():
            assert "Applying preprocessor: TrustedExecute" in text, f"{role}: autograde's log:\n{text[-3000:]}"
        page.reload()
        scores = gradebook.scores(settings)
        for role in ROLES:
            got, _ = gradebook_total(scores.get(logins[role], {}), notebook_names(settings.source))
            student_row = page.locator("tr", has=page.locator("td.student-id", has_text=logins[role]))
            score = student_row.locator("td.score").inner_text().strip()
            assert re.match(rf"^{got:g}(\.0+)? / ", score), f"{role}: formgrader shows {score!r}, gradebook {got}"
    with step(page, "instructor_generates_and_releases_feedback"):
        pages.open_formgrader(page, the_hub.url, login)
        row = pages.assignment_row(page, settings.assignment)
        pages.formgrader_action(page, row, "generate-feedback", "generate feedback")
        pages.formgrader_action(page, row, "release-feedback", "release feedback")
    return page


def _student_reads_feedback(step, page, the_hub, role, login, home, settings, names, scores):
    with step(page, f"{role}_fetches_feedback"):
        page.goto(f"{the_hub.url}/user/{login}/lab")
        pages.open_assignment_list(page)
        pages.fetch_feedback(page, settings.assignment)
        fetched = sorted((home / settings.assignment / "feedback").rglob("*.html"))
        assert sorted(p.stem for p in fetched) == names, f"fetched feedback: {fetched}"
    page_path = next(p for p in fetched if p.stem == names[0]).relative_to(home)
    tab = pages.open_in_new_tab(page, f"{the_hub.url}/user/{login}/files/{page_path}")
    with step(tab, f"{role}_opens_own_feedback"):
        text = tab.locator("body").inner_text()
        got, top = gradebook.auto_total(scores.get(names[0], {}))
        # the student's own score for this notebook (18, 11 or 0 of problem 1's autograded points)
        assert re.search(rf"(?<![\d.]){got:g}(\.0+)?\s*/\s*\d", text), f"no {got:g} / ... in:\n{text[:1500]}"
    tab.close()
