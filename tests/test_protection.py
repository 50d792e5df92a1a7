"""Grading that cannot be fooled, stalled or crashed (issue: protected autograding).

One scratch course, one real `nbgrader autograde` run over a class of
submissions made for the purpose (problem 4, built from the reference
solution and then broken or made hostile), then one assertion per case.
Every student also carries a missing notebook (problem 3), which must score
zero without disturbing anything.
"""
import json
import re
import time

import nbformat
import pytest

from course import gradebook, notebooks, pipeline, settings
from course.authoring import submissions

from support.course import ROOT, SOURCE

pytestmark = pytest.mark.slow  # every case is a real nbgrader autograde

NB = "problem4_regression"
OTHER = "problem3_density"
WRONG_KR = "\n\ndef kernel_regression(X, Y, X_new, sigma):\n    return np.ones(len(X_new))\n"
KR_TESTS = ("kernel_regression_matches_brute_force", "kernel_regression_linear_in_y",
            "kernel_regression_tiny_bandwidth", "kernel_regression_huge_bandwidth")


def _cell(nb, grade_id):
    return next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)


def _append(grade_id, code):
    def change(nb):
        _cell(nb, grade_id).source += "\n" + code
        return nb
    return change


def _hostile_cells(course):
    return {
        "loop_in_function": _append("kernel_regression_answer",
                                    "def kernel_regression(X, Y, X_new, sigma):\n    while True:\n        pass\n"),
        "loop_in_cell": _append("ols_is_linear_smoother_answer", "while True:\n    pass\n"),
        "exit_in_cell": _append("kernel_is_linear_smoother_answer", "import os\nos._exit(3)\n"),
        "segfault_in_function": _append("kernel_smoother_matrix_answer",
                                        "def kernel_smoother_matrix(X, X_new, sigma):\n    import ctypes\n"
                                        "    return ctypes.string_at(0)\n"),
        "memory_hog": _append("ols_smoother_matrix_answer", "hog = np.ones(2**29)  # 4 GiB: fits the machine, not the limit\n"),
        "output_flood": _append("ols_smoother_matrix_answer", "for i in range(300000):\n    print('x' * 40, i)\n"),
        "noisy_but_correct": _append("kernel_regression_answer", (
            "_right = kernel_regression\n\ndef kernel_regression(X, Y, X_new, sigma):\n"
            "    import sys, warnings\n    print('debugging', sigma)\n    print('note', file=sys.stderr)\n"
            "    warnings.warn('careful')\n    np.log(0.0)\n    return _right(X, Y, X_new, sigma)\n\n"
            "import sys, warnings\nprint('hello', file=sys.stderr)\nwarnings.warn('top-level warning')\n")),
        "patches_checks": _append("kernel_regression_answer", WRONG_KR + (
            "import math, builtins, numpy.testing, hw4_checks\n"
            "np.allclose = lambda *a, **k: True\nnp.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)\n"
            "np.testing.assert_allclose = lambda *a, **k: None\nmath.isclose = lambda *a, **k: True\n"
            "hw4_checks.check_close = hw4_checks.check_equal = hw4_checks.check_true = lambda *a, **k: None\n"
            "builtins.AssertionError = type('Nothing', (Exception,), {})\n")),
        "ipython_hooks": _append("kernel_regression_answer", WRONG_KR + (
            "import ast\nip = get_ipython()\nip.set_custom_exc((BaseException,), lambda *a, **k: None)\n"
            "ip.showtraceback = lambda *a, **k: None\n"
            "ip.input_transformers_post.append(lambda lines: ['pass\\n'])\n"
            "class Blank(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
            "        return ast.Module(body=[], type_ignores=[])\nip.ast_transformers.append(Blank())\n")),
        "reads_and_writes_disk": _append("kernel_regression_answer", WRONG_KR + (
            "import os, subprocess, glob\n"
            f"print('SEES_COURSE', os.path.exists({str(course)!r}))\n"
            f"print('SEES_SOURCE', bool(glob.glob({str(course / 'source' / '*' / '*.ipynb')!r})))\n"
            f"print('SEES_GRADEBOOK', os.path.exists({str(course / 'gradebook.db')!r}))\n"
            f"print('SEES_REPO', os.path.exists({str(ROOT / 'source')!r}))\n"
            f"try:\n    open({str(course / 'written_now.txt')!r}, 'w').write('x')\nexcept OSError as e:\n    print('WRITE_REFUSED', e)\n"
            f"subprocess.Popen(['sh', '-c', 'sleep 4; echo x > {course / 'written_later.txt'}'], start_new_session=True)\n")),
        # the grading side's calls arrive over a Unix socket (bridge.py sessions): garbage written into it,
        # then the socket closed, from inside a called function
        "jams_the_bridge": _append("kernel_regression_answer", (
            "_right = kernel_regression\n\ndef kernel_regression(X, Y, X_new, sigma):\n"
            "    import os, socket\n    for fd in range(3, 256):\n        try:\n"
            "            s = socket.socket(fileno=os.dup(fd))\n        except OSError:\n            continue\n"
            "        try:\n            if 'bridge-' in str(s.getpeername()):\n"
            "                s.sendall(bytes(12) + b'{\"__dict__\": {\"result\": 1}}')\n"
            "                os.close(fd)\n        except OSError:\n            pass\n        s.close()\n"
            "    return _right(X, Y, X_new, sigma)\n")),
        "environment_probe": _append("kernel_regression_answer",
                                     "import os\nprint('NBGRADER_VARS', sorted(k for k in os.environ if 'NBGRADER' in k))\n"),
    }


