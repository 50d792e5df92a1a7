"""Autograding that a submission cannot fool, stall or crash: nbgrader's Execute, split in two kernels.

``TrustedExecute`` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(nbgrader_config.py), so a plain ``nbgrader autograde hw4`` uses it.

* The student's kernel runs the answer cells, the provided cells and any cell
  the student added, inside a sandbox (``SandboxedKernelManager``): bubblewrap
  when available (no network, no view of the course folder, the gradebook,
  other students or the real /tmp; its processes die with it), limits on
  memory, disk, processes and CPU time, a clean environment without nbgrader's
  variables, and a scratch working folder that holds only the assignment's own
  helper files.  A cell that hits a limit gets a note saying so in plain words.
* A second, trusted kernel runs the provided cells and the test cells, with
  the student's answers brought in as proxies and plain data (bridge.py).  It
  has an address-space limit of its own (``trusted_memory_limit_mb``).
  Test cells never run next to student code, so patching numpy, IPython's
  hooks or the check helpers changes nothing that grades.
* Every student cell has nbgrader's time limit, the notebook a time budget and
  a cap on output; a kernel that dies leaves the cells after it with a reason,
  and the test cells still run (and fail with that reason).
* Test cells' stderr (a warning from correct code) is shown as ordinary
  output, so that nbgrader does not score a passing test zero for it.
* A failed test cell's traceback is the test's own lines and the message
  (tracebacks.py), not the check helpers' internals.
"""
import asyncio
import copy
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from contextlib import contextmanager

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbformat.v4.nbbase import random_cell_id
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, List, Unicode

from .. import notebooks, settings
from . import read_ahead
from .provided import needed_on_trusted_side
from .repair import RepairingExporter
from .sandbox import LimitedKernelManager, SandboxedKernelManager

# Draws one figure off-screen, as the inline backend does (Agg, PNG, a tight bounding box), with a log
# axis and TeX labels, and fits one estimator: no pyplot (no figure number taken), no OpenMP threads.
# It then lets go of the fonts it opened: each is an open file, and a kernel closes every file it
# inherits, so a font object kept in a cache would later close whatever the kernel opened under the
# same number (a ZeroMQ socket: the kernel aborts).  template.py refuses to fork if any file stays open.
WARM_UP = """\
import io
from matplotlib.figure import Figure
figure = Figure()
axes = figure.add_subplot(title="warm-up", xlabel="$x$", ylabel="$p(x)$", yscale="log")
axes.plot([1, 2, 3], [1, 10, 100], label="$\\mu_k$")
axes.legend()
figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")
del figure, axes
from matplotlib import font_manager, mathtext
mathtext.MathTextParser._parse_cached.cache_clear()
font_manager._get_font.cache_clear()
from sklearn.preprocessing import StandardScaler
StandardScaler().fit([[0.0], [1.0]])
"""


def _role(cell):
    meta = notebooks.nbgrader_meta(cell)
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    if meta.get("locked"):
        return "provided"
    return "student"  # a cell the student added


def _code_cell(source=""):
    """A code cell of the trusted kernel's copy of the notebook.  nbformat's ``new_code_cell`` checks
    each cell against the notebook schema (about a millisecond): 40 cells per notebook, each graded
    notebook, for cells that are built here and never written to disk."""
    return NotebookNode(id=random_cell_id(), cell_type="code", execution_count=None, metadata=NotebookNode(), outputs=[],
                        source=source)


