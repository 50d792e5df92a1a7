"""nbgrader settings for Homework IV.  Only what the course relies on; each line says why."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

# Every nbgrader command run from this folder works on this course, whatever the current directory of a tool.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Names the course in the gradebook and in exported grades.
c.CourseDirectory.course_id = "ml-hw4"
# The embedded SQLite gradebook at the repository root: no server to start (override with --CourseDirectory.db_url).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Never copy the virtual environment or caches into the release or the autograded folders.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".pytest_cache"]

# The stub a student sees in place of a solution: the cell raises until answered, so the blank release scores zero.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# The stub in place of a written (manually graded) answer.
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this (an endless loop in a submission) is stopped and scores zero; the run goes on.
c.Execute.timeout = 120
# Grading uses the kernel of the environment nbgrader runs in (the course's pinned one).
c.Execute.kernel_name = "python3"
