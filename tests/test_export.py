"""Grades an LMS imports (course.export): Canvas's gradebook import CSV from the gradebook and a roster.

The roster in these tests is shaped like the CSV Canvas exports from its gradebook (a BOM, the
identity columns, the assignment as "NAME (ID)", a "Points Possible" row, names as "Last, First");
the file written must be what Canvas's import takes: header ``Student,ID,SIS User ID,SIS Login
ID,Section,<assignment>``, a "Points Possible" row, one row per student.  The gradebook is a real
nbgrader gradebook (SQLite) in a scratch course, filled through nbgrader's API with autograded
points, a hand-graded answer and a late penalty, so totals are nbgrader's own (those tests are slow: nbgrader makes the gradebook); one also
runs ``nbgrader export`` and checks both files agree.
"""
import csv
import io
import os
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from course import pipeline
from course.export import canvas, roster as rosters
from course.export.__main__ import main
from course.export.totals import assignment_totals

ROSTER = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,hw3 (1101),hw4 (1234),Current Points,Final Score\n"
    "    Points Possible,,,,,10,99,(read only),(read only)\n"
    '"Doe, Jane",501,S001,jdoe,ML 101 A,9,,5,50\n'
    '"Roe, Richard",502,S002,rroe,ML 101 B,7,,3,30\n'
    '"Poe, Edgar ""Eddie""",503,S003,epoe,ML 101 A,,,0,0\n'
)


