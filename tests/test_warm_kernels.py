"""Warm kernels keep submissions apart: what one kernel forked from the template does is not seen by the next.

Two student kernels are forked one after the other from the same template (as two submissions'
notebooks are during one ``nbgrader autograde``).  The first patches a preloaded module, writes files
in /tmp, its working folder and /dev/shm, sets an environment variable, leaves processes behind
(one of them in a new session, as a daemon would) and draws random numbers; the second looks for
all of it.  The template also has to be the same process for both, or the test would prove nothing.
"""
import os
import shutil
import tempfile

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from course.protection import forkserver
from course.protection.sandbox import SandboxedKernelManager
from course.protection.trusted_execute import TrustedExecute

pytestmark = pytest.mark.slow

PRELOAD = ["numpy", "random"]
# the course's own warm-up, and the libraries it draws and fits with
COURSE_WARM_UP = TrustedExecute.class_traits()["warm_up"].default()
PLOTTING = ["numpy", "matplotlib", "matplotlib.pyplot", "sklearn"]

FIRST = [
    "import numpy, os, random, subprocess\n"
    "numpy.linalg.norm = lambda *a, **k: 0.0\n"
    "numpy.PATCHED_BY_FIRST = True\n"
    "for path in ('/tmp/left_by_first', 'left_by_first', '/dev/shm/left_by_first'):\n"
    "    open(path, 'w').write('x')\n"
    "os.environ['LEFT_BY_FIRST'] = '1'\n"
    "subprocess.Popen(['sleep', '600'])\n"
    "subprocess.Popen(['setsid', 'sleep', '601'])\n"
    "print(numpy.random.rand(), random.random(), os.getpid())",
]
SECOND = [
    "import numpy, os, random, glob\n"
    "print(hasattr(numpy, 'PATCHED_BY_FIRST'), numpy.linalg.norm([3.0, 4.0]))\n"
    "print(sorted(glob.glob('/tmp/**/left_by_first', recursive=True) + glob.glob('/dev/shm/*') + glob.glob('left_by_first')))\n"
    "print(os.environ.get('LEFT_BY_FIRST'))\n"
    "def cmdline(pid):\n"
    "    try:\n"
    "        return open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()\n"
    "    except OSError:\n"
    "        return ''\n"
    "print(sorted(c for c in map(cmdline, filter(str.isdigit, os.listdir('/proc'))) if 'sleep' in c))\n"
    "print(numpy.random.rand(), random.random())",
]


def _run(cells, may_die=False, preload=PRELOAD, warm_up=""):
    nb = new_notebook(cells=[new_code_cell(code) for code in cells])
    workdir = tempfile.mkdtemp(prefix="hw4_student_")
    os.chmod(workdir, 0o777)
    client = NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3", shutdown_kernel="immediate")
    km = client.km = SandboxedKernelManager(kernel_name="python3", warm=True, warm_preload=preload, warm_up=warm_up)
    km.workdir = workdir
    try:
        client.execute()
    except DeadKernelError:
        if not may_die:
            raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    outputs = [out for cell in nb.cells for out in cell.outputs]
    assert all(out.output_type == "stream" for out in outputs), outputs
    return km, "".join(out.text for out in outputs).splitlines()


def test_nothing_of_one_warm_kernel_reaches_the_next():
    first_km, first = _run(FIRST)
    assert first_km._server is not None, "the kernel was not forked from a template"
    template = first_km._server.process.pid
    second_km, second = _run(SECOND)
    assert second_km._server is not None and second_km._server.process.pid == template, "not the same template"
    assert second[0] == "False 5.0", f"a module patched by the first kernel was patched in the second: {second[0]}"
    assert second[1] == "[]", f"files of the first kernel were visible to the second: {second[1]}"
    assert second[2] == "None", "an environment variable of the first kernel reached the second"
    assert second[3] == "[]", f"processes of the first kernel were alive next to the second: {second[3]}"
    first_draws, second_draws = first[0].split()[:2], second[4].split()
    assert first_draws[0] != second_draws[0], "numpy's random state was the same in both kernels"
    assert first_draws[1] != second_draws[1], "Python's random state was the same in both kernels"


