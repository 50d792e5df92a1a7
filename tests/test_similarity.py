"""Similarity of answer code (course.similarity): a disguised copy ranks first, and the page shows it safely.

The slow tests build a scratch course of problem 1 (one ``nbgrader generate_assignment``, shared by
the module) whose submissions are the corpus's independently written correct answers, the
reference solution, and a disguised copy of one of them: variables and arguments renamed by an
AST transform, the code re-laid out by ``ast.unparse``, the comments replaced.  The command must
rank that pair first; the page, opened in headless Chromium, must show it with its passages side
by side and run nothing a student wrote.  The fast tests check the parts on the committed release.
"""
import ast
import builtins
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course import notebooks, pipeline
from course.authoring import submissions
from course.similarity import answers, compare, page
from course.similarity.__main__ import main

from support.course import RELEASE, ROOT, SOURCE
from support.chromium import launched

NOTEBOOK = "problem1_kmeans"
COPIED = "correct_loops"
CORPUS = ROOT / "corpus" / NOTEBOOK
HOSTILE = 'x = "</pre></td><script>alert(1)</script><img src=x onerror=alert(2)>"  # <b>bold</b>'


def disguise(code):
    """A copy of ``code`` made to look different: locals and arguments renamed, re-laid out, new comments."""
    tree = ast.parse(code)
    keep = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    keep |= {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    keep |= {(alias.asname or alias.name).split(".")[0]
             for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    keep |= set(dir(builtins))
    renamed = {}

    class Rename(ast.NodeTransformer):
        def new(self, name):
            return name if name in keep else renamed.setdefault(name, f"tmp{len(renamed)}_{name[::-1]}")

        def visit_Name(self, node):
            node.id = self.new(node.id)
            return node

        def visit_arg(self, node):
            node.arg = self.new(node.arg)
            return node

    text = ast.unparse(Rename().visit(tree))
    lines = ["# written by me, late at night"]
    for line in text.splitlines():
        if line.strip():
            lines.append(line)
        if line.lstrip().startswith("def "):
            lines.append(" " * (len(line) - len(line.lstrip()) + 4) + "# step by step")
    return "\n".join(lines) + "\n"


def corpus_codes():
    """student id -> code: the corpus's correct answers of the notebook, and the reference."""
    codes = {f"student_{p.stem.removeprefix('correct_')}": p.read_text() for p in sorted(CORPUS.glob("correct_*.py"))}
    codes["student_reference"] = submissions.reference_code(notebooks.read(SOURCE / f"{NOTEBOOK}.ipynb"))
    return codes


# ------------------------------------------------------------------------------- fast: the parts

def test_disguise_really_changes_the_text():
    original = (CORPUS / f"{COPIED}.py").read_text()
    copy = disguise(original)
    same = set(line.strip() for line in original.splitlines() if notebooks.is_telling(line))
    kept = [line for line in copy.splitlines() if line.strip() in same]
    # only lines without a renamed name survive verbatim (e.g. `import numpy as np`, `return labels` renamed too)
    assert len(kept) < 0.25 * len(same), kept
    assert ast.dump(ast.parse(copy)) != ast.dump(ast.parse(original))


def test_stub_lines_are_left_out_and_added_cells_count():
    release = notebooks.read(RELEASE / f"{NOTEBOOK}.ipynb")
    submitted = notebooks.read(RELEASE / f"{NOTEBOOK}.ipynb")
    cell = next(c for c in submitted.cells if notebooks.nbgrader_meta(c).get("grade_id") == "assign_clusters_code")
    stub = cell.source
    # answered in place, as students do: the signature and docstring stay, the raise goes
    cell.source = stub.replace("# YOUR CODE HERE\n    raise NotImplementedError()",
                               "dists = ((X[:, None, :] - centers[None]) ** 2).sum(-1)\n    return dists.argmin(1)")
    submitted.cells.append(notebooks.nbformat.v4.new_code_cell("def my_helper(q):\n    return q * 2 + 1"))
    passages = answers.notebook_passages(submitted, release, NOTEBOOK)
    assert [p.cell for p in passages] == ["assign_clusters_code", "added cell 1"]
    assert passages[0].code.splitlines() == ["    dists = ((X[:, None, :] - centers[None]) ** 2).sum(-1)",
                                             "    return dists.argmin(1)"]
    assert "my_helper" in passages[1].code
    # the blank release has no answer code at all, nor does a provided cell pasted again
    assert answers.notebook_passages(release, release, NOTEBOOK) == []
    again = notebooks.read(RELEASE / f"{NOTEBOOK}.ipynb")
    again.cells.append(notebooks.nbformat.v4.new_code_cell(release.cells[1].source if release.cells[1].cell_type == "code"
                                                           else next(c.source for c in release.cells if c.cell_type == "code")))
    assert answers.notebook_passages(again, release, NOTEBOOK) == []


def test_copy_scores_high_and_independent_answers_low():
    codes = corpus_codes()
    docs = {student: code for student, code in codes.items()}
    docs["student_copy"] = disguise(codes[f"student_{COPIED.removeprefix('correct_')}"])
    pairs = compare.compare(docs)
    assert {pairs[0].a, pairs[0].b} == {"student_copy", "student_loops"}
    assert pairs[0].score > 0.7 and pairs[0].passages
    assert pairs[1].score < 0.5 * pairs[0].score
    assert all(0 <= p.share_a <= 1 and 0 <= p.share_b <= 1 for p in pairs)


def test_blank_submission_matches_nobody():
    pairs = compare.compare({"a": "", "b": (CORPUS / "correct_loops.py").read_text()})
    assert pairs[0].score == 0 and pairs[0].passages == []


def test_bad_thresholds_are_refused():
    options = compare.Similarity(noise_threshold=30, guarantee_threshold=20)
    with pytest.raises(ValueError, match="guarantee_threshold"):
        compare.compare({"a": "x = 1", "b": "y = 2"}, options=options)


def test_page_escapes_student_code():
    code = (CORPUS / "correct_loops.py").read_text()
    pairs = compare.compare({"s<1>": HOSTILE + "\n" + code, "s2": HOSTILE + "\n" + code})
    text = page.render(pairs, "hw<x>")
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "s&lt;1&gt;" in text and "Content-Security-Policy" in text


def test_unknown_assignment_is_a_clear_error(tmp_path):
    pipeline.scratch_course(tmp_path, names=[NOTEBOOK])
    with pytest.raises(SystemExit, match="no assignment 'hw99'.*course's assignment is"):
        main(["hw99", "--root", str(tmp_path)])


def test_fewer_than_two_submissions_is_a_clear_error(tmp_path):
    settings = pipeline.scratch_course(tmp_path, names=[NOTEBOOK])
    with pytest.raises(SystemExit, match="no release folder"):
        main([settings.assignment, "--root", str(tmp_path)])
    shutil.copytree(RELEASE, settings.release)          # the committed release stands in for generate_assignment
    pipeline.submit(tmp_path, "only_one", {NOTEBOOK: notebooks.read(RELEASE / f"{NOTEBOOK}.ipynb")})
    with pytest.raises(SystemExit, match="1 submission.*nothing to compare"):
        main([settings.assignment, "--root", str(tmp_path)])


# ------------------------------------------------------------- slow: a scratch course, the command

@pytest.fixture(scope="module")
def course_with_copy(tmp_path_factory):
    """A scratch course of the notebook, released, with the corpus submissions and a disguised copy."""
    root = tmp_path_factory.mktemp("similarity")
    settings = pipeline.scratch_course(root, names=[NOTEBOOK])
    pipeline.generate(root)
    codes = corpus_codes()
    codes["student_zz_copy"] = disguise(codes[f"student_{COPIED.removeprefix('correct_')}"])
    codes["student_blank"] = None
    for student, code in codes.items():
        pipeline.submit(root, student, pipeline.build_student(root, {NOTEBOOK: code}))
    return root, settings


@pytest.mark.slow
def test_disguised_copy_ranks_first(course_with_copy):
    root, settings = course_with_copy
    proc = subprocess.run([sys.executable, "-m", "course.similarity", settings.assignment, "--root", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    first = lines[1].split()
    assert set(first[1:3]) == {"student_loops", "student_zz_copy"}, proc.stdout
    score = float(first[0].rstrip("%"))
    second = float(lines[2].split()[0].rstrip("%"))
    assert score > 70 and second < score / 2, proc.stdout
    out = root / f"{settings.assignment}_similarity.html"
    assert out.exists() and f"side by side: {out}" in proc.stdout


@pytest.fixture(scope="module")
def chromium():
    with launched("the similarity page test") as chrome:
        yield chrome


@pytest.mark.slow
def test_page_shows_the_pair_side_by_side(course_with_copy, chromium, tmp_path):
    original, settings = course_with_copy
    root = tmp_path / "course"
    shutil.copytree(original, root)
    # two students who hide markup and script in the same code: shown as text, never run
    hostile = (f"def shout():\n    {HOSTILE}\n    return x + x\n\n\n"
               "def assign_clusters(X, centers):\n"
               "    return np.array([min(range(len(centers)), key=lambda k: sum((a - b) ** 2 for a, b in zip(p, centers[k])))\n"
               "                     for p in X])\n")
    for student in ("student_hostile_1", "student_hostile_2"):
        pipeline.submit(root, student, pipeline.build_student(root, {NOTEBOOK: hostile}))
    out = tmp_path / "similarity.html"
    assert main([settings.assignment, "--root", str(root), "--out", str(out), "--top", "5"]) == 0
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    requests, dialogs = [], []
    context.on("request", lambda request: requests.append(request.url))
    pg = context.new_page()
    pg.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    pg.goto(out.as_uri())
    shots = Path(os.environ.get("HW4_BROWSER_SHOTS", tmp_path)) / "similarity"
    shots.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(shots / "ranking.png"))
    print(f"\nscreenshots: {shots}")
    rows = pg.locator("table.ranking tr")
    assert rows.count() == 6                                        # header and the top 5
    ranking = [rows.nth(i).locator("td").all_inner_texts() for i in range(1, 6)]
    pairs = [set(row[1:3]) for row in ranking]
    assert pairs[:2] == [{"student_hostile_1", "student_hostile_2"}, {"student_loops", "student_zz_copy"}], ranking
    copy_score = int(ranking[1][3].rstrip("%"))
    assert copy_score > 70 and int(ranking[2][3].rstrip("%")) < copy_score / 2, ranking
    pg.locator("a[href='#pair-2']").click()
    section = pg.locator("#pair-2 + table.passages")
    assert "student_loops" in pg.locator("#pair-2").inner_text() and f"{copy_score}%" in pg.locator("#pair-2").inner_text()
    pg.screenshot(path=str(shots / "pair_2.png"))
    header = section.locator("tr").first.locator("th").all_inner_texts()
    assert set(header) == {"student_loops", "student_zz_copy"}
    cells = section.locator("tr").nth(1).locator("td")
    assert cells.count() == 2                                        # side by side
    left, right = cells.nth(0), cells.nth(1)
    assert left.bounding_box()["x"] + left.bounding_box()["width"] <= right.bounding_box()["x"] + 1
    assert abs(left.bounding_box()["y"] - right.bounding_box()["y"]) < 2
    loops_text, copy_text = (left, right) if header[0] == "student_loops" else (right, left)
    assert "n_points = len(X)" in loops_text.inner_text()         # the original's names on one side,
    assert "n_points" not in copy_text.inner_text() and "stniop_n = len(" in copy_text.inner_text()  # the renamed on the other
    # the hostile students' markup is on the page as text; no script, no load, no dialog
    hostile_text = pg.locator("#pair-1 + table.passages").inner_text()
    assert "<script>alert(1)</script>" in hostile_text and "onerror=alert(2)" in hostile_text
    assert pg.locator("script").count() == 0 and pg.locator("img").count() == 0
    assert dialogs == []
    assert [url for url in requests if not url.startswith("file:")] == []
    context.close()
