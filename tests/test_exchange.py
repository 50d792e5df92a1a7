"""Handing hw4 out and collecting it through nbgrader's exchange, with real Unix users; and zip_collect.

The round trip runs once per session (about 2-3 minutes: some 20 nbgrader commands and one notebook
autograded for four students) in a scratch folder under /tmp with a scratch exchange; the students
are throwaway Unix users, removed afterwards.  It needs root; under CI=true it fails without root.
"""
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from traitlets.config import Config

from course import gradebook, pipeline, settings
from course.authoring import submissions
from course.exchange.operations import student_config

import support.exchange_rehearsal as exchange
from support.course import ASSIGNMENT, EXAMPLES, ROOT
from nbgrader.utils import parse_utc


def _need_users():
    if exchange.can_make_users():
        return
    message = "the exchange round trip creates throwaway Unix users: it must run as root (useradd, userdel)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def trip():
    _need_users()
    folder = Path(tempfile.mkdtemp(prefix="hw4_exchange_"))  # not under pytest's 0700 tmp: students enter it
    try:
        yield exchange.round_trip(folder, log=lambda line: None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _student(trip, role):
    return trip.students[role].login


def _grade(trip, role):
    grades = trip.grades.get(_student(trip, role))
    assert grades, f"{role}: no submission in the gradebook; graded: {sorted(trip.grades)}"
    return grades


def _auto(grades):
    got = sum(nb["auto"] for nb in grades["notebooks"].values())
    top = sum(nb["max_auto"] for nb in grades["notebooks"].values())
    return got, top


# --- the course's settings ----------------------------------------------------------------------


def test_config_names_the_exchange_course_due_date_and_late_policy():
    conf = exchange.settings()
    assert os.path.isabs(conf["exchange_root"]) and conf["course_id"]
    assert conf["duedate"] and parse_utc(conf["duedate"]).year >= 2000
    readme = (ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else ""
    for word in (conf["exchange_root"], "release_assignment", "zip_collect"):
        assert word in readme, f"the README's instructor section should mention {word}"


def test_students_config_is_enough_for_nbgrader_and_matches_the_course():
    conf = exchange.settings()
    text = student_config(conf["exchange_root"], conf["course_id"])
    cfg = Config()
    exec(text, {"get_config": lambda: cfg})
    assert cfg.Exchange.root == conf["exchange_root"]
    assert cfg.CourseDirectory.course_id == conf["course_id"]


@pytest.mark.slow
def test_db_assignment_add_writes_the_configured_due_date(tmp_path):
    course = exchange.scratch_course(tmp_path / "course", [], tmp_path / "exchange")
    pipeline.nbgrader(course, "db", "assignment", "add", ASSIGNMENT)
    from nbgrader.api import Gradebook
    with Gradebook(settings.load(course).db_url) as gb:
        due = gb.find_assignment(ASSIGNMENT).duedate
    assert due == parse_utc(exchange.settings()["duedate"])


@pytest.mark.slow
def test_canvas_style_download_names_map_to_student_and_notebook():
    regexp = exchange.settings()["named_regexp"]
    cases = {
        "/d/hw4/extracted/subs/lovelaceada_1001_5001_problem1_kmeans.ipynb": ("lovelaceada", "problem1_kmeans"),
        "/d/hw4/extracted/subs/turingalan_LATE_1002_5003_problem2_gmm-1.ipynb": ("turingalan", "problem2_gmm"),
    }
    for path, (student, notebook) in cases.items():
        m = re.match(regexp, path)
        assert m and (m["student_id"], m["file_id"]) == (student, notebook), f"{path}: {m and m.groupdict()}"
    assert re.match(regexp, "/d/hw4/extracted/subs/notes.ipynb") is None


# --- the round trip -------------------------------------------------------------------------------


@pytest.mark.slow
def test_release_sets_the_exchange_permissions_nbgrader_promises(trip):
    assert not trip.exchange_problems, trip.exchange_problems
    assert trip.modes["feedback dir"] == 0o711


@pytest.mark.slow
def test_correct_student_earns_every_autograded_point_on_time(trip):
    grades = _grade(trip, "correct")
    got, top = _auto(grades)
    assert top > 0 and got == top, f"correct student: {got} of {top}"
    assert grades["seconds_late"] == 0 and grades["penalty"] == 0


@pytest.mark.slow
def test_student_with_mistakes_earns_partial_credit(trip):
    got, top = _auto(_grade(trip, "mistakes"))
    assert 0 < got < top, f"student with mistakes: {got} of {top}"


@pytest.mark.slow
def test_latest_on_time_submission_is_the_one_collected_and_graded(trip):
    login = _student(trip, "twice")
    stamps = trip.submitted_at[login]
    assert len(stamps) == 3, f"the student who resubmits made {len(stamps)} submissions"
    due = parse_utc(trip.duedate)
    on_time = [s for s in stamps if parse_utc(s) <= due]
    assert len(on_time) == 2, (stamps, trip.duedate)
    grades = _grade(trip, "twice")
    assert grades["timestamp"] == parse_utc(max(on_time, key=parse_utc)), \
        f"graded the submission of {grades['timestamp']}; submitted {stamps}, due {trip.duedate}"
    got, top = _auto(grades)
    assert got == top, "the latest on-time submission (the correct answers) should have been graded"
    assert grades["seconds_late"] == 0 and grades["penalty"] == 0


@pytest.mark.slow
def test_late_submission_is_recorded_late_and_penalised_as_the_policy_says(trip):
    from course.late.notice import policy_in_force
    grades = _grade(trip, "late")
    assert grades["seconds_late"] > 0
    got, top = _auto(grades)
    assert got == top > 0, "the late student handed in correct answers"
    policy = policy_in_force(settings.read_config(ROOT))
    assert policy is not None, "the course's late policy is course.late.penalty.PerDayPenalty"
    percent = policy.percent(grades["seconds_late"])
    assert 0 < percent <= policy.max_percent
    for name, nb in grades["notebooks"].items():
        assert (nb["penalty"] or 0) == pytest.approx(round(nb["auto"] * percent / 100, 2), abs=0.011), name


@pytest.mark.slow
def test_collect_finds_every_submission_owned_by_the_student_it_names(trip):
    out = trip.outputs[f"instructor: nbgrader collect {ASSIGNMENT}"]
    assert "cheating attempt" not in out, out
    assert set(trip.grades) == {s.login for s in trip.students.values()}


@pytest.mark.slow
def test_each_student_fetches_their_own_feedback_and_nobody_elses(trip):
    for role, student in trip.students.items():
        fetched = trip.fetched_feedback[student.login]
        own = trip.feedback[student.login]
        assert sorted(Path(p).stem for p in fetched) == sorted(trip.names) == sorted(own), (role, list(fetched))
        folders = {Path(p).parent.name for p in fetched}
        assert len(folders) == 1, f"{role}: feedback for several submissions: {folders}"
        assert parse_utc(folders.pop()) == _grade(trip, role)["timestamp"], f"{role}: not the graded submission's"
        for path, text in fetched.items():
            assert text == own[Path(path).stem], f"{role}: fetched feedback {path} is not their own"
    mistakes = trip.fetched_feedback[_student(trip, "mistakes")]
    correct = trip.feedback[_student(trip, "correct")]
    assert all(text != correct[Path(p).stem] for p, text in mistakes.items()), \
        "the student with mistakes received the same feedback as the correct one"


@pytest.mark.slow
def test_students_cannot_list_others_work_nor_touch_the_instructors_folders(trip):
    expected = {
        "list_inbound": "denied",        # submissions of others cannot be found
        "list_feedback": "denied",       # released feedback of others cannot be found
        "write_release": "denied",
        "write_release_file": "denied",
        "write_inbound": "allowed",      # how submitting works
        "read_release": "allowed",       # how fetching works
        "read_course_source": "denied",  # the instructor's course folder (solutions, gradebook) is private
        "list_course": "denied",
        "write_course": "denied",
        "list_other_home": "denied",
        "read_other_cache": "denied",
    }
    wrong = {k: (trip.access.get(k), v) for k, v in expected.items() if trip.access.get(k) != v}
    assert not wrong, f"(found, expected): {wrong}"
    assert trip.modes["inbound submission file"] & 0o022 == 0, "a submitted file is writable by others"


# --- without a shared file system: zip_collect ---------------------------------------------------


@pytest.mark.slow
def test_zip_collect_puts_lms_downloads_in_submitted_and_grades_them(tmp_path):
    names = exchange.pick_notebooks()
    course = exchange.scratch_course(tmp_path / "course", names, tmp_path / "exchange")
    pipeline.generate(course)
    reference = pipeline.build_student(course, None, submissions.REFERENCE)
    code = {f.stem: f.read_text() for f in (EXAMPLES / "typical_mistakes").glob("*.py")}
    mistakes = pipeline.build_student(course, code, submissions.BLANK)
    archive = course / "downloaded" / ASSIGNMENT / "archive"
    archive.mkdir(parents=True)
    with zipfile.ZipFile(archive / "submissions.zip", "w") as zf:
        for name in names:
            zf.writestr(f"lovelaceada_1001_5001_{name}.ipynb", _text(reference[name]))
            zf.writestr(f"turingalan_LATE_1002_5003_{name}-1.ipynb", _text(mistakes[name]))
        zf.writestr("lovelaceada_1001_5001_scratch.txt", "not a notebook")
    out = pipeline.nbgrader(course, "zip_collect", ASSIGNMENT)
    for student in ("lovelaceada", "turingalan"):
        got = sorted(p.stem for p in (course / "submitted" / student / ASSIGNMENT).glob("*.ipynb"))
        assert got == sorted(names), (student, got, out.stderr[-2000:])
    pipeline.autograde(course)
    scores = gradebook.scores(settings.load(course))
    for name in names:
        got, top = gradebook.auto_total(scores["lovelaceada"][name])
        assert top > 0 and got == top, f"lovelaceada {name}: {got} of {top}"
        got, top = gradebook.auto_total(scores["turingalan"][name])
        assert 0 < got < top, f"turingalan {name}: {got} of {top}"


def _text(nb):
    import nbformat
    return nbformat.writes(nb)
