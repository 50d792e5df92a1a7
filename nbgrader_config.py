"""nbgrader settings for Homework IV.  Only what the course relies on; each line says why."""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
# The course's nbgrader plugins are the `course` package, installed into .venv by ./run (pyproject.toml).

# Every nbgrader command run from this folder works on this course, whatever the current directory of a tool.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# Names the course in the gradebook and in exported grades.
c.CourseDirectory.course_id = "ml-hw4"
# The assignment every course tool (report, feedback pages, parallel grading, examples) works on.
c.Course.assignment = "hw4"
# The embedded SQLite gradebook at the repository root: no server to start (override with --CourseDirectory.db_url).
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(c.CourseDirectory.root, "gradebook.db")
# Never copy the virtual environment or caches into the release or the autograded folders.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".pytest_cache"]

# The stub a student sees in place of a solution: the cell raises until answered, so the blank release scores zero.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# The stub in place of a written (manually graded) answer.
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A cell that runs longer than this (an endless loop in a submission) is stopped and scores zero; the run goes on.
c.Execute.timeout = 60
# Grading uses the kernel of the environment nbgrader runs in (the course's pinned one).
c.Execute.kernel_name = "python3"

# Handing out and collecting through nbgrader's exchange (README: "Handing out and collecting").
# The folder instructor and students share on the hub; change this one line for your hub.
c.Exchange.root = "/srv/nbgrader/exchange"
# Homework IV's due date; `nbgrader db assignment add hw4` writes it into the gradebook.
c.DbAssignmentAddApp.duedate = "2027-03-12 23:59:00 UTC"
# Late policy (course/late/, README "Late policy"): a late notebook loses a share of its score per started day late ...
c.AssignLatePenalties.plugin_class = "course.late.penalty.PerDayPenalty"
# ... this many percent of the notebook's score per started day (24 h) after the student's due date ...
c.PerDayPenalty.percent_per_day = 10
# ... and never more than this many percent, however late.
c.PerDayPenalty.max_percent = 50
# Per-student extensions (student_id,new_due_date,extra_days), edited by the instructor; honoured by collect, autograde, feedback.
c.Extensions.path = "extensions.csv"
# Collect takes a student's latest submission before their due date when there is one, so a late resubmission voids nothing ...
c.ExchangeCollect.before_duedate = True
# ... where "their due date" includes their extension from extensions.csv.
c.ExchangeFactory.collect = "course.late.collect.ExtensionAwareCollect"
# Without a shared file system, `nbgrader zip_collect hw4` reads LMS downloads named like Canvas's: lastfirst_[LATE_]userid_subid_NOTEBOOK[-N].ipynb
c.FileNameCollectorPlugin.named_regexp = r".*/(?P<student_id>[^/_]+)_(?:LATE_)?\d+_\d+_(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$"

