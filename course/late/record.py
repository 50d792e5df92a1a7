"""Writing a student's extension from the extensions file into the gradebook, at autograde.

nbgrader computes lateness from the gradebook alone (``SubmittedAssignment.duedate`` = the
assignment's due date + ``extension``) but has no command that sets ``extension``.
``RecordExtension`` sits in ``c.Autograde.autograde_preprocessors`` just before nbgrader's
``AssignLatePenalties``: it sets the student's extension to what extensions.csv says (or clears
it), so the penalty, the formgrader and ``nbgrader export`` all count from the extended due date.
A broken extensions file stops the grading of that notebook with the file's error (nbgrader logs
it and goes on with the next student): grading on without the extension would be unfair.
"""
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import settings as course_settings
from . import extensions


class RecordExtension(NbGraderPreprocessor):
    """Set ``SubmittedAssignment.extension`` from the course's extensions file."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        root = course_settings.current().root
        found = extensions.read(root, self.config)
        with Gradebook(info["db_url"]) as gb:
            submission = gb.find_submission(info["assignment"], info["student"])
            delta = extensions.extension_for(found, info["student"], submission.assignment.duedate)
            if submission.extension != delta:
                self.log.info("Extension of %s for %s: %s (from %s)", info["student"], info["assignment"],
                              delta, extensions.Extensions(config=self.config).file(root))
                submission.extension = delta
                gb.db.commit()
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        return cell, resources
