"""``python -m course.reports``: write the grading report of a course folder."""
import sys

from .grading_report import main

sys.exit(main())
