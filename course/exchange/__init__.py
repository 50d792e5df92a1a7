"""Handing out and collecting through nbgrader's exchange (a hub's shared file system).

    operations  the students' config and a permissions check (``python -m course.exchange``)

May import: course.settings.
"""
