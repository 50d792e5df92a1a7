"""The late-submission plugin: a percentage of the notebook's score per started day late, capped.

nbgrader's ``AssignLatePenalties`` (an autograde preprocessor) asks the configured plugin for each
late notebook's penalty, given the seconds late after the due date *and the student's extension*
(gradebook: ``SubmittedAssignment.total_seconds_late``).  Every started day counts: a minute late
is one day, 24 h 1 min is two.  The penalty is ``min(days * percent_per_day, max_percent)`` percent
of the points the notebook earned when it was graded (written answers graded by hand later are not
penalised unless autograde runs again).  nbgrader itself keeps the penalty between zero and the
score and subtracts it in the gradebook, ``nbgrader export`` and the feedback.
"""
import math

from nbgrader.plugins import BasePlugin
from traitlets import Float

DAY = 24 * 3600


def days_late(seconds_late):
    """Started days late: 0 when on time, 1 for anything up to a full day, and so on."""
    return math.ceil(seconds_late / DAY) if seconds_late > 0 else 0


class PerDayPenalty(BasePlugin):
    """``percent_per_day`` of the notebook's score per started day late, at most ``max_percent``."""

    percent_per_day = Float(
        10.0, min=0.0, max=100.0,
        help="Percent of the notebook's score taken off for each started day (24 h) late.",
    ).tag(config=True)
    max_percent = Float(
        50.0, min=0.0, max=100.0,
        help="The most a late notebook loses, in percent of its score, however late it is (100: down to zero).",
    ).tag(config=True)

    def percent(self, seconds_late):
        """Percent of the score lost for a submission ``seconds_late`` after the (extended) due date."""
        return min(days_late(seconds_late) * self.percent_per_day, self.max_percent)

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        percent = self.percent(total_seconds_late)
        penalty = round((score or 0) * percent / 100, 2)
        self.log.info("%s: %d day(s) late, %g%% of %g points: penalty %g", student_id,
                      days_late(total_seconds_late), percent, score or 0, penalty)
        return penalty