def test_the_template_survives_a_kernel_that_kills_everything_it_can_see():
    """A kernel that stops and kills every pid it can name (itself too) leaves the template running
    for the next one."""
    # from a process of its own: the kernel stopping its own threads (their ids are pids too) would only hang itself
    first, _ = _run(["import os, signal\n"
          "child = os.fork()\n"
          "if child == 0:\n"
          "    for sig in (signal.SIGSTOP, signal.SIGKILL):\n"
          "        for pid in range(1, 400):\n"
          "            try:\n"
          "                os.kill(pid, sig) if pid != os.getpid() else None\n"
          "            except OSError:\n"
          "                pass\n"
          "    os._exit(0)\n"
          "os.waitpid(child, 0)"], may_die=True)
    server = first._server
    km, second = _run(["print(6 * 7)"])
    assert second == ["42"]
    assert km._server is server, "the template had to be replaced"


def test_the_template_warms_the_libraries_caches_before_it_forks():
    """The course's warm-up (``TrustedExecute.warm_up``) runs in the template, once: a kernel forked
    from it starts with matplotlib's mathtext grammar already built and the template's objects kept
    out of its garbage collections (``gc.freeze``), yet with no figure open in pyplot; the template
    is still a single thread (it forks) and reports nothing that failed."""
    km, lines = _run(["import gc\n"
                      "from matplotlib.mathtext import MathTextParser\n"
                      "print(MathTextParser._parser is not None, gc.get_freeze_count() > 100000)\n"
                      "import matplotlib.pyplot as plt\n"
                      "print(plt.get_fignums())"],
                     preload=PLOTTING, warm_up=COURSE_WARM_UP)
    assert km._server is not None, "the kernel was not forked from a template"
    assert km._server.ready["failed"] == {}, km._server.ready["failed"]
    assert km._server.ready["threads"] == 1, f"the template runs {km._server.ready['threads']} threads"
    assert lines[0] == "True True", f"(mathtext grammar built, template's objects frozen): {lines[0]}"
    assert lines[1] == "[]", f"the warm-up left a figure open in pyplot: {lines[1]}"


def test_a_kernel_draws_many_formulas_after_the_warm_up():
    """The warm-up draws with fonts, which are open files; a kernel closes every file it inherits and
    then opens its own sockets under the same numbers.  Fonts the warm-up left in matplotlib's caches
    closed a socket of the kernel when it pushed them out (after 50 new formulas): ZeroMQ aborted."""
    km, lines = _run(["import io\n"
                      "from matplotlib.figure import Figure\n"
                      "for round in range(3):\n"
                      "    figure = Figure()\n"
                      "    axes = figure.add_subplot()\n"
                      "    for i in range(80):\n"
                      "        axes.text(0.5, i / 80, f'$x_{{{i}}} + {round}$')\n"
                      "    figure.savefig(io.BytesIO(), format='png')\n"
                      "    print('drawn', round, flush=True)",
                      "print('alive')"],
                     preload=PLOTTING, warm_up=COURSE_WARM_UP)
    assert km._server is not None and km._server.ready["failed"] == {}
    assert lines == ["drawn 0", "drawn 1", "drawn 2", "alive"]


def test_a_template_that_keeps_a_file_open_refuses_to_fork():
    """A kernel closes every file it inherits: a template whose warm-up left one open says so and
    forks nothing (TrustedExecute then starts the kernel cold)."""
    import sys
    with pytest.raises(forkserver.ForkServerError, match=f"left files open: {os.path.realpath(sys.executable)}"):
        _run(["print(6 * 7)"], warm_up=f"import json\njson.kept_open = open({sys.executable!r}, 'rb')")


