"""``nbgrader collect`` that honours extensions: each student's latest submission before their own due date.

With ``ExchangeCollect.before_duedate`` nbgrader collects a student's latest submission made
before the assignment's due date (else their latest).  A student with an extension is on time
until their extended due date, so a submission inside the extension must win over an earlier one
and over a later, really late one.  ``ExtensionAwareCollect`` is nbgrader's default collect with
only that choice changed; it is loaded with ``c.ExchangeFactory.collect``.
"""
import glob
import os

from nbgrader.exchange.default.collect import ExchangeCollect, groupby

from . import extensions


class ExtensionAwareCollect(ExchangeCollect):
    """nbgrader's collect; with before_duedate, the due date is each student's own (extension included)."""

    def init_src(self):
        super().init_src()
        if self.duedate is None or not self.before_duedate:
            return
        try:
            found = extensions.read(self.coursedir.root, self.config)
        except extensions.ExtensionsError as err:  # collect nothing rather than ignore an extension
            self.fail(f"cannot read the extensions file: {err}")
        if not found:
            return
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = [self._path_to_record(f) for f in glob.glob(pattern)]
        chosen = []
        for login, mine in groupby(records, lambda r: r["username"]).items():
            mine = self._sort_by_timestamp(mine)
            ext = found.get(login)
            due = ext.due(self.duedate) if ext else self.duedate
            on_time = [r for r in mine if r["timestamp"] <= due]
            if ext:
                self.log.info("%s has an extension to %s UTC", login, f"{due:%Y-%m-%d %H:%M:%S}")
            chosen.append(on_time[0] if on_time else mine[0])
        self.src_records = chosen
