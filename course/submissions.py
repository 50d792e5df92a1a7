"""Making submissions from the release notebooks and a student's code.

A submission is never a hand-edited notebook: it is the release with its
answer cells replaced, so that example submissions and the test corpus follow
the notebooks whenever they change.

A student's code for one notebook is a plain Python file.  Its top-level
functions and assignments replace the definitions of the same names in the
answer cells (the names each answer cell of the source defines); its imports
are put at the top of every answer cell it fills, and its other top-level
definitions (helper functions, constants) go into the first cell it fills.  Names the file does not
define are taken from ``base``: the release's unanswered stub (a student who
left them blank) or the reference solution (a student whose only mistake is
the code in the file).  Written answers keep the release's stub, except in the
reference submission, which carries the model answers.
"""
import ast
import copy

from . import notebooks

BLANK, REFERENCE = "release", "reference"


def _definitions(code):
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


def _without_markers(source):
    keep = [line for line in source.splitlines()
            if notebooks.BEGIN_SOLUTION not in line and notebooks.END_SOLUTION not in line]
    return "\n".join(keep)


def answer_cells(source_nb):
    """grade_id -> (cell_type, reference text without markers, names it defines)."""
    cells = {}
    for cell in source_nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if not meta.get("solution"):
            continue
        text = _without_markers(cell.source)
        names = list(_definitions(text)[0]) if cell.cell_type == "code" else []
        cells[meta["grade_id"]] = (cell.cell_type, text, names)
    return cells


def reference_code(source_nb):
    """The reference solution of one notebook as one Python file's text."""
    return "\n\n\n".join(text for kind, text, _ in answer_cells(source_nb).values()
                         if kind == "code") + "\n"


def build(release_nb, source_nb, code=None, base=BLANK):
    """A submission: the release with the answer cells filled from ``code``.

    ``code`` is a student's Python file for this notebook (None: nothing
    answered); ``base`` says what fills the names it does not define.
    """
    student_defs, student_imports = _definitions(code or "")
    answers = answer_cells(source_nb)
    answer_names = {name for _, _, names in answers.values() for name in names}
    # the student's own helpers (functions, constants) go with their first filled answer cell
    helpers = [text for name, text in student_defs.items() if name not in answer_names and name != "LOSES"]
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        meta = notebooks.nbgrader_meta(cell)
        if not meta.get("solution") or meta.get("grade_id") not in answers:
            continue
        kind, reference, names = answers[meta["grade_id"]]
        if code is None:
            if base == REFERENCE:
                cell.source = reference
            continue
        if kind != "code":
            continue
        if not any(name in student_defs for name in names) and base == BLANK:
            continue  # nothing answered in this cell: keep the stub as released
        ref_defs, ref_imports = _definitions(reference)
        # an unanswered function keeps its released stub (signature, docstring, raise)
        fallback = ref_defs if base == REFERENCE else _definitions(cell.source)[0]
        parts = [student_defs.get(name, fallback.get(name)) for name in names]
        parts = [part for part in parts if part]
        header = student_imports + (ref_imports if base == REFERENCE else [])
        if any(name in student_defs for name in names):
            parts, helpers = list(dict.fromkeys(helpers)) + parts, []
        cell.source = "\n".join(dict.fromkeys(header)) + ("\n\n" if header else "") + "\n\n\n".join(parts)
    return nb


def reference_namespace(source_path):
    """Run a source notebook's reference solution (its answer cells only) and return the namespace.

    For benchmarks and tests outside the notebooks, which need the reference
    functions without executing the whole notebook.
    """
    import sys
    from pathlib import Path

    source_path = Path(source_path)
    sys.path.insert(0, str(source_path.parent))  # the answer cells may import hw4_checks
    try:
        namespace = {"__name__": f"reference_{source_path.stem}"}
        exec(compile(reference_code(notebooks.read(source_path)), str(source_path), "exec"), namespace)
    finally:
        sys.path.remove(str(source_path.parent))
    return namespace
