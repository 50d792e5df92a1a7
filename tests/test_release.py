"""release/ is what nbgrader makes from source/ today, and gives nothing away."""
import json
import shutil

import pytest

from course import notebooks
from course.pipeline import nbgrader

from support.course import RELEASE, SOURCE


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.slow
def test_release_is_generated_from_current_source(graded_course):
    scratch, _, _ = graded_course
    fresh = scratch / "release" / "hw4"
    assert _files(fresh) == _files(RELEASE), "release/hw4 has other files than generate_assignment makes"
    for name in _files(fresh):
        if name.endswith(".ipynb"):
            same = json.loads((fresh / name).read_text()) == json.loads((RELEASE / name).read_text())
        else:
            same = (fresh / name).read_bytes() == (RELEASE / name).read_bytes()
        assert same, f"release/hw4/{name} is stale: run `nbgrader generate_assignment hw4 --force`"


def _release_lines():
    lines = set()
    for path in RELEASE.rglob("*"):
        if path.is_file() and path.suffix in (".ipynb", ".py"):
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in notebooks.read(path).cells)
            else:
                text = path.read_text()
            lines |= {line.strip() for line in text.splitlines()}
    return lines


@pytest.mark.parametrize("kind", ["solution", "hidden test"])
def test_no_solution_or_hidden_test_line_reaches_the_release(kind):
    released = _release_lines()
    extract = notebooks.solution_lines if kind == "solution" else notebooks.hidden_test_lines
    leaks = []
    for path in sorted(SOURCE.glob("*.ipynb")):
        lines = extract(notebooks.read(path))
        assert lines, f"{path.name} has no {kind} region at all"
        leaks += [f"{path.name}: {line.strip()!r}" for line in lines
                  if notebooks.is_telling(line) and line.strip() in released]
    assert not leaks, f"{kind} lines found in release/:\n" + "\n".join(leaks)


@pytest.mark.slow
def test_release_fails_its_own_tests_when_unanswered(tmp_path):
    """`nbgrader validate --invert`: every test cell of the blank release fails."""
    shutil.copytree(RELEASE, tmp_path / "hw4")
    for path in sorted(RELEASE.glob("*.ipynb")):
        out = nbgrader(tmp_path / "hw4", "validate", "--invert", path.name, check=False)
        assert "Success!" in out.stdout, f"validate --invert {path.name}:\n{out.stdout[-3000:]}"