# Feedback for students (course/feedback/; README "Feedback and the grading report").
# Feedback pages: score table on top, failed tests shown by their message, hidden tests' code left out (feedback copy only).
c.GenerateFeedback.preprocessors = ["nbgrader.preprocessors.GetGrades", "course.feedback.plain_feedback.PlainFeedback", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
# The instructor's switch: True shows students the hidden tests' code and full tracebacks.
c.PlainFeedback.show_hidden_tests = False
# A notebook that could not be graded (missing, broken, crashed) gets a feedback page that says so and why.
c.GenerateFeedback.post_convert_hook = "course.feedback.ungraded_pages.ungraded_pages_hook"
# Feedback pages readable offline (course/feedback/page.py): math written in as MathML, no script, failure messages wrap.
c.GenerateFeedback.exporter_class = "course.feedback.page.FeedbackPage"
from course.feedback.page import template_basedirs  # noqa: E402  (the course's template folder, then nbgrader's)
# The formgrader typesets math with the MathJax the Jupyter server serves (jupyter-server-mathjax), not a CDN.
c.HTMLExporter.extra_template_basedirs = template_basedirs()
# nbgrader's log (appended by every command), where the feedback and the report find why a submission could not be graded.
c.NbGrader.logfile = os.path.join(c.CourseDirectory.root, "nbgrader.log")

# Nothing a student wrote runs in the formgrader or a feedback page (course/protection/inert.py; both pages use HTMLExporter).
# In the rendered copy only, outputs keep text, PNG/JPEG and sanitised HTML: scripts, SVG and widgets are dropped.
c.HTMLExporter.preprocessors = ["course.protection.inert.InertOutputs"]
# Written answers (markdown) are rendered as nbconvert does, then sanitised: text and $math$ stay, nothing runs.
c.HTMLExporter.filters = {"markdown2html": "course.protection.inert.markdown2html"}

# Grading that a submission cannot fool, stall or crash (course/protection/; README "How grading is protected").
# nbgrader's Execute is replaced: test cells run in a trusted kernel, student code in a sandboxed one.
c.Autograde.autograde_preprocessors = [
    "course.protection.trusted_execute.TrustedExecute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "course.late.record.RecordExtension",
    "nbgrader.preprocessors.AssignLatePenalties",
    "course.protection.check_cell_metadata.CheckCellMetadata"]
# nbgrader's own checks of the cells' metadata, each distinct metadata checked against the schema once per grading
# process instead of for every cell of every notebook (course/protection/check_cell_metadata.py): the same errors.
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput", "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec", "nbgrader.preprocessors.OverwriteCells",
    "course.protection.check_cell_metadata.CheckCellMetadata"]
# One call of a student's function from a test may take this long before it is stopped and fails as "took too long".
c.TrustedExecute.call_timeout = 60
# All of a notebook's student code (cells and calls) gets this many seconds; past it, the rest fails with that reason.
c.TrustedExecute.notebook_budget = 300
# The student's kernel may not use more memory than this (MiB); beyond it their code gets a MemoryError.
c.SandboxedKernelManager.memory_limit_mb = 3072
# Its /tmp and working folder together may hold this much (MiB); a write beyond it fails with "no space left".
c.SandboxedKernelManager.disk_limit_mb = 256
# Processes and threads it may have at once, so a fork bomb stops there (the kernel itself uses about a dozen).
c.SandboxedKernelManager.process_limit = 128
# CPU seconds its process may use over the whole notebook; beyond it the kernel is stopped and the rest scores zero.
c.SandboxedKernelManager.cpu_limit_s = 600
# Both kernels are forked from a template process that has imported numpy, scipy, matplotlib and scikit-learn once per
# grading process, inside the same walls (course/protection/template.py); False starts every kernel as a new Python.
c.TrustedExecute.warm_kernels = True
# While nbgrader grades one notebook, the submission's next one runs in a thread (course/protection/read_ahead.py), so
# two cores are used; it is used only if it is the very notebook nbgrader then hands over.  0: one notebook at a time.
c.TrustedExecute.read_ahead = 1
# The trusted kernel that runs the tests holds the student's returned data: a memory limit keeps it from taking the machine.
c.TrustedExecute.trusted_memory_limit_mb = 4096
# bubblewrap hides the course folder, the gradebook and other students from the student's kernel ("auto": when installed).
c.SandboxedKernelManager.sandbox = "auto"
# Every submitted notebook is rebuilt from the source notebook with the student's answers carried over, so a
# broken, reordered or tampered notebook is graded (what was repaired goes to repairs.jsonl) instead of stopping the run.
c.Autograde.exporter_class = "course.protection.repair.RepairingExporter"
from course.protection.repair import find_renamed_notebooks  # noqa: E402  (a callable: nbgrader takes no import string here)
# A renamed notebook ("problem1_kmeans (1).ipynb") is graded in place of the missing one it answers.
c.Autograde.pre_convert_hook = find_renamed_notebooks