class TrustedExecute(Execute):
    """nbgrader's Execute with test cells in a trusted kernel and student code in a sandboxed one."""

    call_timeout = Float(60.0, help="Seconds one call of a student's function may take in a test.").tag(config=True)
    notebook_budget = Float(300.0, help="Seconds of student code per notebook, over all cells and calls.").tag(config=True)
    max_output_bytes = Integer(200_000, help="Output kept per cell; the rest is dropped with a note.").tag(config=True)
    trusted_kernel_name = Unicode("python3", help="Kernel of the trusted side.").tag(config=True)
    show_student_stderr_in_tests = Bool(True, help="Show a test cell's stderr as stdout instead of failing it.").tag(config=True)
    trusted_memory_limit_mb = Integer(4096, help="Address-space limit of the trusted grading kernel, in MiB.").tag(config=True)
    warm_kernels = Bool(True, help=(
        "Fork both kernels from a template process (one per grading process) that has imported "
        "warm_preload, and stop them at once instead of politely: the same walls and grades, without "
        "two Python start-ups per notebook (sandbox.py, template.py).  False: every kernel starts cold.")).tag(config=True)
    brief_tracebacks = Bool(True, help=(
        "Write an error in a test cell as the lines of the notebook's own cells that led to it and the "
        "message (tracebacks.py), without the check helpers' frames and without IPython's syntax "
        "highlighting, which cost half of the trusted kernel's time.  False: IPython's own traceback.")).tag(config=True)
    rerun_all_provided_cells = Bool(False, help=(
        "Run every provided cell again in the trusted kernel.  False: only those the test cells need "
        "(provided.py): a plot cell that only calls student functions is not run a second time.")).tag(config=True)
    warm_preload = List(Unicode(), [
        "numpy", "scipy", "scipy.linalg", "scipy.special", "scipy.stats", "matplotlib", "matplotlib.pyplot",
        "matplotlib.backends.backend_agg", "contourpy", "sklearn", "sklearn.cluster", "sklearn.mixture",
        "IPython", "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
        "IPython.extensions.storemagic", "stack_data", "sqlite3",
        "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger"],
        help=("Modules the warm kernels' template imports once; a module missing here is imported by the kernel "
              "(those after scikit-learn are what every kernel imported as it started or ran its first cell). "
              "Not matplotlib's inline backend: it hooks into IPython when imported, so each kernel imports it.")).tag(config=True)
    read_ahead = Integer(1, help=(
        "How many of a submission's later notebooks run ahead, each in a thread of its own, while nbgrader "
        "is on this one (read_ahead.py): a notebook's two kernels take turns and keep one core busy, so the "
        "next notebook's can use another.  A notebook run ahead is used only if nbgrader then hands over that "
        "very notebook (else it runs again), so grades and feedback do not change.  0: one notebook at a "
        "time.")).tag(config=True)
    read_ahead_idle_cores = Float(0.0, help=(
        "0: the next notebooks start running ahead as soon as nbgrader starts this one.  Above 0: they all "
        "start once the machine has had that many cores idle over half a second while nbgrader is on this "
        "one, and one at once while nbgrader only waits for a run ahead (Linux's /proc/stat; elsewhere "
        "none starts on idle cores).  The parallel workers keep the cores busy and set "
        "it (grade_class.WORKER_NBGRADER_ARGS): their runs ahead use only the cores that the end of a run "
        "leaves idle.")).tag(config=True)
    warm_up = Unicode(WARM_UP, help=(
        "Python code the warm kernels' template runs once after its imports, before it forks any kernel: "
        "work whose result the libraries keep in caches of their own (matplotlib's mathtext grammar, fonts "
        "and PNG writer; scikit-learn's plugin lookup), which each kernel would otherwise redo at its first "
        "figure or fit.  It must not start threads or touch pyplot's state (the template forks).  "
        "Empty: no warm-up.")).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        # a slow machine must not turn late output after a time-out into a failed notebook
        self.raise_on_iopub_timeout = False
        self.iopub_timeout = 10

    # ---- output cap (the student's kernel) ----
    def output(self, outs, msg, display_id, cell_index):
        size = len(json.dumps(msg.get("content", {}), default=str))
        self._out_bytes[cell_index] = self._out_bytes.get(cell_index, 0) + size
        if self._out_bytes[cell_index] > self.max_output_bytes:
            if cell_index not in self._out_capped:
                self._out_capped.add(cell_index)
                outs.append(new_output("stream", name="stdout", text=(
                    f"\n[output cut: this cell printed more than {self.max_output_bytes} bytes]\n")))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _source_files(self, resources):
        """The assignment's own non-notebook files, from the source folder (never the student's)."""
        coursedir = CourseDirectory(config=self.config)
        assignment = resources.get("nbgrader", {}).get("assignment") or settings.current().assignment
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        return source, [p for p in source.iterdir() if p.is_file() and p.suffix != ".ipynb"]

    def _answer_names(self, source_dir, notebook_name):
        path = source_dir / f"{notebook_name}.ipynb"
        names = []
        for kind, text, cell_names in notebooks.answer_cells(notebooks.read(path)).values():
            names += cell_names
        return names

    def preprocess(self, nb, resources=None, km=None):
        if self.read_ahead > 0 and isinstance(self.parent, RepairingExporter) and resources:
            submission = resources.get("metadata", {}).get("path")
            # first: the next notebooks run while this one is waited for
            with self._reading_ahead(submission, resources) as start_one:
                done = read_ahead.take(submission, resources.get("unique_key"), nb, self.log,
                                       while_waiting=start_one)
                if done is not None:
                    self.log.info("Using %s as it was run ahead", resources.get("unique_key"))
                    return done, resources
                return self._execute(nb, resources, km)
        return self._execute(nb, resources, km)

    @contextmanager
    def _reading_ahead(self, submission, resources):
        """The submission's next notebooks run ahead meanwhile: all ``read_ahead`` of them at once, or
        with ``read_ahead_idle_cores`` all once that many cores have been idle for half a second.
        Yields a function that starts the next one at once (for when this process only waits)."""
        resources = copy.deepcopy(resources)   # nbgrader's is this notebook's, and changes as it runs
        start_one = lambda: self._read_ahead_one(submission, resources)  # noqa: E731
        if self.read_ahead_idle_cores <= 0:
            while start_one():
                pass
            yield start_one
            return
        gate = read_ahead.IdleGate(self.read_ahead_idle_cores, start_one)
        gate.start()
        try:
            yield start_one
        finally:
            gate.stop()

    def _read_ahead_one(self, submission, resources):
        """Start the first of the submission's next ``read_ahead`` notebooks not yet started, as nbgrader
        will hand it over; False when there is none."""
        info = resources.get("nbgrader", {})
        coursedir = CourseDirectory(config=self.config)
        if coursedir.notebook_id != "*" or not info.get("student") or not submission:
            return False
        folder = Path(coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"]))
        current = f"{resources.get('unique_key')}.ipynb"
        for path in sorted(p for p in folder.glob("*.ipynb") if p.name > current)[:self.read_ahead]:
            if read_ahead.started(submission, path.stem):
                continue
            theirs = copy.deepcopy(resources)
            theirs.update(unique_key=path.stem, output_files_dir=f"{path.stem}_files")
            theirs.setdefault("metadata", {})["name"] = path.stem
            theirs.setdefault("nbgrader", {})["notebook"] = path.stem
            rebuilt = self.parent.rebuilt(str(path), theirs)
            if rebuilt is not None and read_ahead.start(submission, path.stem, rebuilt[0],
                                                        lambda nb, theirs=theirs: self._run_ahead(nb, theirs)):
                return True
        return False

    def _run_ahead(self, nb, resources):
        """Execute ``nb`` with a TrustedExecute of its own (this one is busy with nbgrader's notebook)."""
        runner = type(self)(config=self.config, parent=self.parent)
        runner.read_ahead = 0
        return runner.preprocess(nb, resources)[0]

    def _execute(self, nb, resources, km):
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._out_bytes, self._out_capped = {}, set()
        source_dir, helper_files = self._source_files(self.resources)
        names = self._answer_names(source_dir, self.resources.get("unique_key", ""))
        student_dir = Path(tempfile.mkdtemp(prefix="hw4_student_"))
        trusted_dir = Path(tempfile.mkdtemp(prefix="hw4_trusted_"))
        for path in helper_files:
            shutil.copy(path, student_dir)
            shutil.copy(path, trusted_dir)
        os.chmod(student_dir, 0o777)
        try:
            for attempt in range(3):  # a kernel that dies while starting (a loaded machine) gets two more tries
                self._started = False
                try:
                    # a last try starts cold, should the warm kernels' template be what fails
                    self._run_both(nb, names, student_dir, trusted_dir, warm=self.warm_kernels and attempt < 2)
                    break
                except Exception:
                    if self._started or attempt == 2:
                        raise
                    self.log.warning("A kernel failed to start; trying again")
                    self.km = None
        finally:
            shutil.rmtree(student_dir, ignore_errors=True)
            shutil.rmtree(trusted_dir, ignore_errors=True)
        return self.nb, self.resources

    def _run_both(self, nb, names, student_dir, trusted_dir, warm):
        self.kernel_manager_class = SandboxedKernelManager
        self.shutdown_kernel = "immediate" if warm else "graceful"
        self.km = self.create_kernel_manager()
        self.km.warm, self.km.warm_preload, self.km.warm_up = warm, list(self.warm_preload), self.warm_up
        self.km.workdir = str(student_dir)
        self.km.helper_files = [str(p) for p in sorted(student_dir.iterdir()) if p.is_file()]
        shadow_nb = NotebookNode(cells=[_code_cell("") for _ in nb.cells], metadata={},
                                 nbformat=4, nbformat_minor=5)  # nbclient stores cells back by index
        # a test cell may call student code many times (each call bounded by call_timeout, all of them
        # by notebook_budget): the trusted kernel's own cell limit is only a safety net above that
        trusted = NotebookClient(shadow_nb,
                                 timeout=int(self.notebook_budget + 2 * self.call_timeout + self.timeout),
                                 kernel_name=self.trusted_kernel_name,
                                 allow_errors=True, interrupt_on_timeout=True,
                                 error_on_timeout=self.error_on_timeout,
                                 shutdown_kernel=self.shutdown_kernel,
                                 # no test cell awaits: IPython need not compile each cell again to find out
                                 extra_arguments=["--InteractiveShell.autoawait=False"],
                                 resources={"metadata": {"path": str(trusted_dir)}})
        trusted.km = LimitedKernelManager(config=self.config, kernel_name=self.trusted_kernel_name,
                                          memory_limit_mb=self.trusted_memory_limit_mb, warm=warm,
                                          warm_preload=[*self.warm_preload, "course.protection.bridge",
                                                        "course.protection.tracebacks"], warm_up=self.warm_up)
        env = {**os.environ, "MPLBACKEND": "Agg"}
        env = {k: v for k, v in env.items() if not k.startswith("NBGRADER")}
        with self._both_kernels(trusted, env):
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            connection = self.km.get_connection_info(session=False)  # the sockets as the host sees them
            connection["key"] = connection["key"].decode()
            setup = _code_cell(
                "import course.protection.bridge as __hw4_bridge\n"
                f"__hw4_kernel = __hw4_bridge.StudentKernel({connection!r}, "
                f"{self.call_timeout!r}, {self.notebook_budget!r}, {self.km.kernel_socket_dir()!r})\n"
                f"__hw4_bridge.install(get_ipython(), __hw4_kernel, {names!r})\n"
                + ("import course.protection.tracebacks as __hw4_tracebacks\n"
                   "__hw4_tracebacks.install(get_ipython())\n" if self.brief_tracebacks else ""))
            trusted.execute_cell(setup, 0, store_history=False)
            self._raise_if_failed(setup, "could not connect the grading kernel to the student's kernel")
            self._started = True
            broken, spent = None, 0.0
            trusted_cells = self._trusted_cells(nb)
            skipped = 0  # provided cells not run again: test cells keep the numbers they had before
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                role = _role(cell)
                if role != "test":
                    broken, spent = self._run_student(cell, index, broken, spent)
                if role == "provided" and index not in trusted_cells:
                    skipped += 1
                if index in trusted_cells:
                    if broken:
                        self._trusted_quiet(trusted, f"__hw4_kernel.mark_broken({broken!r})")
                    # the answers are synced into the trusted kernel as the cell starts (bridge.install)
                    shadow = _code_cell(cell.source)
                    trusted.execute_cell(shadow, index, store_history=True)
                    if role == "test":
                        cell.outputs = self._clean_test_outputs(shadow.outputs)
                        count = shadow.get("execution_count")
                        cell.execution_count = count + skipped if isinstance(count, int) else count

    @contextmanager
    def _both_kernels(self, trusted, env):
        """The student's and the trusted kernel, started side by side and both stopped at the end."""
        try:
            self._start_both(trusted, env)
            yield
        finally:
            self._stop_both(trusted)

    async def _async_start_both(self, trusted, env):
        await asyncio.gather(self.async_start_new_kernel(), trusted.async_start_new_kernel(env=env))
        await asyncio.gather(self.async_start_new_kernel_client(), trusted.async_start_new_kernel_client())

    async def _async_stop_both(self, trusted):
        await asyncio.gather(*(client._async_cleanup_kernel() for client in (self, trusted)
                               if client.km is not None), return_exceptions=True)

    _start_both = run_sync(_async_start_both)
    _stop_both = run_sync(_async_stop_both)

    def _trusted_cells(self, nb):
        """Indices of the cells the trusted kernel runs: every test cell, and the provided cells they need."""
        roles = {i: _role(c) for i, c in enumerate(nb.cells) if c.cell_type == "code"}
        tests = {i for i, role in roles.items() if role == "test"}
        provided = {i: nb.cells[i].source for i, role in roles.items() if role == "provided"}
        if self.rerun_all_provided_cells:
            return tests | set(provided)
        return tests | needed_on_trusted_side(provided, [nb.cells[i].source for i in tests])

    def _run_student(self, cell, index, broken, spent):
        """Run one cell in the student's kernel; returns (why it is broken or None, seconds spent)."""
        if broken or spent > self.notebook_budget:
            broken = broken or (f"the time budget of this notebook ({self.notebook_budget:.0f} s) was used up")
            cell.outputs = [new_output("error", ename="NotRun", evalue=f"not run: {broken}", traceback=[
                f"NotRun: this cell was not run because {broken}"])]
            return broken, spent
        start = time.monotonic()
        try:
            self.execute_cell(cell, index, store_history=True)
        except DeadKernelError:
            why = self.km.exit_reason() if hasattr(self.km, "exit_reason") else None
            broken = (f"your notebook's kernel was stopped: {why}" if why else
                      "your notebook's kernel died (in this cell or in a function it called)")
        except Exception as exc:  # a time-out nbclient could not recover from, and the like
            if self.km.is_alive():
                cell.outputs.append(new_output("error", ename=type(exc).__name__, evalue=str(exc)[:500],
                                               traceback=[f"{type(exc).__name__}: {str(exc)[:500]}"]))
            else:
                broken = f"your notebook's kernel stopped ({type(exc).__name__})"
        note = self._limit_note(cell.outputs)
        if note:
            cell.outputs.append(new_output("stream", name="stdout", text=f"\n[grader: {note}]\n"))
        if broken:
            cell.execution_count = None  # whether the dying kernel announced it is a race: never keep it
            cell.outputs.append(new_output("error", ename="KernelDied", evalue=broken,
                                           traceback=[f"KernelDied: {broken}"]))
        return broken, spent + time.monotonic() - start

    def _limit_note(self, outputs):
        """A plain sentence for an error that means the cell ran into one of the sandbox's limits."""
        for out in outputs:
            if out.get("output_type") != "error":
                continue
            ename, evalue = out.get("ename", ""), str(out.get("evalue", ""))
            if "No space left on device" in evalue or "Disk quota exceeded" in evalue:
                return (f"this cell stopped because your notebook used more disk space than allowed "
                        f"({self.km.disk_limit_mb} MiB for /tmp and the working folder together)")
            if "Resource temporarily unavailable" in evalue or "can't start new thread" in evalue:
                return (f"this cell stopped because your notebook started more processes or threads "
                        f"than allowed ({self.km.process_limit} at once)")
            if ename == "MemoryError":
                return (f"this cell stopped because your notebook used more memory than allowed "
                        f"({self.km.memory_limit_mb} MiB)")
        return None

    def _trusted_quiet(self, trusted, code):
        cell = _code_cell(code)
        trusted.execute_cell(cell, 0, store_history=False)
        self._raise_if_failed(cell, "the grading kernel failed")

    @staticmethod
    def _raise_if_failed(cell, what):
        for out in cell.outputs:
            if out.output_type == "error":
                raise RuntimeError(f"{what}: {out.ename}: {out.evalue}")

    def _clean_test_outputs(self, outputs):
        cleaned = []
        for out in outputs:
            if self.show_student_stderr_in_tests and out.output_type == "stream" and out.name == "stderr":
                out = new_output("stream", name="stdout", text=out.text)
            cleaned.append(out)
        return cleaned
