"""Notebook repair, cell by cell: what is graded and shown back is the handout once, plus the student's own cells.

Fast: notebooks are built in memory and passed to course.protection.repair.rebuild; no kernel,
no nbgrader run.  The scores of repaired notebooks are tested in test_protection.py; here it is
what a student reads back: every source cell once, in the source's order, and every cell the
student added once, where they put it.
"""
import copy
import json

import nbformat
import pytest

from course.authoring import examples, submissions
from course.notebooks import notebook_names, read
from course.protection.repair import rebuild

from support.course import RELEASE, SOURCE


def _cell(kind, text, cell_id, grade_id=None, **nbgrader):
    make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
    cell = make(text)
    cell["id"] = cell_id
    if grade_id:
        cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **nbgrader}
    return cell


def _source():
    """A small source notebook: handout text, a provided cell, an answer, a test, a written answer."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _cell("markdown", "# Problem 9\nFit $\\mu_k$ and pay $5 for it.", "intro"),
        _cell("code", "import numpy as np", "imports"),
        _cell("markdown", "## Part (a)\nWrite `mean`.", "part-a"),
        _cell("code", "def mean(x):\n    return np.mean(x)", "answer-a", "mean_answer",
              solution=True, grade=False, locked=False),
        _cell("code", '"""mean of a list"""\nassert mean([1, 3]) == 2', "test-a", "mean_test",
              solution=False, grade=True, locked=True, points=2),
        _cell("markdown", "## Part (b)\nExplain.", "part-b"),
        _cell("markdown", "YOUR ANSWER HERE", "answer-b", "explain", solution=True, grade=True,
              locked=False, points=3),
        _cell("markdown", "That's all.", "outro"),
    ]
    return nb


def _student(source=None):
    """The student's raw cells as they would arrive in a submitted file (plain JSON)."""
    return json.loads(json.dumps((source or _source()).cells))


def _ids(nb):
    return [c.get("id") for c in nb.cells]


def _texts(nb):
    return [c.source for c in nb.cells]


SOURCE_IDS = ["intro", "imports", "part-a", "answer-a", "test-a", "part-b", "answer-b", "outro"]


def test_an_untouched_notebook_is_the_source_once_with_no_repair():
    nb, repairs = rebuild(_source(), _student())
    assert _ids(nb) == SOURCE_IDS
    assert _texts(nb) == _texts(_source())
    assert repairs == []


