"""How an error in a cell of the trusted kernel is written into the autograded notebook.

Why: IPython's own traceback of a failing test cell highlights the source of every frame with
pygments (through stack_data), and IPython 9 formats it a second time to keep it in its history.
Grading the three examples, that was half of the trusted kernel's CPU time (py-spy: 54 %, about
5 s of 9), spent on a text that helps nobody: the check helpers' internals, the path of a scratch
folder, and "Cell In[15]" over a cell the notebook numbers [16] (the trusted kernel does not run
the provided cells the tests do not need, so its counter runs behind the notebook's).

What a failing cell shows instead (the instructor sees it in the formgrader; a student's feedback
keeps only the message, course/feedback/plain_feedback.py): the lines of the notebook's own cells
that led to the error - the cell itself first, then any helper defined in an earlier cell - each
with the lines around it, then the error's type and message.  Frames in modules (the check
helpers, the bridge, numpy) are left out: a check's message already says what was expected and what
came back.  No syntax highlighting, so the text costs a few lines of Python, not a lexer.

``install`` uses IPython's ``set_custom_exc``; the text is attached to the exception as
``_render_traceback_``, the method IPython uses, when an exception has one, both to show the
exception and to store it.  KeyboardInterrupt (a cell's time limit) is not an ``Exception`` and
keeps IPython's own traceback.
"""
import itertools
import linecache

RED, GREEN, RESET = "\x1b[31m", "\x1b[32m", "\x1b[39m"
RULE = "-" * 75
CONTEXT = 2  # lines shown before and after the failing statement


def install(shell):
    """Show every ``Exception`` raised in ``shell``'s cells with :func:`render`."""
    def show(shell, etype, value, tb, tb_offset=None):
        try:
            lines = render(etype, value, tb, shell.user_ns)
            value._render_traceback_ = lambda: lines
        except Exception:  # noqa: BLE001 - one that cannot be printed or takes no attribute: IPython's own text
            pass
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((Exception,), show)


def render(etype, value, tb, cell_globals):
    """The traceback as a list of lines: the frames whose code ran in ``cell_globals`` (the cells'
    namespace), innermost last, then the exception's type and message."""
    frames = [(t.tb_frame, _span(t)) for t in _walk(tb) if t.tb_frame.f_globals is cell_globals]
    lines = [f"{RED}{RULE}{RESET}", f"{RED}{etype.__name__:<42}{RESET}Traceback (most recent call last)"]
    this_cell = frames[0][0].f_code.co_filename if frames else None
    for frame, (first, last) in frames:
        code = frame.f_code
        where = "This cell" if code.co_filename == this_cell else "An earlier cell"
        inside = "" if code.co_name == "<module>" else f", in {code.co_name}"
        lines.append(f"{where}, line {first}{inside}")
        source = linecache.getlines(code.co_filename)
        shown = range(max(1, first - CONTEXT), min(len(source), last + CONTEXT) + 1)
        width = len(str(shown.stop - 1)) if shown else 1
        for number in shown:
            text = source[number - 1].rstrip("\n")
            mark = f"{GREEN}---> {RESET}" if first <= number <= last else "     "
            lines.append(f"{mark}{number:>{width}} {text}")
        lines.append("")
    message = str(value)
    lines.append(f"{RED}{etype.__name__}{RESET}" + (f": {message}" if message else ""))
    lines += [str(note) for note in getattr(value, "__notes__", None) or ()]
    return lines


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _span(tb):
    """The first and last line of the statement a frame was executing (one line when unknown)."""
    line = tb.tb_lineno
    try:
        start, end, _, _ = next(itertools.islice(tb.tb_frame.f_code.co_positions(), tb.tb_lasti // 2, None))
    except (AttributeError, StopIteration, ValueError, TypeError):
        return line, line
    start = start or line
    return start, max(end or start, start)
