"""A fair late policy: a penalty per started day late, capped, and per-student extensions.

nbgrader's own choice is all or nothing (``LateSubmissionPlugin``: no penalty, or zero), and it
keeps per-student extensions in the gradebook (``SubmittedAssignment.extension``) without any
command to set them.  This package fills both gaps with nbgrader's own hooks, so the plain
``nbgrader collect`` / ``autograde`` / ``generate_feedback`` apply the policy:

    extensions  the instructor's ``extensions.csv`` (student id, a new due date or extra days),
                read and checked; a student's due date with their extension
    penalty     ``PerDayPenalty``, the late-submission plugin (``c.AssignLatePenalties.plugin_class``):
                ``percent_per_day`` of the notebook's score per started day late, at most ``max_percent``
    record      ``RecordExtension``, an autograde preprocessor placed before ``AssignLatePenalties``:
                writes the student's extension from the file into the gradebook, so nbgrader's own
                ``total_seconds_late`` (and the formgrader) count from the extended due date
    collect     ``ExtensionAwareCollect`` (``c.ExchangeFactory.collect``): with
                ``ExchangeCollect.before_duedate`` a student's latest submission before *their*
                due date (extension included) is the one collected
    notice      the sentence the feedback page shows: days late, the due date and extension, the penalty

The extensions file is the one source of truth: autograde sets every student's gradebook
extension from it (and clears one the file no longer lists).
May import: course.settings, course.gradebook, nbgrader, traitlets.
"""
