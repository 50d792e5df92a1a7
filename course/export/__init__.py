"""Grades an LMS imports: the gradebook's totals written in the LMS's own gradebook-import format.

nbgrader's ``nbgrader export`` writes its own CSV (grades.csv, one row per student and assignment,
nbgrader's student ids); an LMS cannot import it (nbgrader #530).  This package writes, beside it,
the file the LMS's gradebook import takes, joining the gradebook's totals to a roster that the LMS
itself exports, so every row carries the LMS's own student identifiers.

    roster      reading the LMS's roster CSV (Canvas's gradebook export, or a smaller file with the same columns)
    totals      each student's total of an assignment from the gradebook, as nbgrader export counts it
    canvas      Canvas's gradebook import CSV (traits in CanvasExport)
    __main__    ``python -m course.export --lms canvas [ASSIGNMENT]``

Reading only: the gradebook is never written.
May import: course.settings, course.gradebook.
"""
