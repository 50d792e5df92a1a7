"""``python -m course.exchange student-config | check``."""
import sys

from .operations import main

sys.exit(main())
