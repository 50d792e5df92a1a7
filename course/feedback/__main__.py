"""``python -m course.feedback``: write the pages of notebooks that could not be graded, and list them."""
import sys

from .ungraded_pages import main

sys.exit(main())
