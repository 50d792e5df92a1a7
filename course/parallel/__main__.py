"""``python -m course.parallel``: grade every pending submission of a course folder in parallel."""
import sys

from .grade_class import main

sys.exit(main())
