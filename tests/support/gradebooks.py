"""Whole-gradebook dumps, for comparing two grading runs (sequential against parallel)."""
def gradebook_contents(db_url, course_id, assignment):
    """Everything autograde can write for an assignment, keyed by names (not row ids), via nbgrader's API.

    For comparing two gradebooks: student -> (timestamp, extension, {notebook: (late penalty,
    flagged, {cell: (auto_score, manual_score, extra_credit, needs_manual_grade)},
    {cell: (auto_comment, manual_comment)})}).
    """
    from nbgrader.api import Gradebook
    contents = {}
    with Gradebook(db_url, course_id) as gb:
        for sub in gb.assignment_submissions(assignment):
            notebooks = {}
            for nb in sub.notebooks:
                grades = {g.name: (g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade)
                          for g in nb.grades}
                comments = {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments}
                notebooks[nb.name] = (nb.late_submission_penalty, nb.flagged, grades, comments)
            contents[sub.student.id] = (sub.timestamp, sub.extension, notebooks)
    return contents