def write_roster(folder, text=ROSTER, name="canvas_roster.csv"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def parse(text):
    return list(csv.reader(io.StringIO(text)))


# ------------------------------------------------------------------------- fast: roster and format

def test_roster_skips_points_possible_and_keys_by_the_id_column(tmp_path):
    roster = rosters.read(write_roster(tmp_path), "SIS Login ID")
    assert sorted(roster.students) == ["epoe", "jdoe", "rroe"]
    assert roster.students["jdoe"]["Student"] == "Doe, Jane" and roster.students["jdoe"]["ID"] == "501"
    assert roster.students["epoe"]["Student"] == 'Poe, Edgar "Eddie"'
    assert rosters.assignment_column(roster, "hw4") == "hw4 (1234)"
    assert rosters.assignment_column(roster, "hw5") is None


def test_canvas_csv_has_the_documented_shape(tmp_path):
    roster = rosters.read(write_roster(tmp_path), "ID")
    rows = parse(canvas.to_csv(canvas.table(roster, 99.0, {"501": 76.0, "502": 45.5, "503": 0.0}, "hw4",
                                            canvas.CanvasExport())))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw4 (1234)"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:] == ["", "", "", "", "99"]
    assert rows[2:] == [["Doe, Jane", "501", "S001", "jdoe", "ML 101 A", "76"],
                        ['Poe, Edgar "Eddie"', "503", "S003", "epoe", "ML 101 A", "0"],
                        ["Roe, Richard", "502", "S002", "rroe", "ML 101 B", "45.5"]]


def test_assignment_without_canvas_column_gets_its_name(tmp_path):
    roster = rosters.read(write_roster(tmp_path, "Student,ID,Section\nA,1,s\n"), "ID")
    rows = canvas.table(roster, 10, {"1": 3}, "hw9", canvas.CanvasExport())
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw9"]
    assert rows[2] == ["A", "1", "", "", "s", "3"]
    named = canvas.table(roster, 10, {"1": 3}, "hw9", canvas.CanvasExport(assignment_column="Homework 9 (77)"))
    assert named[0][-1] == "Homework 9 (77)"


def test_students_on_one_side_are_named(tmp_path):
    roster = rosters.read(write_roster(tmp_path), "SIS Login ID")
    scores = {"jdoe": 50.0, "rroe": 40.0, "ghost": 10.0}
    with pytest.raises(canvas.MissingStudents) as error:
        canvas.table(roster, 99, scores, "hw4", canvas.CanvasExport())
    message = str(error.value)
    assert "in the gradebook but not in the roster" in message and "ghost" in message
    assert "in the roster but not in the gradebook: epoe" in message
    # allow_missing: roster students the gradebook lacks get an empty cell; graded students still must be there
    del scores["ghost"]
    rows = canvas.table(roster, 99, scores, "hw4", canvas.CanvasExport(allow_missing=True))
    assert ["Poe, Edgar \"Eddie\"", "503", "S003", "epoe", "ML 101 A", ""] in rows


@pytest.mark.parametrize("text, needle", [
    ("Name,Login\nA,a\n", "no column 'Student', 'ID'"),
    ("Student,ID\nA,\n", "line 2 (A): no ID"),
    ("Student,ID\nA,1\nB,1\n", "lists ID 1 more than once"),
])
def test_bad_rosters_are_clear_errors(tmp_path, text, needle):
    with pytest.raises(rosters.RosterError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        rosters.read(write_roster(tmp_path, text), "ID")
    with pytest.raises(rosters.RosterError, match="no roster file"):
        rosters.read(tmp_path / "nothing.csv", "ID")


# ------------------------------------------------ slow: a real gradebook (nbgrader makes it, ~30 s)

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course (its config) whose gradebook holds hw4 with three students, filled through nbgrader's API:
    jdoe 8 + 5 auto, 2 by hand; rroe 8 + 0 auto, 4 points late penalty; epoe no submission."""
    tmp_path = tmp_path_factory.mktemp("export")
    settings = pipeline.scratch_course(tmp_path, names=[])
    # nbgrader makes a new gradebook with `alembic`, found on PATH: this environment's first
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), path])
    with Gradebook(settings.db_url, course_id=settings.course_id) as gb:
        gb.add_assignment(settings.assignment)
        gb.add_notebook("nb1", settings.assignment)
        gb.add_grade_cell("auto1", "nb1", settings.assignment, max_score=8, cell_type="code")
        gb.add_grade_cell("auto2", "nb1", settings.assignment, max_score=5, cell_type="code")
        gb.add_grade_cell("written", "nb1", settings.assignment, max_score=3, cell_type="markdown")
        gb.add_solution_cell("written", "nb1", settings.assignment)
        for student in ("jdoe", "rroe", "epoe"):
            gb.add_student(student)
        for student, auto1, auto2, manual, penalty in (("jdoe", 8, 5, 2, 0), ("rroe", 8, 0, None, 4)):
            gb.add_submission(settings.assignment, student)
            nb = gb.find_submission_notebook("nb1", settings.assignment, student)
            for grade in nb.grades:
                if grade.name == "auto1":
                    grade.auto_score = auto1
                elif grade.name == "auto2":
                    grade.auto_score = auto2
                else:
                    grade.manual_score = manual
            nb.late_submission_penalty = penalty
            gb.db.commit()
    os.environ["PATH"] = path
    write_roster(tmp_path)
    return settings


@pytest.mark.slow
def test_totals_are_nbgrader_scores(graded):
    max_score, scores = assignment_totals(graded)
    assert max_score == 16
    assert scores == {"jdoe": 15.0, "rroe": 4.0, "epoe": 0.0}


@pytest.mark.slow
def test_command_writes_beside_grades_csv(graded, capsys):
    assert main(["--lms", "canvas", "--root", str(graded.root), "--id-column", "SIS Login ID"]) == 0
    out = graded.root / f"{graded.assignment}_canvas.csv"
    rows = parse(out.read_text())
    assert rows[0][-1] == "hw4 (1234)" and rows[1][-1] == "16"
    assert {row[3]: row[-1] for row in rows[2:]} == {"jdoe": "15", "rroe": "4", "epoe": "0"}
    assert str(out) in capsys.readouterr().out


@pytest.mark.slow
def test_command_errors(graded):
    with pytest.raises(SystemExit, match="no assignment 'hw99'"):
        main(["hw99", "--lms", "canvas", "--root", str(graded.root)])
    # by Canvas's numeric ID, nbgrader's ids (jdoe, ...) are nobody in the roster
    with pytest.raises(SystemExit, match="not in the roster .*epoe, jdoe, rroe"):
        main(["--lms", "canvas", "--root", str(graded.root)])
    with pytest.raises(SystemExit, match="no roster file"):
        main(["--lms", "canvas", "--root", str(graded.root), "--roster", "elsewhere.csv"])


@pytest.mark.slow
def test_agrees_with_nbgrader_export(graded):
    """nbgrader's own CSV and the Canvas file, both made in the course folder, give every student the same score."""
    pipeline.nbgrader(graded.root, "export")
    theirs = {row["student_id"]: float(row["score"]) for row in csv.DictReader(open(graded.root / "grades.csv"))
              if row["assignment"] == graded.assignment}
    proc = subprocess.run([sys.executable, "-m", "course.export", "--lms", "canvas", "--id-column", "SIS Login ID"],
                          cwd=graded.root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    ours = {row[3]: float(row[-1]) for row in parse((graded.root / f"{graded.assignment}_canvas.csv").read_text())[2:]}
    assert ours == theirs and len(ours) == 3
