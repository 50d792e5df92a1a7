"""What an instructor reads after grading: reports made from the gradebook and the course folders.

    grading_report  hw4_report.html: score distributions, item analysis, ungraded and repaired
                    notebooks, grading times (``python -m course.reports``)
    item_statistics per test cell: pass rate, discrimination, most frequent failure messages, flags

Reports only read (course.gradebook, course.feedback.diagnosis); they never change a grade.
May import: course.settings, course.gradebook, course.feedback.
"""
