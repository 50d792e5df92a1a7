"""An author's check of one source notebook, in a scratch course folder of its own.

``python -m course check source/hw4/NAME.ipynb`` validates the source (``nbgrader validate``) and
the inverted release, then autogrades the reference solution, the blank release and the examples,
printing every graded cell's verdict, so an author sees the effect of a change before committing it.

May import: course.settings, course.pipeline, course.gradebook, course.notebooks, course.authoring.examples.
"""
import shutil
import tempfile
from pathlib import Path

from .. import gradebook, notebooks, pipeline
from .examples import BLANK_STUDENT, REFERENCE_STUDENT, submit_examples


def check_notebook(path, keep=False):
    """Check one source notebook in a scratch course; print each cell's verdict; 0 when all is right."""
    path = Path(path).resolve()
    scratch = Path(tempfile.mkdtemp(prefix=f"check_{path.stem}_"))
    failures = []
    try:
        settings = pipeline.scratch_course(scratch, names=[])
        shutil.copy(path, settings.source)
        dirt = notebooks.dirt(notebooks.read(path))
        if dirt:
            failures.append(f"not clean (run python -m course clean): {'; '.join(dirt)}")
        pipeline.generate(scratch)
        rel = f"release/{settings.assignment}/{path.name}"
        src = f"source/{settings.assignment}/{path.name}"
        out = pipeline.nbgrader(scratch, "validate", src, check=False)
        if "Success!" not in out.stdout:
            failures.append("nbgrader validate on the source failed:\n" + out.stdout[-4000:] + out.stderr[-2000:])
        out = pipeline.nbgrader(scratch, "validate", "--invert", rel, check=False)
        if "Success!" not in out.stdout:
            failures.append("nbgrader validate --invert on the release failed:\n" + out.stdout[-4000:])
        submit_examples(scratch)
        pipeline.autograde(scratch)
        scores = gradebook.scores(settings)
        for student in sorted(scores):
            cells = scores[student].get(path.stem, {})
            print(f"\n{student}:")
            for grade_id, (score, top, is_auto) in cells.items():
                print(f"  {grade_id:<40} {'-' if score is None else score:>5} / {top:<3g}"
                      f"{'' if is_auto else '  (manual)'}")
            got, top = gradebook.auto_total(cells)
            if student == REFERENCE_STUDENT and got != top:
                failures.append(f"the reference solution earns {got} of {top} autograded points")
            if student == BLANK_STUDENT and got != 0:
                failures.append(f"the blank release earns {got} autograded points")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    for failure in failures:
        print(f"\nPROBLEM: {failure}")
    print(f"\n{path.name}: {'OK' if not failures else f'{len(failures)} problem(s)'}")
    return 1 if failures else 0
