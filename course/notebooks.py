"""Reading, cleaning and inspecting the course's notebooks.

Source notebooks are committed clean: no outputs, no execution counts, and no
metadata beyond nbgrader's own and the kernel, so that a diff is readable.
This module also extracts the two kinds of text that must never reach the
students: solution regions and hidden-test regions.
"""
import ast
import re
from pathlib import Path

import nbformat

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")
KEPT_CELL_METADATA = ("nbgrader",)


def read(path):
    """Read a notebook (nbformat 4)."""
    return nbformat.read(str(path), as_version=4)


def write(nb, path):
    """Write a notebook the way nbformat and Jupyter do."""
    nbformat.write(nb, str(path))


def nbgrader_meta(cell):
    """The cell's nbgrader metadata, or an empty dict."""
    return cell.get("metadata", {}).get("nbgrader", {})


def clean(nb):
    """Strip outputs, execution counts and stray metadata, in place; return nb."""
    nb.metadata = {k: nb.metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in nb.metadata}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": nb.metadata["language_info"].get("name", "python")}
    for cell in nb.cells:
        cell.metadata = {k: cell.metadata[k] for k in KEPT_CELL_METADATA if k in cell.metadata}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def dirt(nb):
    """What keeps a notebook from being clean, as a list of sentences (empty when clean)."""
    problems = []
    extra = set(nb.metadata) - set(KEPT_NOTEBOOK_METADATA)
    if extra:
        problems.append(f"notebook metadata has {sorted(extra)}")
    if set(nb.metadata.get("language_info", {})) - {"name"}:
        problems.append("language_info holds more than the language name")
    for i, cell in enumerate(nb.cells):
        extra = set(cell.metadata) - set(KEPT_CELL_METADATA)
        if extra:
            problems.append(f"cell {i} metadata has {sorted(extra)}")
        if cell.cell_type == "code":
            if cell.outputs:
                problems.append(f"cell {i} has outputs")
            if cell.execution_count is not None:
                problems.append(f"cell {i} has an execution count")
    return problems


def scan_regions(text, begin, end):
    """Each line of ``text`` as (kind, line), kind being 'begin', 'end', 'inside' or 'outside'
    of the regions between the ``begin`` and ``end`` marker lines (an unterminated region runs to
    the end).  The one walker behind solution regions, hidden tests, repair and feedback."""
    inside = False
    for line in text.splitlines():
        if begin in line:
            inside = True
            yield "begin", line
        elif end in line and inside:
            inside = False
            yield "end", line
        else:
            yield ("inside" if inside else "outside"), line


def _regions(text, begin, end):
    return [line for kind, line in scan_regions(text, begin, end) if kind == "inside"]


def without_hidden_tests(text):
    """A test cell's lines outside its hidden-test regions (markers dropped), as a student sees it."""
    return [line for kind, line in scan_regions(text, BEGIN_HIDDEN, END_HIDDEN) if kind == "outside"]


def notebook_names(folder):
    """The stems of the notebooks in ``folder``, in problem order."""
    return sorted(p.stem for p in Path(folder).glob("*.ipynb"))


def solution_lines(nb):
    """Every line of every solution region, including whole written-answer cells."""
    lines = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        if BEGIN_SOLUTION in cell.source:
            lines += _regions(cell.source, BEGIN_SOLUTION, END_SOLUTION)
        else:  # nbgrader replaces a solution cell without markers whole
            lines += cell.source.splitlines()
    return lines


def hidden_test_lines(nb):
    """Every line of every hidden-test region."""
    lines = []
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade") and cell.cell_type == "code":
            lines += _regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
    return lines


_TRIVIAL = re.compile(r"^(else:|try:|finally:|pass|break|continue|return|\W*)$")


def is_telling(line):
    """Whether a line says anything: not blank, not bare punctuation or a bare keyword."""
    return not _TRIVIAL.match(line.strip())


def graded_cells(nb):
    """(grade_id, points, kind) for every graded cell; kind is 'auto' or 'manual'."""
    cells = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            kind = "auto" if cell.cell_type == "code" and not meta.get("solution") else "manual"
            cells.append((meta.get("grade_id"), meta.get("points"), kind))
    return cells


# --- answer cells ----------------------------------------------------------------------------

def definitions(code):
    """name -> source text of every top-level def/class/assignment; and the import lines."""
    tree = ast.parse(code)
    lines = code.splitlines()
    defs, imports = {}, []
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        text = "\n".join(lines[start - 1:node.end_lineno])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defs[node.name] = text
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = text
    return defs, imports


def without_solution_markers(source):
    keep = [line for line in source.splitlines()
            if BEGIN_SOLUTION not in line and END_SOLUTION not in line]
    return "\n".join(keep)


def answer_cells(source_nb):
    """grade_id -> (cell_type, reference text without markers, names it defines)."""
    cells = {}
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        text = without_solution_markers(cell.source)
        names = list(definitions(text)[0]) if cell.cell_type == "code" else []
        cells[meta["grade_id"]] = (cell.cell_type, text, names)
    return cells
