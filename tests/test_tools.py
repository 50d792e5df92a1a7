"""Unit tests of the course's own tooling: hw4_checks messages, notebook cleaning, submission building."""
import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course import notebooks
from course.authoring import submissions

from support.course import source_module

hw4_checks = source_module("hw4_checks")


def _meta(gid, **kw):
    return {"nbgrader": {"schema_version": 3, "grade_id": gid, "task": False, "locked": False,
                         "grade": False, "solution": False, **kw}}


def _source_nb():
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("intro"),
        new_code_cell("def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\n"
                      "def g(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=_meta("answers", solution=True)),
        new_code_cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", metadata=_meta("answer_value", solution=True)),
        new_markdown_cell("model answer", metadata=_meta("written", solution=True, grade=True, points=1)),
    ]
    return nb


def _release_nb():
    nb = _source_nb()
    nb.cells[1].source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    raise NotImplementedError()\n\ndef g(x):\n    raise NotImplementedError()"
    nb.cells[2].source = "raise NotImplementedError()"
    nb.cells[3].source = "YOUR ANSWER HERE"
    return nb


def _run(nb):
    ns = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            try:
                exec(cell.source, ns)
            except NotImplementedError:
                pass
    return ns


def test_build_puts_the_students_definitions_in_and_leaves_the_rest_blank():
    nb = submissions.build(_release_nb(), _source_nb(), "import math\ndef f(x):\n    return math.floor(x)\n")
    ns = _run(nb)
    assert ns["f"](2.5) == 2
    with pytest.raises(NotImplementedError):
        ns["g"](1)
    assert "answer" not in ns and nb.cells[3].source == "YOUR ANSWER HERE"


def test_build_on_the_reference_fills_what_the_student_left_out():
    nb = submissions.build(_release_nb(), _source_nb(), "def g(x):\n    return 3 * x\n", submissions.REFERENCE)
    ns = _run(nb)
    assert (ns["f"](1), ns["g"](1), ns["answer"]) == (2, 3, 42)


def test_reference_submission_carries_solutions_and_model_answers():
    nb = submissions.build(_release_nb(), _source_nb(), None, submissions.REFERENCE)
    assert _run(nb)["answer"] == 42 and nb.cells[3].source == "model answer"
    assert "BEGIN SOLUTION" not in "".join(c.source for c in nb.cells)


def test_clean_strips_outputs_counts_and_stray_metadata():
    nb = _source_nb()
    nb.metadata["widgets"] = {"x": 1}
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi")]
    nb.cells[1].execution_count = 3
    nb.cells[1].metadata["collapsed"] = True
    assert len(notebooks.dirt(nb)) == 4
    assert notebooks.dirt(notebooks.clean(nb)) == []
    assert nb.cells[1].metadata["nbgrader"]["grade_id"] == "answers"


def test_regions_are_extracted_line_by_line():
    nb = _source_nb()
    assert [l.strip() for l in notebooks.solution_lines(nb)] == ["return x + 1", "return 2 * x", "answer = 42", "model answer"]
    assert not notebooks.is_telling("    )") and not notebooks.is_telling("else:")
    assert notebooks.is_telling("return x + 1")


def test_check_close_names_the_case_and_the_difference():
    with pytest.raises(AssertionError, match=r"kmeans centres \(hand example\).*expected 2, got 2.5"):
        hw4_checks.check_close([1, 2.5], [1, 2], "kmeans centres", "hand example")
    with pytest.raises(AssertionError, match="nan or inf"):
        hw4_checks.check_close([np.nan], [1.0], "l_prime")
    with pytest.raises(AssertionError, match="shape"):
        hw4_checks.check_close(np.zeros(3), np.zeros((3, 1)), "probabilities")
    hw4_checks.check_close(np.float32(1.0000001), 1.0, "float32 is fine", rtol=1e-6)


def test_check_equal_reports_the_first_difference():
    with pytest.raises(AssertionError, match=r"1 of 3 entries differ \(first at index \(2,\): expected 0, got 1\)"):
        hw4_checks.check_equal([0, 1, 1], [0, 1, 0], "labels")
    hw4_checks.check_equal(np.array([1, 2]), [1, 2], "labels")


def test_call_copies_arguments_silences_warnings_and_explains_exceptions():
    data = np.ones(3)

    def mutate(x):
        x[:] = 0
        return np.log(x)

    out = hw4_checks.call(mutate, data)
    assert np.all(data == 1) and np.all(np.isneginf(out))
    with pytest.raises(AssertionError, match="f is not implemented yet"):
        hw4_checks.call(lambda: (_ for _ in ()).throw(NotImplementedError()), name="f")
    with pytest.raises(AssertionError, match="g raised ZeroDivisionError"):
        hw4_checks.call(lambda: 1 / 0, name="g")


def test_build_keeps_the_students_own_helpers():
    code = "SCALE = 3\n\ndef _triple(x):\n    return SCALE * x\n\ndef g(x):\n    return _triple(x)\n"
    ns = _run(submissions.build(_release_nb(), _source_nb(), code, submissions.REFERENCE))
    assert ns["g"](2) == 6 and ns["f"](1) == 2
