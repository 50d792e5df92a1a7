"""Submissions that are broken, renamed or tampered with are repaired before nbgrader grades them.

``RepairingExporter`` (``c.Autograde.exporter_class``) rebuilds every submitted
notebook from the instructor's source notebook: the student's answer cells are
carried over by grade_id (the first copy of each; its metadata replaced by the
source's), the cells a student added are kept where they stood, and everything
else - test cells, provided cells, the handout's text, nbgrader metadata, schema
versions, cell ids - comes from the source, once each.  A student's cell is a
source cell when it has that cell's grade_id, or, for the cells without one (the
handout's markdown, provided code), that cell's id or exact text
(``match_cells``); only the other cells are the student's additions, so the
handout is never repeated in what is graded and what the student reads back.  A notebook that is not valid JSON is graded as an
unanswered one.  So a deleted, duplicated, reordered or edited test cell, a
changed point value or a bad schema_version can neither stop the grading run
nor earn a point.

``find_renamed_notebooks`` (``c.Autograde.pre_convert_hook``) uses a notebook
that a student renamed (``problem1_kmeans (1).ipynb``) in place of the missing
one, when its answer cells show which one it is.

Every repair is logged to nbgrader's log and appended to ``repairs.jsonl`` in
the course folder, for the instructor.
"""
import json
import os
import shutil
import time
from pathlib import Path

import nbformat
from nbconvert.exporters import NotebookExporter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearSolutions

from ..notebooks import nbgrader_meta, without_hidden_tests

# nbgrader's defaults; the exporter passes the course's own (c.ClearSolutions.code_stub / text_stub).
CODE_STUB = ClearSolutions().code_stub["python"]
TEXT_STUB = ClearSolutions().text_stub