def _broken_files(nb):
    """student -> {file name: text} for the broken-notebook cases."""
    def edited(change):
        copy = nbformat.from_dict(json.loads(json.dumps(nb)))
        change(copy)
        return json.dumps(copy)

    def duplicate(n):
        n.cells.append(nbformat.from_dict(json.loads(json.dumps(_cell(n, "kernel_regression_huge_bandwidth")))))
        n.cells[-1]["id"] = n.cells[0]["id"]  # a duplicated cell id too

    def reorder(n):
        n.cells.reverse()

    def delete_and_edit(n):
        n.cells.remove(_cell(n, "kernel_regression_linear_in_y"))
        _cell(n, "kernel_regression_matches_brute_force").source = '"""mine"""\npass'
        _cell(n, "kernel_regression_answer").source += WRONG_KR

    def metadata(n):
        meta = _cell(n, "kernel_regression_huge_bandwidth").metadata.nbgrader
        meta.update(points=100, schema_version=1)
        _cell(n, "kernel_regression_tiny_bandwidth").metadata.nbgrader["grade"] = False
        _cell(n, "kernel_regression_answer").source += WRONG_KR

    return {
        "invalid_json": {f"{NB}.ipynb": json.dumps(nb)[:-200]},
        "renamed": {f"{NB} (1).ipynb": json.dumps(nb)},
        "duplicated_test_cell": {f"{NB}.ipynb": edited(duplicate)},
        "reordered_cells": {f"{NB}.ipynb": edited(reorder)},
        "deleted_and_edited_tests": {f"{NB}.ipynb": edited(delete_and_edit)},
        "changed_metadata": {f"{NB}.ipynb": edited(metadata)},
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("protected")
    pipeline.scratch_course(course, names=[NB, OTHER])
    pipeline.generate(course)
    release = notebooks.read(course / "release" / "hw4" / f"{NB}.ipynb")
    reference = submissions.build(release, notebooks.read(SOURCE / f"{NB}.ipynb"), None, submissions.REFERENCE)
    students = {"reference": {f"{NB}.ipynb": json.dumps(reference)}}
    for student, change in _hostile_cells(course).items():
        students[student] = {f"{NB}.ipynb": json.dumps(change(nbformat.from_dict(json.loads(json.dumps(reference)))))}
    students.update(_broken_files(reference))
    students["shadow_modules"] = {
        f"{NB}.ipynb": json.dumps(_append("ols_smoother_matrix_answer",
                                          "def ols_smoother_matrix(H, H_new):\n    return np.zeros((len(H_new), len(H)))\n")(
            nbformat.from_dict(json.loads(json.dumps(reference))))),
        "sklearn.py": "raise SystemExit('a fake sklearn')\n",
        "numpy.py": "raise SystemExit('a fake numpy')\n"}
    students["missing_notebook"] = {"notes.txt": "I forgot the notebook", f"{OTHER}.ipynb": json.dumps(
        notebooks.read(course / "release" / "hw4" / f"{OTHER}.ipynb"))}
    for student, files in students.items():
        folder = course / "submitted" / student / "hw4"
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text)
    args = ["--Execute.timeout=20", "--TrustedExecute.call_timeout=5"]
    start = time.monotonic()
    proc = pipeline.nbgrader(course, "autograde", "hw4", "--force", *args, check=False)
    seconds = time.monotonic() - start
    time.sleep(5)  # let any process a submission left behind try its late write
    first = gradebook.scores(settings.load(course))
    again = pipeline.nbgrader(course, "autograde", "hw4", "--force", "--student=patches_checks", *args, check=False)
    return {"course": course, "proc": proc, "scores": first, "again": again,
            "rescored": gradebook.scores(settings.load(course)), "seconds": seconds}


