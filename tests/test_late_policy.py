"""The late policy: a penalty per started day late (capped) and per-student extensions.

Fast tests check the pieces (the extensions file reader, the per-day rule, the feedback sentence,
the config that loads them).  The slow test goes through nbgrader's exchange as root with throwaway
Unix users, as in tests/test_exchange.py: five students each hand in one notebook, their
submission times are moved in the exchange (an inbound folder's name and its timestamp.txt are what
nbgrader collect and autograde read) to: on time, one day late, three days late (over the cap),
late but within 3 extra days (and a later, blank resubmission after the extension), and two hours
late after a new due date.  Then the real ``nbgrader collect``, ``autograde`` and
``generate_feedback`` run, and the test checks what was collected, the gradebook's penalties and
the feedback page as Chromium shows it.
"""
import datetime
import html
import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from course import pipeline, settings as course_settings
from course.authoring import submissions
from course.late import extensions, notice
from course.late.penalty import DAY, PerDayPenalty, days_late

from support.course import ASSIGNMENT, ROOT
from support.chromium import launched


# --- the extensions file ------------------------------------------------------------------------

def test_extensions_file_gives_a_new_due_date_or_extra_days():
    found = extensions.parse("student_id,new_due_date,extra_days,why\n"
                             "ada,2027-03-15 23:59:00 UTC,,flu\n"
                             "alan,,2.5\n"
                             "grace,2027-03-14 10:00:00 -0500,,\n")
    due = datetime.datetime(2027, 3, 12, 23, 59)
    assert found["ada"].due(due) == datetime.datetime(2027, 3, 15, 23, 59)
    assert found["alan"].delta(due) == datetime.timedelta(days=2, hours=12)
    assert found["grace"].due(due) == datetime.datetime(2027, 3, 14, 15, 0)  # -0500 read as UTC+5h
    assert extensions.extension_for(found, "nobody", due) is None
    assert extensions.extension_for(found, "alan", None) is None, "no due date: nothing to extend"


def test_the_courses_extensions_file_is_empty_with_its_header():
    text = (ROOT / "extensions.csv").read_text()
    assert text.splitlines()[0].split(",") == list(extensions.COLUMNS)
    assert extensions.parse(text) == {}


@pytest.mark.parametrize("text, complaint", [
    ("id,days\nada,2\n", "header must name"),
    ("student_id,new_due_date,extra_days\nada,,2\nada,,3\n", "listed twice"),
    ("student_id,new_due_date,extra_days\nada,2027-03-15,2\n", "exactly one"),
    ("student_id,new_due_date,extra_days\nada,,\n", "exactly one"),
    ("student_id,new_due_date,extra_days\nada,next friday,\n", "is not a date"),
    ("student_id,new_due_date,extra_days\nada,3,\n", "is not a date"),   # extra days in the wrong column
    ("student_id,new_due_date,extra_days\nada,,two\n", "not a number"),
    ("student_id,new_due_date,extra_days\nada,,-1\n", "zero or more"),
    ("student_id,new_due_date,extra_days\n,,1\n", "no student_id"),
])
def test_a_mistake_in_the_extensions_file_is_a_clear_error_naming_the_line(text, complaint):
    with pytest.raises(extensions.ExtensionsError, match=complaint) as err:
        extensions.parse(text, "extensions.csv")
    assert "line" in str(err.value)


def test_a_new_due_date_before_the_assignments_is_refused():
    found = extensions.parse("student_id,new_due_date,extra_days\nada,2027-03-01 12:00 UTC,\n")
    with pytest.raises(extensions.ExtensionsError, match="before the assignment"):
        found["ada"].delta(datetime.datetime(2027, 3, 12, 23, 59))


# --- the per-day rule ---------------------------------------------------------------------------

def test_every_started_day_counts():
    assert [days_late(s) for s in (0, -5, 1, DAY - 1, DAY, DAY + 1, 3 * DAY)] == [0, 0, 1, 1, 1, 2, 3]


