"""What a student gets back after grading: ``nbgrader generate_feedback`` made readable and honest.

    plain_feedback  the PlainFeedback preprocessor: score table, failures in plain words, hidden
                    tests left out (c.GenerateFeedback.preprocessors)
    diagnosis       why a notebook was repaired or could not be graded, in one sentence
    ungraded_pages  a page for each notebook nbgrader could not grade (c.GenerateFeedback.post_convert_hook)
    page            the page itself: math as MathML, no script, messages that wrap (c.GenerateFeedback.exporter_class)

Only the feedback copies change; the gradebook and autograded/ are never touched.
May import: course.settings, course.notebooks, course.gradebook, course.late (the lateness notice).
"""
