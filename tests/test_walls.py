"""Walls around student code (issue 16): no network at all; bounded disk, processes, CPU and memory.

One scratch course and one real `nbgrader autograde` of a few students, each running into one wall
in problem 4 (the reference and the two students whose kernels are stopped also answer problem 3
with the reference, which must keep full marks):

* ``net_probe`` tries a TCP listener this test opens on 127.0.0.1, scans every TCP port of
  127.0.0.1, lists the listening sockets in /proc/net/tcp and tries an outside address (only what
  its own kernel listens on, in its own network namespace, may show up);
* ``disk_hog`` writes 40 MiB into /tmp, then its function writes 40 MiB into the working folder
  (together more than the run's 64 MiB);
* ``fork_bomb`` forks until it is stopped (each child execs a ``sleep`` with a marker we look for);
* ``cpu_burner`` burns CPU in three threads until the run's CPU-time bound stops its kernel.

Then the cluster mode: a real Dask ``LocalCluster`` with the course's TLS certificates grades the
reference and the network probe again (same grades; the probe finds no open port although the
scheduler and its workers listen on 127.0.0.1), and clients without the certificates are refused.
"""
import ast
import json
import os
import socket
import ssl
import subprocess
import sys
import time

import nbformat
import pytest

from course import gradebook, notebooks, pipeline, settings
from course.authoring import submissions

from support.course import SOURCE

NB, OTHER = "problem4_regression", "problem3_density"
KR_TESTS = ("kernel_regression_huge_bandwidth", "kernel_regression_linear_in_y",
            "kernel_regression_matches_brute_force", "kernel_regression_tiny_bandwidth")
MARK = "612.25"   # the fork bomb's children run `sleep 612.25`: none may be left after grading
DISK_MB, PROCESSES, CPU_S = 64, 40, 15
ARGS = ["--Execute.timeout=90", "--TrustedExecute.call_timeout=20",
        f"--SandboxedKernelManager.disk_limit_mb={DISK_MB}",
        f"--SandboxedKernelManager.process_limit={PROCESSES}",
        f"--SandboxedKernelManager.cpu_limit_s={CPU_S}"]

WITH_OTHER = ("reference", "fork_bomb", "cpu_burner")   # also graded in problem 3 (kept short: 2 cores)

pytestmark = pytest.mark.slow


def _cell(nb, grade_id):
    return next(c for c in nb.cells if notebooks.nbgrader_meta(c).get("grade_id") == grade_id)


def _append(nb, grade_id, code):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    _cell(nb, grade_id).source += "\n" + code
    return nb


def _net_probe(port):
    return (
        "import socket\n"
        "def _reach(host, port):\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=3).close()\n"
        "        return 'OPEN'\n"
        "    except OSError as e:\n"
        "        return type(e).__name__\n"
        f"print('LISTENER', _reach('127.0.0.1', {port}))\n"
        "_open = []\n"
        "for _p in range(1, 65536):\n"
        "    _s = socket.socket()\n"
        "    _s.settimeout(0.5)\n"
        "    if _s.connect_ex(('127.0.0.1', _p)) == 0 and _s.getsockname()[1] != _p:  # not a self-connect\n"
        "        _open.append(_p)\n"
        "    _s.close()\n"
        "print('OPEN_PORTS', _open)\n"
        "print('LISTENING', sorted(int(l.split()[1].split(':')[1], 16) for l in open('/proc/net/tcp')\n"
        "                          .read().splitlines()[1:] if l.split()[3] == '0A'))\n"
        "print('OUTSIDE', _reach('192.0.2.1', 80))\n")


DISK_HOG = (
    "open('/tmp/part1', 'wb').write(b'x' * 40 * 2**20)\n"
    "_right = kernel_regression\n"
    "def kernel_regression(X, Y, X_new, sigma):\n"
    "    with open('cache.bin', 'wb') as f:\n"
    "        for _ in range(40):\n"
    "            f.write(b'x' * 2**20)\n"
    "    return _right(X, Y, X_new, sigma)\n")

FORK_BOMB = (
    "import os\n"
    "forked = 0\n"
    "try:\n"
    "    for _ in range(1000):\n"
    "        if os.fork() == 0:\n"
    f"            os.execv('/usr/bin/sleep', ['sleep', '{MARK}'])\n"
    "        forked += 1\n"
    "finally:\n"
    "    print('FORKED', forked)\n")

