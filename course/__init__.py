"""The Homework IV course's tooling around nbgrader: one package per concern.

    course.settings      one source of settings: nbgrader's configuration of a course folder
    course.notebooks     reading, cleaning and inspecting notebooks (solution and hidden-test regions)
    course.pipeline      nbgrader's own commands run in a course folder; scratch course folders
    course.gradebook     reading the gradebook (scores, the assignment's notebooks)
    course.protection    grading a hostile submission: sandboxed student kernel, trusted test
                         kernel, the plain-data bridge between them, notebook repair
    course.feedback      what a student gets back: plain-words feedback, pages for ungraded notebooks
    course.reports       what an instructor reads: the grading report and its item statistics
    course.similarity    which submissions' answer code is suspiciously alike
    course.late          a per-day late penalty and per-student extensions, as nbgrader plugins
    course.export        grades in an LMS's own import format (Canvas)
    course.parallel      grading a class at scale: worker processes or a Dask cluster
    course.exchange      handing out and collecting: nbgrader's exchange settings and checks
    course.authoring     writing the course: submissions from code, examples, the corpus, checks

Lower layers never import higher ones: settings, notebooks < pipeline, gradebook < protection,
late, feedback < reports, similarity, export, parallel, exchange, authoring.  Nothing here replaces an nbgrader command; the
plugins are loaded by nbgrader_config.py.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent    # the course repository (source/, examples/, corpus/)
EXAMPLES = ROOT / "examples"
