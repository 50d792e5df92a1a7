"""Which students' answer code is suspiciously alike: pairwise code similarity of a homework's submissions.

nbgrader has no plagiarism check (nbgrader #1837).  This package compares every pair of students'
*answer code* - what they wrote into the answer cells and the code cells they added, without the
release's stubs and provided code, which every submission shares - with copydetect's winnowed
fingerprints.  copydetect tokenises the code first (names, strings and comments become
placeholders, whitespace goes), so renaming variables, reformatting and rewriting comments does
not hide a copy.  An instructor gets the most similar pairs ranked on the terminal and a
self-contained HTML page with the matching passages side by side, to judge by reading.

    answers     each student's answer code, read from the submitted (or autograded) notebooks
    compare     fingerprints, pairwise scores and matching passages (copydetect; traits in Similarity)
    page        ASSIGNMENT_similarity.html: student code shown only as escaped text, nothing loaded
    __main__    ``python -m course.similarity ASSIGNMENT``

A score is a judgement aid, never a verdict: short answers that a problem all but dictates are
alike in every class.  Nothing here changes a grade.

May import: course.settings, course.notebooks, course.gradebook, copydetect.
"""