CPU_BURNER = (
    "import hashlib, threading\n"
    "def _burn():\n"
    "    while True:\n"
    "        hashlib.sha256(b'x' * 2**22).digest()\n"
    "for _ in range(2):\n"
    "    threading.Thread(target=_burn, daemon=True).start()\n"
    "while True:\n"
    "    pass\n")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = tmp_path_factory.mktemp("walls")
    pipeline.scratch_course(course, names=[NB, OTHER])
    pipeline.generate(course)
    reference = {name: submissions.build(notebooks.read(course / "release" / "hw4" / f"{name}.ipynb"),
                                         notebooks.read(SOURCE / f"{name}.ipynb"), None, submissions.REFERENCE)
                 for name in (NB, OTHER)}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    answers = {"reference": reference[NB],
               "net_probe": _append(reference[NB], "kernel_regression_answer", _net_probe(port)),
               "disk_hog": _append(reference[NB], "kernel_regression_answer", DISK_HOG),
               "fork_bomb": _append(reference[NB], "kernel_regression_answer", FORK_BOMB),
               "cpu_burner": _append(reference[NB], "kernel_regression_answer", CPU_BURNER)}
    for student, nb in answers.items():
        folder = course / "submitted" / student / "hw4"
        folder.mkdir(parents=True)
        (folder / f"{NB}.ipynb").write_text(json.dumps(nb))
        if student in WITH_OTHER:
            (folder / f"{OTHER}.ipynb").write_text(json.dumps(reference[OTHER]))
    start = time.monotonic()
    proc = pipeline.nbgrader(course, "autograde", "hw4", "--force", *ARGS, check=False)
    seconds = time.monotonic() - start
    try:
        listener.accept()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    left = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    feedback = pipeline.nbgrader(course, "generate_feedback", "hw4", "--force", check=False)
    return {"course": course, "port": port, "proc": proc, "seconds": seconds, "reached": reached, "ps": left,
            "feedback": feedback, "scores": gradebook.scores(settings.load(course)), "students": list(answers)}


def _lost(graded, student, name=NB):
    return sorted(g for g, (s, m, auto) in graded["scores"][student][name].items() if auto and (s or 0) < m)


def _outputs(graded, student, grade_id):
    nb = notebooks.read(graded["course"] / "autograded" / student / "hw4" / f"{NB}.ipynb")
    return "\n".join(o.get("text", "") + o.get("ename", "") + ": " + o.get("evalue", "")
                     for o in _cell(nb, grade_id).get("outputs", []))


def _feedback(graded, student):
    return (graded["course"] / "feedback" / student / "hw4" / f"{NB}.html").read_text()


def test_every_submission_is_graded_and_the_other_notebook_keeps_full_marks(graded):
    assert "error processing assignment" not in graded["proc"].stderr, graded["proc"].stderr[-3000:]
    assert sorted(graded["scores"]) == sorted(graded["students"])
    assert _lost(graded, "reference") == []
    for student in WITH_OTHER:
        assert _lost(graded, student, OTHER) == [], student
    assert graded["feedback"].returncode == 0, graded["feedback"].stderr[-2000:]


def _probe(out, key):
    return json.loads(out.split(f"{key} ")[1].splitlines()[0])


def test_student_code_has_no_network(graded):
    out = _outputs(graded, "net_probe", "kernel_regression_answer")
    assert "LISTENER ConnectionRefusedError" in out, out
    assert graded["port"] not in _probe(out, "OPEN_PORTS") + _probe(out, "LISTENING"), out
    assert set(_probe(out, "OPEN_PORTS")) <= set(_probe(out, "LISTENING")), "only its own kernel's sockets"
    assert "OUTSIDE OPEN" not in out and "OUTSIDE " in out, out
    assert not graded["reached"], "the test's listener on 127.0.0.1 was reached from student code"
    assert _lost(graded, "net_probe") == []


def test_writing_more_than_the_disk_bound_fails_in_its_own_tests_with_a_plain_reason(graded):
    assert _lost(graded, "disk_hog") == sorted(KR_TESTS)
    assert "No space left on device" in _outputs(graded, "disk_hog", KR_TESTS[0])
    page = _feedback(graded, "disk_hog")
    assert "used more disk space than allowed (its /tmp and working folder" in page   # in the tests' messages
    assert f"more disk space than allowed ({DISK_MB} MiB" in page                       # in the cell that hit it


def test_a_fork_bomb_stops_at_the_process_bound_and_leaves_nothing_running(graded):
    out = _outputs(graded, "fork_bomb", "kernel_regression_answer")
    forked = int(out.split("FORKED ")[1].split()[0])
    assert 0 < forked < PROCESSES, out
    assert "more processes or threads than allowed" in out, out
    assert "ols_smoother_matrix_hat_trace" not in _lost(graded, "fork_bomb")
    assert f"sleep {MARK}" not in graded["ps"]


def test_the_cpu_time_bound_stops_the_kernel_with_a_plain_reason(graded):
    lost = _lost(graded, "cpu_burner")
    assert set(KR_TESTS) <= set(lost) and "kernel_smoother_matrix_tiny_bandwidth" not in lost, lost
    assert "CPU time" in _outputs(graded, "cpu_burner", KR_TESTS[0])
    assert "CPU time" in _feedback(graded, "cpu_burner")


