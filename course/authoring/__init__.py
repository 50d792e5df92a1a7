"""Writing the course: submissions made from code, the example students, the corpus, author checks.

    submissions  a student's Python file put into the release's answer cells (never a hand-edited notebook)
    examples     the example students and the README's main job (``./run grade``)
    check        an author's check of one source notebook (``python -m course check``)
    corpus       simulated submissions with known verdicts, graded by nbgrader (``python -m course corpus``)

May import: every other package of course (this is the top layer).
"""