def test_penalty_is_a_share_of_the_score_per_started_day_up_to_the_cap():
    plugin = PerDayPenalty(percent_per_day=20, max_percent=50)
    assert plugin.late_submission_penalty("s", 10, 60) == pytest.approx(2.0)          # 1 day: 20%
    assert plugin.late_submission_penalty("s", 10, 2 * DAY - 60) == pytest.approx(4.0)  # 2 days: 40%
    assert plugin.late_submission_penalty("s", 10, 3 * DAY) == pytest.approx(5.0)      # 60% capped at 50%
    assert plugin.late_submission_penalty("s", 10, 30 * DAY) == pytest.approx(5.0)
    assert plugin.late_submission_penalty("s", 0, DAY) == 0


def test_course_config_loads_the_policy_and_the_extension_hooks():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.AssignLatePenalties.plugin_class == "course.late.penalty.PerDayPenalty"
    assert config.ExchangeFactory.collect == "course.late.collect.ExtensionAwareCollect"
    steps = config.Autograde.autograde_preprocessors
    assert steps.index("course.late.record.RecordExtension") + 1 == \
        steps.index("nbgrader.preprocessors.AssignLatePenalties"), "the extension must be in the gradebook first"
    policy = notice.policy_in_force(config)
    assert 0 < policy.percent_per_day <= policy.max_percent <= 100


# --- the feedback sentence ------------------------------------------------------------------------

DUE = datetime.datetime(2027, 3, 12, 23, 59)


def test_feedback_sentence_says_days_late_the_rule_and_the_points():
    policy = PerDayPenalty(percent_per_day=10, max_percent=50)
    text = notice.describe(DUE + datetime.timedelta(hours=30), DUE, None, 30 * 3600, 1.8, policy)
    assert "2 days late" in text and "20% of this notebook's score" in text and "-1.8 points" in text
    assert "2027-03-12 23:59 UTC" in text and "extension" not in text
    assert notice.describe(DUE - datetime.timedelta(hours=1), DUE, None, 0, 0, policy) == ""


def test_feedback_sentence_names_the_extension_whether_late_or_not():
    ext = datetime.timedelta(days=3)
    within = notice.describe(DUE + datetime.timedelta(days=2), DUE, ext, 0, 0)
    assert "extension" in within and "2027-03-15 23:59 UTC" in within and "no late penalty" in within
    after = notice.describe(DUE + datetime.timedelta(days=3, hours=2), DUE, ext, 7200, 0.5)
    assert "after your due date" in after and "1 day late" in after and "-0.5 points" in after


# --- through the exchange -------------------------------------------------------------------------

PERCENT, CAP = 20, 50   # for the rehearsal: three days late (60%) goes over the cap
# role -> submissions in order (hours after the due date, what is handed in), extensions.csv row
CASES = {
    "ontime": ([(-1, "reference")], None),
    "oneday": ([(5, "reference")], None),
    "threedays": ([(50, "reference")], None),
    "extended": ([(30, "reference"), (80, "blank")], ",,3"),      # 3 extra days: due at +72 h
    "newdate": ([(26, "reference")], "+24h"),                    # new due date +24 h: 2 h late
}
STAMP = "%Y-%m-%d %H:%M:%S.%f UTC"


