"""Which provided cells the trusted kernel runs again (course.protection.provided).

A provided cell is skipped on the trusted side only when no test needs what it binds and it changes
no state it does not own; everything else, and anything the analysis cannot read, is run.
"""
import pytest

from course.protection.provided import needed_on_trusted_side

IMPORTS = "import numpy as np\nimport matplotlib.pyplot as plt\nfrom hw4_checks import check_close"
TEST = '"""kmeans on the example."""\ncheck_close(kmeans(X_example, 2), expected)'


def _run(cells, tests=(TEST,)):
    provided = {"imports": IMPORTS, **cells}
    return needed_on_trusted_side(provided, list(tests)) - {"imports"}


def test_a_plot_cell_that_only_calls_student_functions_is_not_run_again():
    plot = ("fig, ax = plt.subplots()\ncurve = np.array([kmeans(X_example, k)[0].sum() for k in range(1, 4)])\n"
            "ax.plot(curve, label='k-means')\nax.set_title('cost')\nax.legend()\nplt.show()")
    data = "X_example = np.zeros((4, 2))\nexpected = np.ones(2)"
    assert _run({"data": data, "plot": plot}) == {"data"}


def test_a_cell_is_run_when_a_cell_that_is_run_needs_it():
    cells = {"base": "scale = 2.0", "derived": "expected = scale * np.ones(2)", "unused": "other = scale + 1"}
    assert _run(cells) == {"base", "derived"}


def test_a_helper_defined_early_pulls_in_the_global_it_reads_later():
    cells = {"helper": "def expected_for(k):\n    return offset * k", "later": "offset = 3"}
    assert _run(cells, tests=["check_close(kmeans(X, 2), expected_for(2))"]) == {"helper", "later"}


@pytest.mark.parametrize("code", [
    "np.random.seed(0)",
    "plt.rcParams['figure.dpi'] = 50",
    "plt.style.use('ggplot')",
    "data.sort()",
    "rng.random(3)",
    "global counter\ncounter = 1",
    "del X_example",
    "exec('expected = 1')",
    "X_example[0, 0] = 5.0",
    "config.limit = 3",
    "np.set_printoptions(precision=3)",
    "import warnings\nwarnings.simplefilter('ignore')",
    "def broken(:",
])
def test_a_cell_that_may_change_state_it_does_not_own_is_run(code):
    assert _run({"cell": code}) == {"cell"}, code


@pytest.mark.parametrize("code", [
    "print(X_example.max(), np.round(X_example, 2).tolist())",
    "rng = np.random.default_rng(0)\nvalues = rng.normal(size=3)",
    "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()",
    "for k in range(3):\n    print(kmeans(X_example, k))",
    "import warnings\nwith warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n    fit = kmeans(X_example, 2)",
])
def test_a_cell_that_only_reads_and_draws_is_not_run_again(code):
    assert _run({"cell": code}) == set(), code


def test_a_name_a_test_binds_before_reading_is_not_needed_but_one_it_reads_first_is():
    cells = {"plot": "width = 0.5\nprint(width)"}
    assert _run(cells, tests=["width = 0.1\ncheck_close(width, 0.1)"]) == set()
    assert _run(cells, tests=["check_close(width, 0.5)\nwidth = 0.1"]) == {"plot"}
    assert _run(cells, tests=["for width in (0.1, 0.2):\n    check_close(width, width)"]) == set()
    assert _run(cells, tests=["check_close([width for width in (1, 2)], [1, 2])"]) == set()