def record(root, student, notebook, problem, log=None):
    """Append one repair or grading problem to repairs.jsonl (and the log)."""
    entry = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "student": student,
             "notebook": notebook, "problem": problem}
    if log:
        log.warning("Repaired %s/%s: %s", student, notebook, problem)
    with open(os.path.join(root, "repairs.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")


def _source_text(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def _grade_id(cell):
    meta = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbg.get("grade_id") if isinstance(nbg, dict) else None


def _visible(text):
    """A test cell's text without its hidden-test region, as the student saw it."""
    return "\n".join(line.rstrip() for line in without_hidden_tests(text)).strip()


def _handout_label(index, cell):
    """How a repair names a cell without grade_id: its place and first words, as the student saw it."""
    words = " ".join(_source_text(cell).split())
    return f"handout cell {index + 1} ({words[:40] + ('...' if len(words) > 40 else '')!r})"


def match_cells(source_nb, student_cells):
    """(matches, repairs): which source cell each of the student's cells is, in the student's order.

    ``matches`` lists ``(source index or None, student cell)`` for every usable student cell; None
    means the student added the cell.  The rule, in this order:

    1. a cell with a source cell's grade_id is that cell (its first copy; later copies are dropped);
    2. a cell with the id (nbformat 4.5 ``id``) of a source cell without grade_id - a handout or
       provided cell, whose ids the release keeps - is that cell (its first copy);
    3. a cell whose type and text are those of a source cell without grade_id is that cell (a copy
       of the handout, or a notebook saved without ids);
    4. any other code or markdown cell was added by the student.

    A cell matched by 2 or 3 is shown and run as the source has it: the handout is the source's.
    """
    repairs, matches = [], []
    by_grade_id, by_id, by_text = {}, {}, {}
    for i, cell in enumerate(source_nb.cells):
        gid = _grade_id(cell)
        if gid:
            by_grade_id[gid] = i
        else:
            if cell.get("id"):
                by_id.setdefault(cell["id"], i)
            by_text.setdefault((cell.cell_type, _source_text(cell).strip()), []).append(i)
    taken = set()
    for cell in student_cells or []:
        if not isinstance(cell, dict):
            continue
        gid = _grade_id(cell)
        if gid in by_grade_id:
            i = by_grade_id[gid]
            if i in taken:
                repairs.append(f"a second copy of cell {gid} was ignored")
                continue
        else:
            if gid:
                repairs.append(f"a cell with unknown grade_id {gid!r} was kept as an ordinary cell")
            text = _source_text(cell).strip()
            same_text = by_text.get((cell.get("cell_type"), text), [])
            i = by_id.get(cell.get("id"))
            if i is not None and i not in taken:
                if text != _source_text(source_nb.cells[i]).strip():
                    repairs.append(f"{_handout_label(i, source_nb.cells[i])} was edited; the original was restored")
            elif same_text:
                i = next((j for j in same_text if j not in taken), None)
                if i is None:
                    continue  # one more copy of a handout cell: the source's copy is there already
            else:
                i = None
                if cell.get("cell_type") not in ("code", "markdown"):
                    continue
        if i is not None:
            taken.add(i)
        matches.append((i, cell))
    return matches, repairs


def rebuild(source_nb, student_cells, code_stub=CODE_STUB, text_stub=TEXT_STUB):
    """(notebook to grade, list of repairs) from the source notebook and the student's raw cells.

    ``student_cells`` is None when the submission could not be read at all.  The notebook holds
    every source cell once, in the source's order, and after each one the cells the student
    added after it (``match_cells`` says which cells those are).
    """
    matches, repairs = match_cells(source_nb, student_cells)
    theirs_at = {i: cell for i, cell in matches if i is not None}
    added, anchor = {None: []}, None
    for i, cell in matches:
        if i is None:
            added.setdefault(anchor, []).append(cell)
        else:
            anchor = i
    if student_cells is not None:
        src_ids = [g for g in (_grade_id(c) for c in source_nb.cells) if g]
        present = {_grade_id(source_nb.cells[i]) for i in theirs_at}
        missing = [g for g in src_ids if g not in present]
        if missing:
            repairs.append(f"cells deleted from the notebook were restored: {', '.join(missing)}")
        seen_order = [_grade_id(source_nb.cells[i]) for i, _ in matches
                      if i is not None and _grade_id(source_nb.cells[i])]
        if [g for g in src_ids if g in present] != seen_order:
            repairs.append("cells were reordered; the original order was restored")

    out = []

    def add_added(key):
        for cell in added.get(key, []):
            kind = cell.get("cell_type")
            new = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(_source_text(cell))
            new["id"] = f"student-cell-{len(out)}"  # deterministic: grading twice gives the same notebook
            out.append(new)

    add_added(None)
    for index, src in enumerate(source_nb.cells):
        cell = nbformat.from_dict(json.loads(json.dumps(src)))
        gid = _grade_id(src)
        meta = nbgrader_meta(src)
        theirs = theirs_at.get(index) if gid else None
        if meta.get("solution"):
            if theirs is not None and theirs.get("cell_type") == src.cell_type:
                cell.source = _source_text(theirs)
            else:
                cell.source = code_stub if src.cell_type == "code" else text_stub
                if theirs is not None:
                    repairs.append(f"answer cell {gid} had its type changed; it was graded as unanswered")
        elif theirs is not None and meta.get("grade") and src.cell_type == "code":
            if _visible(_source_text(theirs)) != _visible(src.source):
                repairs.append(f"test cell {gid} was edited; the original was restored")
        if theirs is not None and isinstance(theirs.get("metadata"), dict):
            their_meta = theirs["metadata"].get("nbgrader", {})
            changed = sorted(k for k in set(meta) | set(their_meta if isinstance(their_meta, dict) else {})
                             if k not in ("checksum", "cell_type") and
                             (their_meta.get(k) if isinstance(their_meta, dict) else None) != meta.get(k))
            if changed:
                repairs.append(f"nbgrader metadata of cell {gid} was changed ({', '.join(changed)}); restored")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        out.append(cell)
        add_added(index)
    nb = nbformat.v4.new_notebook(metadata=json.loads(json.dumps(source_nb.metadata)))
    nb.cells = out
    return nb, repairs


class RepairingExporter(NotebookExporter):
    """nbgrader's notebook exporter, reading every submission through ``rebuild``."""

    def _source_notebook(self, filename, resources):
        coursedir = CourseDirectory(config=self.config)
        assignment = resources.get("nbgrader", {}).get("assignment") or Path(filename).parent.name
        name = Path(filename).stem
        path = Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{name}.ipynb"
        return coursedir, (nbformat.read(str(path), as_version=4) if path.exists() else None)

    def rebuilt(self, filename, resources):
        """(``filename`` rebuilt as it will be graded, the problems and repairs found; nothing recorded),
        or None when it is not one of the assignment's notebooks.  read_ahead.py uses it to know a
        notebook nbgrader has not yet reached."""
        coursedir, source_nb = self._source_notebook(filename, resources)
        if source_nb is None:
            return None
        text = Path(filename).read_text(errors="replace")
        cells, problems = None, []
        try:
            raw = json.loads(text)
            cells = raw.get("cells") if isinstance(raw, dict) else None
            if not isinstance(cells, list):
                cells, problems = None, ["the notebook has no list of cells"]
        except ValueError as exc:
            problems.append(f"the notebook is not valid JSON ({exc}); it was graded as unanswered")
        stubs = ClearSolutions(config=self.config)
        nb, repairs = rebuild(source_nb, cells, stubs.code_stub.get("python", CODE_STUB), stubs.text_stub)
        return nb, problems + repairs

    def from_filename(self, filename, resources=None, **kw):
        resources = resources or {}
        rebuilt = self.rebuilt(filename, resources)
        if rebuilt is None:  # not one of the assignment's notebooks: nbgrader's own rules apply
            return super().from_filename(filename, resources, **kw)
        nb, problems = rebuilt
        coursedir = CourseDirectory(config=self.config)
        student = resources.get("nbgrader", {}).get("student") or Path(filename).parent.parent.name
        is_submission = Path(filename).resolve().is_relative_to(Path(coursedir.submitted_directory).resolve()) \
            if os.path.isabs(coursedir.submitted_directory) else "submitted" in Path(filename).parts
        if is_submission:
            for problem in problems:
                record(coursedir.root, student, Path(filename).stem, problem, self.log)
        resources.setdefault("metadata", {})
        resources["metadata"].setdefault("name", Path(filename).stem)
        resources["metadata"].setdefault("path", str(Path(filename).parent))
        return self.from_notebook_node(nb, resources, **kw)


def find_renamed_notebooks(assignment=None, student=None, notebooks=None):
    """pre_convert_hook: use a renamed copy of a missing notebook, recognised by its answers."""
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent            # <course>/submitted/<student>/<assignment>
    course_root = folder.parents[2]
    source = course_root / "source" / folder.name
    if not source.is_dir():
        return
    expected = {p.stem: p for p in source.glob("*.ipynb")}
    present = {Path(n).stem for n in notebooks}
    strangers = [Path(n) for n in notebooks if Path(n).stem not in expected]
    for name, src_path in expected.items():
        if name in present:
            continue
        answer_ids = {_grade_id(c) for c in nbformat.read(str(src_path), as_version=4).cells
                      if nbgrader_meta(c).get("solution")}
        for stranger in strangers:
            try:
                ids = {_grade_id(c) for c in json.loads(stranger.read_text()).get("cells", [])}
            except (ValueError, AttributeError, OSError):
                continue
            if answer_ids and answer_ids & ids:
                shutil.copy(stranger, folder / f"{name}.ipynb")
                notebooks.append(str(folder / f"{name}.ipynb"))
                strangers.remove(stranger)
                record(str(course_root), folder.parent.name, name,
                       f"the notebook was submitted as {stranger.name!r}; it was graded as {name}.ipynb")
                break
