"""Reading the gradebook: the one place the course's tools open it.

Every reader takes a course's ``Settings`` (course.settings), so the gradebook is wherever
nbgrader's ``CourseDirectory.db_url`` says - the SQLite file of a laptop course or a PostgreSQL
server for a class on a cluster - and never a path of its own.  Writers are nbgrader's commands
(and course.parallel's merge); nothing here writes.

May import: course.settings, course.notebooks, nbgrader.
"""
import dataclasses
from contextlib import contextmanager
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .notebooks import notebook_names


@contextmanager
def opened(settings):
    """nbgrader's Gradebook of the course, opened from its configured URL."""
    with Gradebook(settings.db_url, course_id=settings.course_id) as gb:
        yield gb


def exists(settings):
    """Whether the gradebook is there to read (for SQLite: the file exists)."""
    if settings.db_url.startswith("sqlite:///"):
        return Path(settings.db_url[len("sqlite:///"):]).exists()
    return True


def assignment_notebooks(settings):
    """The notebook names of the assignment, from the gradebook (else from the release folder)."""
    if exists(settings):
        try:
            with opened(settings) as gb:
                return sorted(nb.name for nb in gb.find_assignment(settings.assignment).notebooks)
        except MissingEntry:
            pass
    return notebook_names(settings.release)


def notebook_max_scores(settings):
    """notebook -> its maximum score, from the gradebook ({} before the assignment is there)."""
    if not exists(settings):
        return {}
    try:
        with opened(settings) as gb:
            return {nb.name: nb.max_score for nb in gb.find_assignment(settings.assignment).notebooks}
    except MissingEntry:
        return {}


def scores(settings):
    """student -> notebook -> grade_id -> (score, max_score, autograded?).

    A manually graded cell that nobody has graded yet has score None.
    """
    result = {}
    with opened(settings) as gb:
        for submission in gb.assignment_submissions(settings.assignment):
            per_nb = result.setdefault(submission.student.id, {})
            for nb in submission.notebooks:
                per_nb[nb.name] = {
                    g.name: (g.auto_score if g.cell.cell_type == "code" else g.manual_score,
                             g.max_score, g.cell.cell_type == "code")
                    for g in nb.grades}
    return result


def auto_total(cells):
    """(points earned, points possible) over the autograded cells of one notebook (a value of scores())."""
    auto = [(s or 0, m) for s, m, is_auto in cells.values() if is_auto]
    return sum(s for s, _ in auto), sum(m for _, m in auto)


def for_assignment(settings, name):
    """``settings`` for assignment ``name``: the course's own (``Course.assignment``) or one the
    gradebook holds; SystemExit naming the known assignments otherwise (for the command lines)."""
    if not name or name == settings.assignment:
        return settings
    known = []
    if exists(settings):
        with opened(settings) as gb:
            known = [a.name for a in gb.assignments]
    if name not in known:
        raise SystemExit(f"error: no assignment {name!r} in this course: the course's assignment is "
                         f"{settings.assignment!r}" + (f", the gradebook holds {', '.join(sorted(known))}" if known else ""))
    return dataclasses.replace(settings, assignment=name)