def test_repairing_a_repaired_notebook_changes_nothing():
    """nbgrader's autograde reads the notebook twice (sanitising, then grading): both pass through rebuild."""
    student = _student()
    student.insert(3, {"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "my notes"})
    once, _ = rebuild(_source(), student)
    twice, repairs = rebuild(_source(), _student(once))
    assert _ids(twice) == _ids(once) and _texts(twice) == _texts(once)
    assert len(twice.cells) == len(SOURCE_IDS) + 1
    assert repairs == []


def test_added_markdown_and_code_cells_are_kept_once_where_the_student_put_them():
    student = _student()
    student.insert(0, {"cell_type": "markdown", "id": "top", "metadata": {}, "source": "Name: Ada"})
    # after the handout markdown "Part (a)", before the answer cell
    student.insert(4, {"cell_type": "code", "id": "try", "metadata": {}, "outputs": [],
                       "execution_count": 4, "source": "mean([1, 2])"})
    # after the written answer (graded cell) and after the last handout cell
    student.insert(9, {"cell_type": "markdown", "id": "note", "metadata": {}, "source": "see above"})
    student.append({"cell_type": "code", "id": "end", "metadata": {}, "outputs": [],
                    "execution_count": None, "source": "print('done')"})
    nb, repairs = rebuild(_source(), student)
    assert _texts(nb) == (["Name: Ada"] + _texts(_source())[:3] + ["mean([1, 2])"] + _texts(_source())[3:7]
                          + ["see above", _texts(_source())[7], "print('done')"])
    added = [c for c in nb.cells if c.id not in SOURCE_IDS]
    assert [c.cell_type for c in added] == ["markdown", "code", "markdown", "code"]
    assert all(c.id.startswith("student-cell-") for c in added) and len(set(_ids(nb))) == len(nb.cells)
    assert repairs == []


def test_duplicated_handout_cells_are_shown_once():
    student = _student()
    copy_same_id = copy.deepcopy(student[0])
    copy_new_id = dict(copy.deepcopy(student[2]), id="pasted")
    provided_copy = dict(copy.deepcopy(student[1]), id="pasted-code")
    student[3:3] = [copy_same_id, copy_new_id, provided_copy]
    nb, repairs = rebuild(_source(), student)
    assert _ids(nb) == SOURCE_IDS
    assert repairs == []


def test_reordered_cells_are_put_back_in_the_source_order_with_the_added_cell_after_its_predecessor():
    student = _student()
    student.insert(6, {"cell_type": "markdown", "id": "mine", "metadata": {}, "source": "about part (b)"})
    student.reverse()  # outro, the written answer (b), the student's cell, "Part (b)", ...
    nb, repairs = rebuild(_source(), student)
    assert [c for c in _ids(nb) if c in SOURCE_IDS] == SOURCE_IDS
    assert _texts(nb).count("about part (b)") == 1
    assert _texts(nb).index("about part (b)") == SOURCE_IDS.index("answer-b") + 1  # after what preceded it
    assert "cells were reordered; the original order was restored" in repairs


def test_a_notebook_saved_without_cell_ids_is_matched_by_text():
    student = _student()
    for cell in student:
        cell.pop("id")
    student.insert(1, {"cell_type": "markdown", "metadata": {}, "source": "my own words"})
    nb, repairs = rebuild(_source(), student)
    assert _ids(nb)[0] == "intro" and _texts(nb)[1] == "my own words"
    assert [c for c in _ids(nb) if c in SOURCE_IDS] == SOURCE_IDS and len(nb.cells) == len(SOURCE_IDS) + 1
    assert repairs == []


def test_an_edited_handout_cell_is_restored_and_the_repair_says_which():
    student = _student()
    student[2]["source"] = "## Part (a)\nWrite `mean`. My answer is below!"
    nb, repairs = rebuild(_source(), student)
    assert _texts(nb) == _texts(_source())
    assert repairs == ["handout cell 3 ('## Part (a) Write `mean`.') was edited; the original was restored"]


def test_a_second_copy_with_a_handout_id_but_new_text_is_the_students_own_cell():
    student = _student()
    student.insert(3, dict(copy.deepcopy(student[2]), source="my working for (a)"))
    nb, repairs = rebuild(_source(), student)
    assert _texts(nb)[3] == "my working for (a)" and _ids(nb)[:3] == SOURCE_IDS[:3]
    assert len(nb.cells) == len(SOURCE_IDS) + 1 and repairs == []


def test_a_test_cell_copied_with_a_handout_cell_id_is_ignored_and_the_handout_kept():
    """The protection suite's duplicated test cell carries the first cell's id: grade_id decides."""
    student = _student()
    student.append(dict(copy.deepcopy(student[4]), id="intro"))
    nb, repairs = rebuild(_source(), student)
    assert _ids(nb) == SOURCE_IDS
    assert repairs == ["a second copy of cell mean_test was ignored"]


def test_answers_are_carried_over_and_handout_cells_come_from_the_source():
    student = _student()
    student[3]["source"] = "def mean(x):\n    return sum(x) / len(x)"
    student[6]["source"] = "Because."
    nb, _ = rebuild(_source(), student)
    assert nb.cells[3].source == "def mean(x):\n    return sum(x) / len(x)"
    assert nb.cells[6].source == "Because."
    assert nb.cells[0].source == _source().cells[0].source


@pytest.mark.parametrize("name", notebook_names(SOURCE))
def test_the_example_submissions_rebuild_to_the_source_cells_once_each(name):
    """The bug as filed: problem2's 42 cells came back as 68, every handout cell three times."""
    source_nb, release_nb = read(SOURCE / f"{name}.ipynb"), read(RELEASE / f"{name}.ipynb")
    students = {"reference": submissions.build(release_nb, source_nb, None, submissions.REFERENCE),
                "blank": submissions.build(release_nb, source_nb, None, submissions.BLANK)}
    for student, code in examples.example_students().items():
        students[student] = submissions.build(release_nb, source_nb, code.get(name), submissions.BLANK)
    for student, submitted in students.items():
        once, _ = rebuild(source_nb, _student(submitted))
        twice, _ = rebuild(source_nb, _student(once))
        for nb in (once, twice):
            assert _ids(nb) == _ids(source_nb), (student, len(nb.cells), len(source_nb.cells))
