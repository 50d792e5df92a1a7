"""Solution and hidden-test regions: the one walker (course.notebooks.scan_regions) and its users.

The hidden tests must never reach a student: not in the release (generate_assignment), not in the
feedback (PlainFeedback), and repair must compare a student's test cell with the source's without
them.  All three rest on scan_regions.
"""
from course import notebooks
from course.feedback.plain_feedback import PlainFeedback

CELL = """\"\"\"kmeans returns K centres.\"\"\"
check_shape(kmeans(X, 3), (3, 2))
### BEGIN HIDDEN TESTS
secret_case = make_case(seed=11)
check_close(kmeans(*secret_case), expected)
### END HIDDEN TESTS
print("done")"""


def test_scan_regions_labels_every_line():
    kinds = [kind for kind, _ in notebooks.scan_regions(CELL, notebooks.BEGIN_HIDDEN, notebooks.END_HIDDEN)]
    assert kinds == ["outside", "outside", "begin", "inside", "inside", "end", "outside"]


def test_an_unterminated_region_runs_to_the_end():
    text = "visible\n### BEGIN HIDDEN TESTS\nsecret one\nsecret two"
    assert notebooks.without_hidden_tests(text) == ["visible"]


def test_an_end_marker_without_a_begin_is_an_ordinary_line():
    text = "a\n### END HIDDEN TESTS\nb"
    assert notebooks.without_hidden_tests(text) == ["a", "### END HIDDEN TESTS", "b"]


def test_feedback_replaces_each_hidden_region_by_a_note_with_its_length():
    shown = PlainFeedback()._hide_region(CELL)
    assert "secret_case" not in shown and "expected" not in shown
    assert "# ... hidden tests (2 lines), not shown ..." in shown
    assert shown.splitlines()[0].startswith('"""kmeans') and shown.splitlines()[-1] == 'print("done")'


def test_feedback_hides_an_unterminated_region_to_the_end():
    shown = PlainFeedback()._hide_region("x = 1\n### BEGIN HIDDEN TESTS\nsecret\nmore secret")
    assert shown == "x = 1\n# ... hidden tests (2 lines), not shown ..."


def test_feedback_follows_the_courses_own_delimiters():
    fb = PlainFeedback(begin_test_delimeter="BEGIN SECRET", end_test_delimeter="END SECRET")
    shown = fb._hide_region("a\n# BEGIN SECRET\nhidden\n# END SECRET\nb")
    assert shown == "a\n# ... hidden tests (1 lines), not shown ...\nb"


def test_solution_lines_cover_marked_regions_and_whole_unmarked_answers():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    meta = {"nbgrader": {"solution": True, "grade": False, "grade_id": "a", "schema_version": 3}}
    nb = new_notebook(cells=[
        new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION", metadata=meta),
        new_markdown_cell("The model answer.\nRubric: two points.", metadata=meta),
        new_code_cell("provided = 1")])
    assert notebooks.solution_lines(nb) == ["    return 42", "The model answer.", "Rubric: two points."]