@pytest.fixture(scope="module")
def late_trip():
    from support import exchange_rehearsal as ex
    if not ex.can_make_users():
        message = "the late-policy rehearsal creates throwaway Unix users: it must run as root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    work = Path(tempfile.mkdtemp(prefix="hw4_late_"))  # not under pytest's 0700 tmp: students enter it
    work.chmod(0o755)
    names = ex.pick_notebooks()
    course = ex.scratch_course(work / "course", names, work / "exchange")
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write(f"c.PerDayPenalty.percent_per_day = {PERCENT}\nc.PerDayPenalty.max_percent = {CAP}\n")
    conf = course_settings.load(course)
    (work / "home").mkdir(mode=0o755)
    tag = "lt" + secrets.token_hex(3)
    students, logins = {}, []
    try:
        for role in CASES:
            logins.append(f"{tag}_{role}")
            students[role] = ex.make_student(logins[-1], work / "home", work / "exchange", conf.course_id)
        pipeline.nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
        pipeline.nbgrader(course, "release_assignment", ASSIGNMENT)
        built = {"reference": pipeline.build_student(course, None, submissions.REFERENCE),
                 "blank": pipeline.build_student(course, None, submissions.BLANK)}
        for role, (plan, _) in CASES.items():
            student = students[role]
            student.nbgrader("fetch_assignment", ASSIGNMENT)
            for _, kind in plan:
                for name, nb in built[kind].items():
                    student.give(Path(ASSIGNMENT) / f"{name}.ipynb", ex._nb_text(nb))
                student.nbgrader("submit", ASSIGNMENT)
        due = ex.utc_now().replace(microsecond=0, tzinfo=None)
        inbound = work / "exchange" / conf.course_id / "inbound"
        moved = {}
        for role, (plan, _) in CASES.items():   # move each submission to its place in time
            login = students[role].login
            mine = sorted(inbound.glob(f"{login}+{ASSIGNMENT}+*"), key=lambda p: p.name.split("+")[2])
            assert len(mine) == len(plan), (role, [p.name for p in mine])
            moved[role] = []
            for folder, (hours, _) in zip(mine, plan):
                when = (due + datetime.timedelta(hours=hours)).strftime(STAMP)
                user, assignment, _, rand = folder.name.split("+")
                target = folder.with_name(f"{user}+{assignment}+{when}+{rand}")
                folder.rename(target)
                (target / "timestamp.txt").write_text(when)
                moved[role].append(when)
        rows = ["student_id,new_due_date,extra_days"]
        for role, (_, ext) in CASES.items():
            if ext == "+24h":
                rows.append(f"{students[role].login},{(due + datetime.timedelta(hours=24)).strftime(STAMP)},")
            elif ext:
                rows.append(students[role].login + ext)
        (course / "extensions.csv").write_text("\n".join(rows) + "\n")
        pipeline.nbgrader(course, "db", "assignment", "add", ASSIGNMENT, f"--duedate={due.strftime(STAMP)}")
        collected = pipeline.nbgrader(course, "collect", ASSIGNMENT)
        pipeline.nbgrader(course, "autograde", ASSIGNMENT)
        pipeline.nbgrader(course, "generate_feedback", ASSIGNMENT)
        grades = ex.gradebook_summary(course)
        from course import gradebook
        with gradebook.opened(conf) as gb:
            ext_of = {s.student.id: s.extension for s in gb.assignment_submissions(ASSIGNMENT)}
        yield {"course": course, "students": students, "due": due, "moved": moved, "names": names,
               "grades": grades, "extension": ext_of, "collect_log": collected.stdout + collected.stderr,
               "max_auto": {login: sum(nb["max_auto"] for nb in g["notebooks"].values())
                            for login, g in grades.items()}}
    finally:
        for login in logins:
            ex.remove_student(login)
        shutil.rmtree(work, ignore_errors=True)


def _case(trip, role):
    login = trip["students"][role].login
    g = trip["grades"].get(login)
    assert g, f"{role}: not in the gradebook ({sorted(trip['grades'])})"
    auto = sum(nb["auto"] for nb in g["notebooks"].values())
    assert auto == trip["max_auto"][login] > 0, f"{role}: the reference answers earned {auto}"
    page = "".join(Path(p).read_text() for p in
                   sorted((trip["course"] / "feedback" / login / ASSIGNMENT).glob("*.html")))
    notes = [html.unescape(re.sub(r"<[^>]+>", "", m)) for m in
             re.findall(r'<p class="course-lateness"[^>]*>(.*?)</p>', page, re.S)]
    trip.setdefault("pages", {})[role] = page
    return g, auto, notes


