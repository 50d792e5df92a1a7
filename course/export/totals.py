"""Each student's total for one assignment, read from the gradebook the way ``nbgrader export`` counts it.

The total is nbgrader's submission score: autograded points, plus written answers graded by hand,
minus any late penalty.  A student the gradebook knows who has no submission scores 0, as in
nbgrader's own CSV, so the two files always agree.

May import: course.gradebook.
"""
from nbgrader.api import MissingEntry

from .. import gradebook


def assignment_totals(settings):
    """(max score, {student id: score}) of ``settings.assignment``, for every student in the gradebook."""
    if not gradebook.exists(settings):
        raise LookupError(f"no gradebook at {settings.db_url}: grade the assignment first")
    with gradebook.opened(settings) as gb:
        try:
            assignment = gb.find_assignment(settings.assignment)
        except MissingEntry:
            raise LookupError(f"the gradebook has no assignment {settings.assignment!r}") from None
        scores = {}
        for student in gb.students:
            try:
                submission = gb.find_submission(settings.assignment, student.id)
                # as nbgrader export: the submission's points less its late penalty, never below zero
                scores[student.id] = max(0.0, float(submission.score) - float(submission.late_submission_penalty or 0))
            except MissingEntry:
                scores[student.id] = 0.0
        return float(assignment.max_score), scores
