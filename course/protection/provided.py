"""Which provided cells the trusted grading kernel has to run again.

``TrustedExecute`` runs every provided (locked, ungraded) cell twice: in the student's kernel, for
what the student sees, and in the trusted kernel, for the names the test cells use.  A plot cell
calls the student's functions, on the trusted side through the bridge, one round trip per call:
problem 3's cross-validation curve is 150 of them, and nothing the trusted side gets from it is
graded (the outputs kept are the student kernel's).

So a provided cell is run on the trusted side only when the grading needs it:

* it binds a name that a test cell, or another provided cell that is run, reads (a fixpoint over the
  whole notebook, order aside: a helper defined early may read a name bound later);
* or it may change state it does not own: a store into an attribute or item of a name it did not
  bind, ``global``/``nonlocal``/``del``, a method called on a name it did not bind that is not a
  module (``rng.random()``, ``data.sort()``), or a module function whose dotted name holds
  ``random`` or ``seed`` or starts with ``matplotlib``'s global settings (``plt.rc...``,
  ``plt.style``, ``mpl.use``), and anything the analysis cannot parse.

A student function called from a skipped cell still runs in the student's own kernel when the cell
runs there; what a skipped trusted re-run would have added is only the same calls again.  The
difference: a student function that changes its input arrays changed the trusted side's copy when
the cell was run there too; now only the student's own copy changes (the tests that check inputs
are left alone still catch it).  ``TrustedExecute.rerun_all_provided_cells`` turns this off.

May import: the standard library.
"""
import ast
import functools

# a module function whose name starts with one of these changes global state ...
_MODULE_EFFECTS = ("seed", "rc", "style", "use", "switch_backend", "set", "filter", "simplefilter", "reset",
                   "register", "shuffle")
# ... and so does any function of a ``random`` module but these, which make a generator of their own
_NEW_GENERATORS = {"default_rng", "Generator", "RandomState", "PCG64", "SeedSequence", "Philox", "MT19937"}
# methods that only read the object they are called on (numpy arrays, containers, strings)
_READ_ONLY_METHODS = {"max", "min", "sum", "mean", "std", "var", "argmin", "argmax", "argsort", "copy", "reshape",
                      "ravel", "flatten", "astype", "round", "tolist", "item", "any", "all", "dot", "transpose",
                      "cumsum", "prod", "squeeze", "clip", "nonzero", "get", "keys", "values", "items", "format",
                      "join", "split", "strip", "startswith", "endswith", "lower", "upper", "replace", "count",
                      "index", "conj", "diagonal", "trace", "view", "searchsorted", "ptp"}
_BUILTIN_EFFECTS = {"exec", "eval", "setattr", "delattr", "globals", "locals", "vars", "__import__", "compile"}


def _root(node):
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1]


def _parse(source):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def modules(source):
    """The names that ``import`` statements in ``source`` bind to modules."""
    tree = _parse(source)
    return set() if tree is None else {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                                       if isinstance(node, ast.Import) for alias in node.names}


def analyse(source, module_names=frozenset()):
    """(names bound, names read before bound, whether it may change state it does not own); ``module_names``: the
    names bound to modules anywhere in the notebook's provided cells."""
    tree = _parse(source)
    if tree is None:
        return set(), set(), True
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
    effects = False
    scoped = _scoped_warning_calls(tree, module_names)
    for node in ast.walk(tree):
        if node in scoped:
            continue
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Delete)):
            effects = True
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, ast.Store):
            effects |= _root(node) not in bound
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            effects |= node.func.id in _BUILTIN_EFFECTS
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _root(node.func)
            if root in module_names:
                parts = _chain(node.func)[1:]
                effects |= bool(parts) and (parts[-1].startswith(_MODULE_EFFECTS) or (
                    "random" in parts[:-1] and parts[-1] not in _NEW_GENERATORS))
            elif root not in bound:
                effects |= node.func.attr not in _READ_ONLY_METHODS
    return bound, _free(tree), effects


def _scoped_warning_calls(tree, module_names):
    """Warning-filter calls inside ``with warnings.catch_warnings():``, which undoes them on leaving."""
    scoped = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                isinstance(item.context_expr, ast.Call) and _chain(item.context_expr.func)[-1:] == ["catch_warnings"]
                for item in node.items):
            for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
                if (isinstance(inner, ast.Call) and _root(inner.func) in module_names
                        and _chain(inner.func)[-1:] in (["simplefilter"], ["filterwarnings"])):
                    scoped.add(inner)
    return scoped


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _stored(node):
    names = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and not isinstance(inner.ctx, ast.Load):
            names.add(inner.id)
        elif isinstance(inner, ast.arg):
            names.add(inner.arg)
        elif isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(inner.name)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in inner.names}
    return names


def _reads(node):
    """Names ``node`` reads from the notebook's namespace (a nested scope's own names left out)."""
    if isinstance(node, _SCOPES):
        loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        return loads - _stored(node)
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    return set().union(set(), *map(_reads, ast.iter_child_nodes(node)))


def _reads_before_bound(source):
    """``analyse(source)[1]`` alone, without the walks that find bound names and effects."""
    tree = _parse(source)
    return set() if tree is None else _free(tree)


def _free(tree):
    """Names the cell reads before its own statements bind them (in the order Python runs them)."""
    free, bound = set(), set()
    _free_block(tree.body, bound, free)
    return free


def _free_block(statements, bound, free):
    for st in statements:
        if isinstance(st, (ast.For, ast.AsyncFor)):
            free |= _reads(st.iter) - bound
            bound |= _stored(st.target)
            _free_block(st.body + st.orelse, bound, free)
        elif isinstance(st, (ast.If, ast.While)):
            free |= _reads(st.test) - bound
            _free_block(st.body + st.orelse, bound, free)
        elif isinstance(st, (ast.With, ast.AsyncWith)):
            for item in st.items:
                free |= _reads(item.context_expr) - bound
                if item.optional_vars is not None:
                    bound |= _stored(item.optional_vars)
            _free_block(st.body, bound, free)
        elif isinstance(st, ast.Try):
            _free_block(st.body, bound, free)
            for handler in st.handlers:
                free |= (_reads(handler.type) if handler.type else set()) - bound
                bound |= {handler.name} if handler.name else set()
                _free_block(handler.body, bound, free)
            _free_block(st.orelse + st.finalbody, bound, free)
        else:
            free |= _reads(st) - bound
            bound |= _stored(st) if not isinstance(st, _SCOPES) else {st.name}


def needed_on_trusted_side(provided, tests):
    """The keys of ``provided`` ({key: source}) the trusted kernel must run, given the test cells' sources."""
    return set(_needed(tuple(provided.items()), tuple(tests)))


@functools.lru_cache(maxsize=64)   # every submission of a notebook has the same provided and test cells
def _needed(provided_items, tests):
    provided = dict(provided_items)
    module_names = set().union(*map(modules, provided.values()))
    facts = {key: analyse(source, module_names) for key, source in provided.items()}
    needed = set().union(*map(_reads_before_bound, tests))   # of a test cell only what it reads counts
    run = {key for key, (_bound, _read, effects) in facts.items() if effects}
    while True:
        for key in run:
            needed |= facts[key][1]
        more = {key for key, (bound, _read, _effects) in facts.items() if key not in run and bound & needed}
        if not more:
            return frozenset(run)
        run |= more