def test_the_trusted_kernel_has_a_memory_limit():
    """The trusted kernel's launcher sets its address-space limit: a huge allocation fails, the kernel lives on."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook
    from course.protection.sandbox import LimitedKernelManager
    nb = new_notebook(cells=[new_code_cell("x = bytearray(3 * 2**30)"),
                             new_code_cell("y = bytearray(64 * 2**20)\nprint('STILL HERE', len(y))")])
    client = NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3")
    client.km = LimitedKernelManager(kernel_name="python3", memory_limit_mb=1536)
    client.execute()
    assert nb.cells[0].outputs[0].ename == "MemoryError"
    assert "STILL HERE" in nb.cells[1].outputs[0].text


@pytest.mark.parametrize("warm", [False, True], ids=["cold", "warm"])
def test_the_trusted_kernel_computes_on_one_thread(warm):
    """BLAS and OpenMP in the trusted kernel run one thread (LimitedKernelManager.threads): idle threads
    that spin would take CPU from the other workers of a parallel run.  Warm, numpy is loaded by the
    template, so the setting must already be in the template's environment."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook
    from course.protection.sandbox import LimitedKernelManager
    nb = new_notebook(cells=[new_code_cell(
        "import numpy, sklearn.cluster\nfrom threadpoolctl import threadpool_info\n"
        "print('THREADS', sorted({(i['internal_api'], i['num_threads']) for i in threadpool_info()}))")])
    client = NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3",
                            shutdown_kernel="immediate" if warm else "graceful")
    client.km = LimitedKernelManager(kernel_name="python3", warm=warm, warm_preload=["numpy", "sklearn.cluster"])
    try:
        client.execute()
    finally:   # this template is this test's own: stopped, so that later tests in the process see only theirs
        from course.protection import forkserver
        for key in [k for k, server in forkserver._SERVERS.items() if server is getattr(client.km, "_server", None)]:
            forkserver.discard(key)
    text = nb.cells[0].outputs[0].text
    pools = ast.literal_eval(text.split("THREADS", 1)[1].strip())
    assert {api for api, _ in pools} >= {"openblas", "openmp"}, text
    assert all(threads == 1 for _, threads in pools), text


# --------------------------------------------------------------------------- the cluster mode

@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    from course.parallel import security
    certificates = security.make_certificates(tmp_path_factory.mktemp("tls") / "certificates")
    with pytest.MonkeyPatch.context() as patch:
        # as `python -m course.parallel` does: nbgrader (here and on the workers) runs the environment's alembic
        patch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
        yield from _cluster(certificates)


def _cluster(certificates):
    from distributed import LocalCluster
    from course.parallel import security
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      protocol="tls", security=security.security(certificates)) as cluster:
        yield cluster, certificates


def _handshake(address, certificates=None):
    """Open a TLS connection to ``address`` as an outsider would, optionally with another CA's certificate."""
    host, port = address[len("tls://"):].rsplit(":", 1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if certificates:
        from course.parallel import security
        context.load_cert_chain(certificates / security.CERT, certificates / security.KEY)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        with context.wrap_socket(raw) as tls:
            tls.sendall(b"\0" * 64)
            if not tls.recv(1):
                raise ConnectionError("closed by the scheduler")


def test_clients_without_the_course_certificates_are_refused(tls_cluster, tmp_path):
    from distributed import Client
    from course.parallel import grade_class, security
    cluster, certificates = tls_cluster
    address = cluster.scheduler_address
    assert address.startswith("tls://")
    with Client(address, security=security.security(certificates), timeout=30) as client:
        assert client.submit(sum, [20, 22]).result(timeout=60) == 42
    other = security.make_certificates(tmp_path / "other")   # a valid certificate of another CA
    for attempt in (None, other):
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            _handshake(address, attempt)
    host, port = address[len("tls://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as plain:   # plain TCP, no TLS at all
        plain.sendall(b"\0" * 64)
        try:
            assert plain.recv(1) == b""
        except OSError:
            pass
    with pytest.raises(SystemExit, match="TLS"):
        grade_class.grade_class(".", scheduler=address.replace("tls://", "tcp://"))
    (certificates / "open").mkdir()
    for name in (security.CA, security.CERT, security.KEY):
        (certificates / "open" / name).write_bytes((certificates / name).read_bytes())
    (certificates / "open").chmod(0o755)
    with pytest.raises(ValueError, match="other users"):
        security.security(certificates / "open")


def test_cluster_grading_over_tls_gives_the_same_grades_and_no_network(graded, tls_cluster):
    from course.parallel import grade_class
    cluster, certificates = tls_cluster
    before = {s: graded["scores"][s] for s in ("reference", "net_probe")}
    summary = grade_class.grade_class(graded["course"], students=list(before), scheduler=cluster.scheduler_address,
                                      certificates=certificates, force=True, nbgrader_args=ARGS, quiet=True)
    assert summary["failed"] == [], summary
    after = gradebook.scores(settings.load(graded["course"]))
    assert {s: after[s] for s in before} == before
    out = _outputs(graded, "net_probe", "kernel_regression_answer")
    cluster_ports = {int(address.rsplit(":", 1)[1]) for address in
                     [cluster.scheduler_address] + [w.worker_address for w in cluster.workers.values()]}
    assert cluster_ports and not cluster_ports & set(_probe(out, "OPEN_PORTS")), out
    assert set(_probe(out, "OPEN_PORTS")) <= set(_probe(out, "LISTENING")), out
