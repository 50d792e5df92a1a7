"""A student's rows of the gradebook, moved between the main gradebook and a worker's private copy.

Parallel grading lets only one process write the main gradebook (so SQLite never reports
"database is locked" and workers need no database access): each worker grades into a private
SQLite gradebook made from a template holding the assignment's definition, and sends back the rows
nbgrader created or changed; the parent applies them.  This module is that row traffic, through
nbgrader's own SQLAlchemy tables.

May import: nbgrader, sqlalchemy.
"""

# Tables that define an assignment (copied into every private gradebook), parents first.
DEFINITION_TABLES = ("assignment", "notebook", "base_cell", "grade_cells", "solution_cells",
                     "task_cells", "source_cell")
# Tables that hold one student's submission (what autograde creates or changes), parents first.
STUDENT_TABLES = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment")


def tables():
    from nbgrader.api import Base
    return Base.metadata.tables


def _rows(conn, table, where):
    from sqlalchemy import select
    return [dict(r._mapping) for r in conn.execute(select(table).where(where))]


def student_rows(conn, student, assignment):
    """table -> [row dict] for one student's submission of the assignment (all columns)."""
    t = tables()
    rows = {name: [] for name in STUDENT_TABLES}
    rows["student"] = _rows(conn, t["student"], t["student"].c.id == student)
    assignment_ids = [r["id"] for r in _rows(conn, t["assignment"], t["assignment"].c.name == assignment)]
    if not rows["student"] or not assignment_ids:
        return rows
    sa = t["submitted_assignment"]
    rows["submitted_assignment"] = _rows(conn, sa, (sa.c.student_id == student)
                                         & sa.c.assignment_id.in_(assignment_ids))
    sn = t["submitted_notebook"]
    rows["submitted_notebook"] = _rows(
        conn, sn, sn.c.assignment_id.in_([r["id"] for r in rows["submitted_assignment"]]))
    nb_ids = [r["id"] for r in rows["submitted_notebook"]]
    rows["grade"] = _rows(conn, t["grade"], t["grade"].c.notebook_id.in_(nb_ids))
    rows["comment"] = _rows(conn, t["comment"], t["comment"].c.notebook_id.in_(nb_ids))
    return rows


def changes(before, after):
    """What nbgrader wrote: table -> {"new": [row], "changed": [(id, {column: value})]}."""
    result = {}
    for table in STUDENT_TABLES:
        old = {r["id"]: r for r in before.get(table, [])}
        new, changed = [], []
        for row in after.get(table, []):
            if row["id"] not in old:
                new.append(row)
            else:
                diff = {k: v for k, v in row.items() if old[row["id"]].get(k) != v}
                if diff:
                    changed.append((row["id"], diff))
        result[table] = {"new": new, "changed": changed}
    return result


def apply_changes(conn, delta):
    """Write one student's changes into a gradebook connection (inside the caller's transaction)."""
    from sqlalchemy import insert, update
    t = tables()
    for table in STUDENT_TABLES:
        for row in delta[table]["new"]:
            conn.execute(insert(t[table]).values(**row))
        for row_id, values in delta[table]["changed"]:
            conn.execute(update(t[table]).where(t[table].c.id == row_id).values(**values))


def _schema(src, dst):
    """nbgrader's tables in the empty gradebook ``dst``, stamped with the main gradebook's schema version.

    What nbgrader's ``Gradebook`` does for a new database, without its way of finding the version:
    an ``alembic heads`` subprocess, 2.7 s of CPU at the start of every parallel run, before any
    worker can begin.  The main gradebook's own stamp is also the right one for its copy.
    """
    from nbgrader.api import Base
    from sqlalchemy import inspect, text
    Base.metadata.create_all(bind=dst)
    if "alembic_version" in inspect(src).get_table_names():
        version = src.execute(text("SELECT version_num FROM alembic_version")).scalar()
    else:   # a gradebook made by other means than nbgrader's Gradebook: nbgrader's own answer
        from nbgrader.api import get_alembic_version
        version = get_alembic_version()
    dst.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    dst.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": version})


def make_template(db_url, course_id, path, assignment):
    """A fresh nbgrader SQLite gradebook at ``path`` holding the assignment's definition only."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy import create_engine, insert
    with Gradebook(db_url, course_id) as gb:  # nbgrader's own creation/checks of the main gradebook
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"assignment {assignment!r} is not in the gradebook {db_url}: "
                             f"run `nbgrader generate_assignment {assignment}` first")
    t = tables()
    src, dst = create_engine(db_url), create_engine("sqlite:///" + str(path))
    try:
        with src.connect() as s, dst.begin() as d:
            _schema(s, d)
            a = _rows(s, t["assignment"], t["assignment"].c.name == assignment)
            nbs = _rows(s, t["notebook"], t["notebook"].c.assignment_id.in_([r["id"] for r in a]))
            nb_ids = [r["id"] for r in nbs]
            cells = _rows(s, t["base_cell"], t["base_cell"].c.notebook_id.in_(nb_ids))
            cell_ids = [r["id"] for r in cells]
            rows = {"assignment": a, "notebook": nbs, "base_cell": cells,
                    "source_cell": _rows(s, t["source_cell"], t["source_cell"].c.notebook_id.in_(nb_ids))}
            for name in ("grade_cells", "solution_cells", "task_cells"):
                rows[name] = _rows(s, t[name], t[name].c.id.in_(cell_ids))
            for cid in {r["course_id"] for r in a} | {course_id}:
                for row in _rows(s, t["course"], t["course"].c.id == cid):
                    d.execute(insert(t["course"]).values(**row))
            for name in DEFINITION_TABLES:
                for row in rows[name]:
                    d.execute(insert(t[name]).values(**row))
    finally:
        src.dispose()
        dst.dispose()
    return path
