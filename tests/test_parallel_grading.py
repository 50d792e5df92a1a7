"""Parallel grading (course.parallel) gives exactly what sequential `nbgrader autograde` gives.

One scratch course with the example submissions plus two broken ones (a kernel that dies, an
endless loop stopped by a short cell timeout) is graded once by nbgrader's own sequential
autograde; its gradebook, autograded notebooks and feedback are kept.  Then the same folder is
graded again (i) by a local process pool into the embedded SQLite gradebook and (ii) by a real
Dask scheduler with two worker processes into a real PostgreSQL server on localhost, and
everything must come out the same.  Same folder, so that paths inside outputs are the same too;
only the wall-clock execution timestamps that nbclient records differ between any two runs.
"""
import json
import os
import re
import shutil

import pytest

from course import notebooks, pipeline, settings
from course.authoring import examples as grading
from course.parallel import grade_class as pg

from support.course import ASSIGNMENT, ROOT
from support.gradebooks import gradebook_contents

pytestmark = pytest.mark.slow  # grading runs, a Dask cluster and PostgreSQL

# Short enough to keep the suite quick, long enough for any honest cell on a busy 2-core machine.
TIMEOUT = "--Execute.timeout=20"
CRASH, ENDLESS = "student_kernel_dies", "student_endless_loop"
COURSE_ID = "ml-hw4"


def _first_function(nb_path):
    for kind, _, names in notebooks.answer_cells(notebooks.read(nb_path)).values():
        if kind == "code" and names:
            return names[0]
    raise AssertionError(f"{nb_path} has no answer function")


def _broken_submissions(root):
    """A kernel that dies in the last notebook (after the others were graded), an endless loop in the first."""
    names = sorted(p.stem for p in (root / "source" / ASSIGNMENT).glob("*.ipynb"))
    first, last = names[0], names[-1]
    crash = f"import os\n{_first_function(root / 'source' / ASSIGNMENT / (last + '.ipynb'))} = os._exit(1)\n"
    loop = f"{_first_function(root / 'source' / ASSIGNMENT / (first + '.ipynb'))} = next(x for x in iter(int, 1) if x)\n"
    pipeline.submit(root, CRASH, pipeline.build_student(root, {last: crash}))
    pipeline.submit(root, ENDLESS, pipeline.build_student(root, {first: loop}))


_RANDOM_DIRS = re.compile(r"/tmp/hw4_(student|trusted)_[A-Za-z0-9_]+")


def _notebooks(root):
    """relative path -> content of every autograded file.

    Left out of notebooks: what differs between any two runs of nbgrader itself, i.e. nbclient's
    wall-clock timestamps, the random cell ids of rebuilt notebooks, random scratch folders, and
    the execution count of a cell whose kernel died (set or not, as the kernel raced to announce it).
    """
    found = {}
    for path in sorted((root / "autograded").rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            nb = json.loads(_RANDOM_DIRS.sub("/tmp/hw4_scratch", path.read_text()))
            for cell in nb["cells"]:
                cell.get("metadata", {}).pop("execution", None)
                cell.pop("id", None)
                if any(o.get("ename") in ("KernelDied", "DeadKernelError") for o in cell.get("outputs", [])):
                    cell.pop("execution_count", None)
            found[str(path.relative_to(root))] = nb
        else:
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def _feedback(root, db_url):
    pipeline.nbgrader(root, "generate_feedback", ASSIGNMENT, "--force", f"--CourseDirectory.db_url={db_url}")
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "feedback").rglob("*")) if p.is_file()}


def _reset(root, pristine):
    for folder in ("autograded", "feedback"):
        shutil.rmtree(root / folder, ignore_errors=True)
    shutil.copy(pristine, root / "gradebook.db")


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    """(root, pristine gradebook, students, gradebook contents, notebooks, feedback) of nbgrader's sequential run."""
    root = tmp_path_factory.mktemp("parallel") / "course"
    pipeline.scratch_course(root)
    pipeline.generate(root)
    students = grading.submit_examples(root, ROOT / "examples")
    _broken_submissions(root)
    students += [CRASH, ENDLESS]
    pristine = root.parent / "pristine_gradebook.db"
    shutil.copy(root / "gradebook.db", pristine)
    pipeline.nbgrader(root, "autograde", ASSIGNMENT, "--force", TIMEOUT, check=False)
    url = settings.load(root).db_url
    failed = sorted(s for s in students if not (root / "autograded" / s).exists())
    result = (root, pristine, students, gradebook_contents(url, COURSE_ID, ASSIGNMENT), _notebooks(root),
              _feedback(root, url), failed)
    _reset(root, pristine)
    return result


