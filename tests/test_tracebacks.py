"""course/protection/tracebacks.py: a failing cell of the trusted kernel reads as the notebook's own lines.

In a real IPython shell (in memory): what a failing cell shows and what IPython stores of it, the
frames kept (cells) and left out (modules), and the statement marked.  The end-to-end view, in
autograded notebooks, is in test_protection.py.
"""
import re
import types

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from course.protection import tracebacks

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHECKS = '''
def check_equal(got, expected, what):
    if got != expected:
        raise AssertionError(f"{what}: expected {expected}, got {got}.")
'''


@pytest.fixture
def shell():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    checks = types.ModuleType("fake_checks")   # a module of its own: its frames are not the notebook's
    exec(compile(CHECKS, "/tmp/hw4_trusted_scratch/fake_checks.py", "exec"), checks.__dict__)
    ip.user_ns["check_equal"] = checks.check_equal
    tracebacks.install(ip)
    yield ip
    InteractiveShell.clear_instance()


def _run(ip, capsys, source):
    capsys.readouterr()
    result = ip.run_cell(source, store_history=True)
    shown = ANSI.sub("", capsys.readouterr().out)
    stored = ip.history_manager.exceptions.get(result.execution_count)
    return result, shown, stored


def test_a_failed_check_shows_the_cells_line_and_the_message_not_the_helper(shell, capsys):
    result, shown, stored = _run(shell, capsys, "x = 1\ny = 2\ncheck_equal(x + y, 4, 'the sum')\nz = 3\n")
    assert isinstance(result.error_in_exec, AssertionError)
    lines = shown.rstrip("\n").splitlines()
    assert lines[1].startswith("AssertionError") and lines[1].endswith("Traceback (most recent call last)")
    assert lines[2] == "This cell, line 3"
    assert "---> 3 check_equal(x + y, 4, 'the sum')" in lines and "     1 x = 1" in lines and "     4 z = 3" in lines
    assert lines[-1] == "AssertionError: the sum: expected 4, got 3."
    # the checker's own code and its scratch folder are not shown
    assert "fake_checks" not in shown and "hw4_trusted" not in shown and "raise AssertionError" not in shown
    # IPython stores the same short text, not a second, highlighted one
    assert [ANSI.sub("", line) for line in stored["traceback"]] == lines
    assert stored["ename"] == "AssertionError" and stored["evalue"] == "the sum: expected 4, got 3."


def test_a_helper_from_an_earlier_cell_is_shown_below_the_cell(shell, capsys):
    shell.run_cell("def twice(v):\n    '''Double v.'''\n    return check_equal(v * 2, 5, 'twice')\n", store_history=True)
    _, shown, _ = _run(shell, capsys, "twice(2)\n")
    order = [line for line in shown.splitlines() if line.startswith(("This cell", "An earlier cell"))]
    assert order == ["This cell, line 1", "An earlier cell, line 3, in twice"]
    assert "---> 3     return check_equal(v * 2, 5, 'twice')" in shown
    assert shown.rstrip().endswith("AssertionError: twice: expected 5, got 4.")


def test_a_statement_over_several_lines_is_marked_whole(shell, capsys):
    _, shown, _ = _run(shell, capsys, "check_equal(1,\n            2,\n            'split')\nprint('after')\n")
    marked = [line for line in shown.splitlines() if line.startswith("---> ")]
    assert marked == ["---> 1 check_equal(1,", "---> 2             2,", "---> 3             'split')"]


def test_any_error_gets_the_short_form_and_an_empty_message_shows_the_name_alone(shell, capsys):
    _, shown, _ = _run(shell, capsys, "d = {}\nd['missing']\n")
    assert "---> 2 d['missing']" in shown and shown.rstrip().endswith("KeyError: 'missing'")
    _, shown, _ = _run(shell, capsys, "raise NotImplementedError()\n")
    assert shown.rstrip().splitlines()[-1] == "NotImplementedError"


def test_an_error_that_cannot_be_printed_falls_back_to_ipythons_text_and_the_short_form_stays(shell, capsys):
    result, shown, _ = _run(shell, capsys, "class Odd(Exception):\n    def __str__(self):\n        raise ValueError\n"
                                            "raise Odd()\n")
    assert result.error_in_exec is not None and "This cell, line" not in shown
    _, shown, _ = _run(shell, capsys, "check_equal(1, 2, 'next cell')\n")
    assert "This cell, line 1" in shown and shown.rstrip().endswith("AssertionError: next cell: expected 2, got 1.")


def test_without_install_ipython_shows_its_own_traceback(capsys):
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    try:
        ip.run_cell("1 / 0\n", store_history=True)
        shown = ANSI.sub("", capsys.readouterr().out)
        assert "ZeroDivisionError" in shown and "This cell, line" not in shown
    finally:
        InteractiveShell.clear_instance()