def _cells(graded, student):
    return graded["scores"][student][NB]


def _lost(graded, student):
    return sorted(g for g, (s, m, auto) in _cells(graded, student).items() if auto and (s or 0) < m)


def _outputs(graded, student, grade_id):
    nb = notebooks.read(graded["course"] / "autograded" / student / "hw4" / f"{NB}.ipynb")
    cell = _cell(nb, grade_id)
    return "\n".join(o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", "")
                     for o in cell.get("outputs", []))


def test_the_run_finishes_and_grades_every_submission(graded):
    assert "error processing assignment" not in graded["proc"].stderr, graded["proc"].stderr[-3000:]
    assert len(graded["scores"]) == 21, sorted(graded["scores"])
    assert _lost(graded, "reference") == []


def test_an_endless_function_loses_only_its_tests_with_a_timeout_reason(graded):
    assert _lost(graded, "loop_in_function") == sorted(KR_TESTS)
    assert "took too long" in _outputs(graded, "loop_in_function", KR_TESTS[0])


def test_an_endless_cell_is_stopped_and_the_notebook_still_graded(graded):
    assert _lost(graded, "loop_in_cell") == []
    assert "Timeout" in _outputs(graded, "loop_in_cell", "ols_is_linear_smoother_answer")


def test_a_kernel_that_exits_keeps_the_points_earned_before(graded):
    lost = _lost(graded, "exit_in_cell")
    assert "ols_smoother_matrix_hat_trace" not in lost and "kernel_regression_huge_bandwidth" in lost
    assert "died" in _outputs(graded, "exit_in_cell", "kernel_regression_huge_bandwidth")


def test_a_segfault_costs_the_tests_from_there_on_with_a_reason(graded):
    lost = _lost(graded, "segfault_in_function")
    assert "kernel_smoother_matrix_matches_brute_force" in lost and "ols_smoother_matrix_shape" not in lost
    assert "died" in _outputs(graded, "segfault_in_function", "kernel_smoother_matrix_matches_brute_force")


def test_memory_exhaustion_fails_the_cell_not_the_machine(graded):
    assert _lost(graded, "memory_hog") == []
    assert "MemoryError" in _outputs(graded, "memory_hog", "ols_smoother_matrix_answer")


def test_enormous_output_is_cut_and_the_notebook_grades(graded):
    out = _outputs(graded, "output_flood", "ols_smoother_matrix_answer")
    assert _lost(graded, "output_flood") == [] and "output cut" in out and len(out) < 400_000


def test_prints_stderr_and_warnings_cost_nothing(graded):
    assert _lost(graded, "noisy_but_correct") == []


