"""Tooling for the Homework IV nbgrader course: notebook hygiene, example submissions, grading runs.

Thin wrappers around nbgrader's own commands; nothing here replaces them.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "hw4"
SOURCE = ROOT / "source" / ASSIGNMENT
RELEASE = ROOT / "release" / ASSIGNMENT
EXAMPLES = ROOT / "examples"


def notebook_names(folder=SOURCE):
    """The stems of the assignment's notebooks, in problem order."""
    return sorted(p.stem for p in Path(folder).glob("*.ipynb"))