def test_a_template_that_refused_is_not_started_again_and_kernels_start_cold(monkeypatch):
    """A refusal is for good: the next kernels of that kind start cold at once, and no new template
    is started for each (its imports would cost every notebook 3-4 s before its cold kernels)."""
    import sys
    warm_up = f"import json\njson.kept_open_again = open({sys.executable!r}, 'rb')"
    with pytest.raises(forkserver.ForkServerError, match="left files open"):
        _run(["print(6 * 7)"], warm_up=warm_up)

    def start_again(self, *args):
        raise AssertionError("a new template was started after the refusal")
    monkeypatch.setattr(forkserver.ForkServer, "start", start_again)
    for _ in range(2):
        km, lines = _run(["print(6 * 7)"], warm_up=warm_up)
        assert km._server is None, "a kernel of a refused template was not started cold"
        assert lines == ["42"]


def test_a_warm_up_that_fails_is_reported_and_kernels_still_start():
    km, lines = _run(["print(6 * 7)"], warm_up="raise ValueError('no fonts in here')")
    assert km._server is not None, "the kernel was not forked from a template"
    assert km._server.ready["failed"] == {"warm-up": "ValueError: no fonts in here"}
    assert lines == ["42"]


WORKER = """
import os, shutil, sys, tempfile
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from course.protection import forkserver
from course.protection.sandbox import SandboxedKernelManager

def kernel():
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    workdir = tempfile.mkdtemp(prefix="hw4_student_")
    os.chmod(workdir, 0o777)
    client = NotebookClient(nb, timeout=60, kernel_name="python3", shutdown_kernel="immediate")
    km = client.km = SandboxedKernelManager(kernel_name="python3", warm=True, warm_preload=["numpy"])
    km.workdir = workdir
    try:
        client.execute()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    server = km._server
    print("RESULT", server.ready["instance"], "owner" if server.process is not None else "attached",
          nb.cells[0].outputs[0].text.strip(), flush=True)

for line in sys.stdin:   # one kernel per line read; the end of input ends the worker
    kernel()
"""


def test_workers_of_one_run_share_a_template_that_outlives_its_starter(tmp_path):
    """Two workers of a parallel run (SHARE_ENV set, as course.parallel does) get their kernels
    from one template: the second attaches to the one the first published.  The template goes on
    serving the second after the first has ended, and ends when the last worker has gone."""
    import subprocess
    import socket
    import sys
    import time
    env = {**os.environ, forkserver.SHARE_ENV: str(tmp_path)}

    def worker():
        return subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, text=True)

    def kernel(proc):
        proc.stdin.write("go\n")
        proc.stdin.flush()
        for line in proc.stdout:   # the kernels' own start-up chatter reaches the starter's stdout too
            if line.startswith("RESULT "):
                return line.split()[1:]
        raise AssertionError("the worker ended without a kernel")

    first, second = worker(), worker()
    try:
        a = kernel(first)
        b = kernel(second)
        assert a[1:] == ["owner", "42"] and b[1:] == ["attached", "42"], (a, b)
        assert a[0] == b[0], "the second worker started a template of its own"
        first.stdin.close()
        assert first.wait(timeout=60) == 0
        again = kernel(second)
        assert again == b, "the template did not outlive the worker that started it"
        second.stdin.close()
        assert second.wait(timeout=60) == 0
        published = [p for p in tmp_path.iterdir() if not p.name.endswith(".lock")]
        assert len(published) == 1
        deadline = time.monotonic() + 10
        while True:   # the last worker has gone: so has the template (nobody answers at its address)
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as probe:
                try:
                    probe.connect(str(published[0]))
                except OSError:
                    break
            assert time.monotonic() < deadline, "the template outlived every worker"
            time.sleep(0.2)
    finally:
        for proc in (first, second):
            proc.kill()