def _assert_same_as_sequential(sequential, url, feedback=True):
    root, _, students, contents, nbs, fb, _ = sequential
    got = gradebook_contents(url, COURSE_ID, ASSIGNMENT)
    assert sorted(got) == sorted(contents) == sorted(students)
    for student in students:
        assert got[student] == contents[student], f"gradebook rows of {student} differ from nbgrader's"
    got_nbs = _notebooks(root)
    assert sorted(got_nbs) == sorted(nbs)
    for path in nbs:
        assert got_nbs[path] == nbs[path], f"{path} differs from nbgrader's"
    if feedback:
        got_fb = _feedback(root, url)
        assert sorted(got_fb) == sorted(fb) and all(got_fb[p] == fb[p] for p in fb), "feedback differs"


def test_sequential_run_has_mixed_outcomes(sequential):
    """The reference set really mixes outcomes: full marks, zero, partial, a dead kernel, an endless loop."""
    root, _, _, contents, nbs, _, _ = sequential
    totals = {s: sum((g[0] or 0) for nb in c[2].values() for g in nb[2].values()) for s, c in contents.items()}
    assert totals[grading.REFERENCE_STUDENT] > totals["example_typical_mistakes"] > 0
    assert totals[grading.BLANK_STUDENT] == 0
    assert totals[CRASH] < totals[grading.REFERENCE_STUDENT] and totals[ENDLESS] < totals[grading.REFERENCE_STUDENT]


def test_local_process_pool_equals_sequential_nbgrader_and_restarts(sequential):
    root, pristine, students, *_, seq_failed = sequential
    _reset(root, pristine)
    url = settings.load(root).db_url
    summary = pg.grade_class(root, workers=2, nbgrader_args=[TIMEOUT], quiet=True)
    assert sorted(summary["results"]) == sorted(students)
    assert sorted(summary["failed"]) == seq_failed, "the same submissions must fail as in nbgrader's run"
    for student in seq_failed:
        assert summary["results"][student]["error"], f"{student} failed without a reason"
    assert len({r["pid"] for r in summary["results"].values()}) == 2, "both workers should have graded"
    for result in summary["results"].values():
        assert "database is locked" not in result["log"]
    _assert_same_as_sequential(sequential, url)

    # started again: only failed submissions are missing, so only they are graded
    again = pg.grade_class(root, workers=2, nbgrader_args=[TIMEOUT], quiet=True)
    assert sorted(again["results"]) == seq_failed
    assert sorted(again["skipped"]) == sorted(s for s in students if s not in seq_failed)
    # an interrupted run (one student's autograded notebooks lost) grades just what is missing
    shutil.rmtree(root / "autograded" / grading.BLANK_STUDENT)
    again = pg.grade_class(root, workers=2, nbgrader_args=[TIMEOUT], quiet=True)
    assert sorted(again["results"]) == sorted(seq_failed + [grading.BLANK_STUDENT])
    _assert_same_as_sequential(sequential, url, feedback=False)


# --------------------------------------------------------------------------- PostgreSQL and Dask

@pytest.fixture(scope="module")
def postgres(postgres_server):
    """An empty PostgreSQL gradebook on the session's server (tests/conftest.py)."""
    return postgres_server.database("parallel_gradebook")


def test_dask_cluster_into_postgresql_equals_sequential_nbgrader(sequential, postgres, tmp_path):
    from distributed import LocalCluster
    from course.parallel import security
    root, pristine, students, *_, seq_failed = sequential
    _reset(root, pristine)
    (root / "gradebook.db").unlink()   # nothing may go to SQLite in this run
    pipeline.nbgrader(root, "generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.db_url={postgres}")
    certificates = security.make_certificates(tmp_path / "certificates")  # the cluster mode speaks TLS only
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      protocol="tls", security=security.security(certificates)) as cluster:
        summary = pg.grade_class(root, scheduler=cluster.scheduler_address, db_url=postgres,
                                 nbgrader_args=[TIMEOUT], quiet=True, certificates=certificates)
    assert sorted(summary["results"]) == sorted(students)
    assert sorted(summary["failed"]) == seq_failed
    pids = {r["pid"] for r in summary["results"].values()}
    assert len(pids) == 2 and os.getpid() not in pids, "both Dask workers should have graded"
    assert not (root / "gradebook.db").exists()
    _assert_same_as_sequential(sequential, postgres)
