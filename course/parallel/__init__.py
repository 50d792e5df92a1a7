"""Grading a whole class at scale: nbgrader's own autograde in worker processes or on a Dask cluster.

    grade_class     the command (``python -m course.parallel``): pending students, the pool or the
                    cluster, progress, merging results into the gradebook
    worker          one student graded by nbgrader's AutogradeApp into a private gradebook, timed
    gradebook_sync  a student's gradebook rows, copied out to a worker and merged back
    security        the TLS certificates of the cluster mode (``python -m course.parallel.security DIR``)

The grades are those of a sequential ``nbgrader autograde``; only one process writes the gradebook.
May import: course.settings, nbgrader, sqlalchemy, distributed and cryptography (only with --scheduler).
"""