@pytest.mark.parametrize("student", ["patches_checks", "ipython_hooks", "shadow_modules"])
def test_tampering_gains_nothing(graded, student):
    lost = _lost(graded, student)
    target = "ols_smoother_matrix" if student == "shadow_modules" else "kernel_regression"
    assert lost and all(g.startswith(target) for g in lost), lost
    if student != "shadow_modules":
        assert set(KR_TESTS) <= set(lost)


def test_a_function_that_jams_the_grading_connection_loses_only_its_own_tests(graded):
    assert _lost(graded, "jams_the_bridge") == sorted(KR_TESTS)
    assert "stopped answering the grader" in _outputs(graded, "jams_the_bridge", KR_TESTS[0])


@pytest.mark.parametrize("student,message", [("patches_checks", "kernel_regression"),
                                             ("loop_in_function", "took too long")])
def test_a_failed_test_shows_the_lines_of_its_cell_and_the_message_not_the_graders_code(graded, student, message):
    """The instructor's view of a failed test (tracebacks.py): the test cell's own lines, the
    statement that failed marked, the message; no frame of the check helpers or of the bridge."""
    nb = notebooks.read(graded["course"] / "autograded" / student / "hw4" / f"{NB}.ipynb")
    error = next(o for o in _cell(nb, KR_TESTS[0]).outputs if o.output_type == "error")
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error.traceback))
    assert "This cell, line " in text and "\n---> " in text, text
    assert message in error.evalue and text.rstrip().endswith(f"{error.ename}: {error.evalue}".rstrip()), text
    for internal in ("hw4_checks.py", "hw4_trusted_", "bridge.py", "course/protection"):
        assert internal not in text, text


def test_the_student_kernel_sees_no_course_files_and_leaves_nothing_behind(graded):
    out = _outputs(graded, "reads_and_writes_disk", "kernel_regression_answer")
    for probe in ("SEES_COURSE", "SEES_SOURCE", "SEES_GRADEBOOK", "SEES_REPO"):
        assert f"{probe} False" in out, out
    assert not (graded["course"] / "written_now.txt").exists()
    assert not (graded["course"] / "written_later.txt").exists()
    assert set(KR_TESTS) <= set(_lost(graded, "reads_and_writes_disk"))


def test_grading_cannot_be_detected_from_the_environment(graded):
    assert "NBGRADER_VARS []" in _outputs(graded, "environment_probe", "kernel_regression_answer")


@pytest.mark.parametrize("student,lost", [
    ("invalid_json", "all"), ("renamed", []), ("duplicated_test_cell", []), ("reordered_cells", []),
    ("deleted_and_edited_tests", list(KR_TESTS)), ("changed_metadata", list(KR_TESTS))])
def test_broken_notebooks_are_repaired_and_graded_on_their_answers(graded, student, lost):
    cells = _cells(graded, student)
    auto = [g for g, (s, m, is_auto) in cells.items() if is_auto]
    assert _lost(graded, student) == sorted(auto if lost == "all" else lost)
    assert cells["kernel_regression_huge_bandwidth"][1] == _cells(graded, "reference")["kernel_regression_huge_bandwidth"][1]


def test_every_repair_is_listed_for_the_instructor(graded):
    entries = [json.loads(l) for l in (graded["course"] / "repairs.jsonl").read_text().splitlines()]
    repaired = {e["student"] for e in entries}
    assert {"invalid_json", "renamed", "duplicated_test_cell", "reordered_cells", "deleted_and_edited_tests",
            "changed_metadata"} <= repaired
    assert "reference" not in repaired


def test_a_missing_notebook_scores_zero(graded):
    assert all((s or 0) == 0 for s, m, auto in _cells(graded, "missing_notebook").values() if auto)
    assert _lost(graded, "reference") == []


def test_grading_twice_gives_the_same_grades(graded):
    assert graded["again"].returncode == 0
    assert graded["rescored"]["patches_checks"] == graded["scores"]["patches_checks"]
