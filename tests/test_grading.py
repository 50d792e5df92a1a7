"""Autograding with nbgrader gives the example submissions the grades they deserve."""
import pytest

from course import gradebook
from course.authoring import examples as grading

pytestmark = pytest.mark.slow  # autogrades the examples


def _auto(scores, student):
    per_nb = scores[student]
    return {nb: gradebook.auto_total(cells) for nb, cells in per_nb.items()}


def test_reference_solution_earns_every_autograded_point(graded_course):
    _, scores, _ = graded_course
    totals = _auto(scores, grading.REFERENCE_STUDENT)
    assert totals, "the reference submission was not graded"
    for nb, (got, top) in totals.items():
        assert top > 0 and got == top, f"reference solution: {nb} earns {got} of {top}"


def test_reference_solution_runs_every_cell_without_an_error(graded_course):
    """Full marks can hide a kernel that died in a plot cell after the last test (it once did, in
    problem 3, with warm kernels): every code cell of the reference's autograded notebooks ran, and
    none shows an error, so the student's plots and outputs are all in the feedback."""
    import nbformat
    folder, _, _ = graded_course
    notebooks = sorted((folder / "autograded" / grading.REFERENCE_STUDENT).rglob("*.ipynb"))
    assert len(notebooks) == 4, notebooks
    for path in notebooks:
        for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            errors = [f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"reference solution, {path.name}, cell {index}: {errors}"
            assert cell.execution_count is not None, f"reference solution, {path.name}, cell {index} did not run"


def test_untouched_release_earns_nothing_and_is_graded(graded_course):
    _, scores, _ = graded_course
    totals = _auto(scores, grading.BLANK_STUDENT)
    assert len(totals) == 4, f"the blank release was not graded in every notebook: {sorted(totals)}"
    for nb, (got, top) in totals.items():
        assert top > 0 and got == 0, f"untouched release: {nb} earns {got} of {top}"


def test_typical_mistakes_earn_partial_credit_in_every_notebook(graded_course):
    _, scores, _ = graded_course
    totals = _auto(scores, "example_typical_mistakes")
    for nb, (got, top) in totals.items():
        assert 0 < got < top, f"typical mistakes: {nb} earns {got} of {top}; expected partial credit"


def test_feedback_is_written_for_every_example(graded_course):
    scratch, _, students = graded_course
    for student in students:
        pages = list((scratch / "feedback" / student / "hw4").glob("*.html"))
        assert len(pages) == 4, f"feedback for {student}: {pages}"


def test_grades_table_lists_every_student_and_notebook(graded_course):
    _, scores, students = graded_course
    names = sorted({nb for per in scores.values() for nb in per})
    text = grading.table(scores, students, names)
    for student in students:
        assert student in text
    ref_line = next(line for line in text.splitlines() if line.startswith(grading.REFERENCE_STUDENT))
    blank_line = next(line for line in text.splitlines() if line.startswith(grading.BLANK_STUDENT))
    assert " 0 / " in blank_line and " 0 / " not in ref_line