def _expected(auto, hours):
    return round(auto * min(days_late(hours * 3600) * PERCENT, CAP) / 100, 2)


@pytest.mark.slow
def test_on_time_submission_has_no_penalty_and_no_late_note(late_trip):
    g, _, notes = _case(late_trip, "ontime")
    assert g["seconds_late"] == 0 and (g["penalty"] or 0) == 0
    assert notes == []


@pytest.mark.slow
@pytest.mark.parametrize("role, hours, days", [("oneday", 5, 1), ("threedays", 50, 3)])
def test_late_submission_loses_a_share_per_started_day_up_to_the_cap(late_trip, role, hours, days):
    g, auto, notes = _case(late_trip, role)
    assert g["seconds_late"] == pytest.approx(hours * 3600, abs=1)
    assert g["penalty"] == pytest.approx(_expected(auto, hours), abs=0.011)
    # nbgrader's SubmittedAssignment.score is before the penalty; the feedback page shows it after
    after = auto - _expected(auto, hours)
    page = late_trip["pages"][role]
    assert f"Score: {after:g} / " in page and f"total: {after:g} / " in page, \
        re.findall(r"Score: [^<]*|total: [^<]*", page)
    percent = min(days * PERCENT, CAP)
    assert len(notes) == len(late_trip["names"]), notes
    for note in notes:
        assert f"{days} day{'s' if days > 1 else ''} late" in note, note
        assert f"{percent}% of this notebook's score" in note and "extension" not in note, note
    if days == 3:
        assert percent == CAP < days * PERCENT, "the three-days case must go over the cap"


@pytest.mark.slow
def test_submission_within_an_extension_is_collected_on_time_and_not_penalised(late_trip):
    g, _, notes = _case(late_trip, "extended")   # the reference, not the later blank resubmission
    login = late_trip["students"]["extended"].login
    within, after = late_trip["moved"]["extended"]
    assert g["timestamp"] == datetime.datetime.strptime(within, STAMP), \
        f"collected the submission of {g['timestamp']}, not the one within the extension ({within})"
    assert late_trip["extension"][login] == datetime.timedelta(days=3)
    assert g["seconds_late"] == 0 and (g["penalty"] or 0) == 0
    assert notes and all("extension" in n and "no late penalty" in n for n in notes), notes


@pytest.mark.slow
def test_lateness_after_an_extension_counts_from_the_new_due_date(late_trip):
    g, auto, notes = _case(late_trip, "newdate")
    login = late_trip["students"]["newdate"].login
    assert late_trip["extension"][login] == datetime.timedelta(hours=24)
    assert g["seconds_late"] == pytest.approx(2 * 3600, abs=1)
    assert g["penalty"] == pytest.approx(_expected(auto, 2), abs=0.011) and g["penalty"] > 0
    assert notes and all("after your due date" in n and "1 day late" in n for n in notes), notes


@pytest.mark.slow
def test_feedback_page_shows_the_lateness_in_the_browser(late_trip, tmp_path):
    shots = Path(os.environ.get("HW4_BROWSER_SHOTS", tmp_path)) / "late_policy"
    shots.mkdir(parents=True, exist_ok=True)
    seen = {}
    with launched("the late feedback page test") as chrome:
        try:
            page = chrome.new_page(viewport={"width": 1200, "height": 800})
            for role in ("threedays", "extended"):
                login = late_trip["students"][role].login
                path = late_trip["course"] / "feedback" / login / ASSIGNMENT / f"{late_trip['names'][0]}.html"
                page.goto(path.as_uri())
                note = page.locator(".course-lateness")
                note.wait_for(state="visible")
                page.screenshot(path=str(shots / f"{role}.png"))
                seen[role] = note.inner_text()
        finally:
            chrome.close()
    print(f"\nscreenshots: {shots}")
    assert "3 days late" in seen["threedays"] and f"{CAP}%" in seen["threedays"]
    assert "extension" in seen["extended"] and "no late penalty" in seen["extended"]
