"""A Content-Security-Policy on the formgrader's pages: a student's markup that slipped past
``course.protection.inert`` still cannot run there.

Why a server extension: jupyter_server has one Content-Security-Policy for every page
(``ServerApp.tornado_settings["headers"]``), and JupyterLab needs inline script of its own, so a
policy that forbids a submission's inline script can only be given to the formgrader's URLs.  The
extension adds a tornado output transform (public API, ``Application.add_transform``) that
rewrites the header of responses under ``BASE/formgrader/`` and nothing else.  It is enabled by
``jupyter-config/jupyter_server_config.d/course.json``, which the course package installs into
the environment's Jupyter config (pyproject.toml), so the plain ``jupyter lab`` of the
instructor's guide has it.

Two policies:

pages        every formgrader page.  Scripts run only with this response's nonce (given here to
             the ``<script>`` elements of the page's ``<head>``, which nbgrader's templates write
             and no submission reaches) or when a nonced script loads them ('strict-dynamic':
             MathJax); nbgrader's constant inline scripts and ``onclick`` attributes (read from
             its formgrader templates at start-up) are allowed by their hashes.
             No inline event handler, ``javascript:`` URL, remote image, font, frame, form target
             or ``<base>`` of a submission works; styles may be inline (nbconvert's CSS is).
files        what ``/formgrader/submissions/ID/PATH`` serves straight from a student's autograded
             folder (a picture a written answer shows, but also any HTML or SVG file a student
             put there): sandboxed, no script at all, as jupyter_server does for ``/files/``.

May import: tornado, nbgrader (it runs inside the instructor's server; no course module).
"""
import base64
import hashlib
import re
import secrets
from pathlib import Path

from tornado.web import OutputTransform

_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"\son[a-z]+=\"([^\"]*)\"", re.I)


def formgrader_inline_code(template_dir=None):
    """(inline scripts, inline event handlers) of nbgrader's formgrader templates that hold no
    template expression: the same text in every page, so a hash of each allows exactly it."""
    if template_dir is None:
        from nbgrader.server_extensions.formgrader.handlers import template_path as template_dir
    scripts, handlers = set(), set()
    for path in sorted(Path(template_dir).rglob("*")):
        if path.suffix in (".tpl", ".j2"):
            text = path.read_text()
            scripts.update(s for s in _INLINE_SCRIPT.findall(text) if "{{" not in s and "{%" not in s)
            handlers.update(h for h in _HANDLER.findall(text) if "{{" not in h and "{%" not in h)
    return sorted(scripts), sorted(handlers)


# nbconvert's MathJax (the formgrader's math) comes from this server: its fonts may be loaded.
MATHJAX_ORIGIN = "https://cdnjs.cloudflare.com"
_NAVIGATION = r"(?:next_incorrect|prev_incorrect|next|prev)/?"


def _hash(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_policy(nonce, scripts=(), handlers=()):
    """The policy of one formgrader page: its nonce, and the hashes of nbgrader's constant scripts
    (``scripts``) and event handlers (``handlers``)."""
    script = " ".join(["'nonce-" + nonce + "'", "'strict-dynamic'", "'unsafe-hashes'",
                       *map(_hash, [*scripts, *handlers])])
    return "; ".join([
        "default-src 'self'", f"script-src {script}", "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:", f"font-src 'self' data: {MATHJAX_ORIGIN}", "connect-src 'self'",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-src 'self'",
        "frame-ancestors 'self'"])


FILES_POLICY = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; "
                "frame-ancestors 'self'")
_SCRIPT_TAG = re.compile(rb"<script\b", re.I)
_BODY = re.compile(rb"<body\b", re.I)


def with_nonce(page, nonce):
    """``page`` (bytes) with ``nonce`` on every ``<script>`` before ``<body``: the template's own."""
    body = _BODY.search(page)
    end = body.start() if body else 0  # a page without <body>: no script of it is trusted
    head = _SCRIPT_TAG.sub(b'<script nonce="' + nonce.encode() + b'"', page[:end])
    return head + page[end:]


class FormgraderPolicy(OutputTransform):
    """The tornado transform: a policy for responses under ``base_url + 'formgrader/'``."""

    base_url = "/"
    scripts, handlers = (), ()

    def __init__(self, request):
        super().__init__(request)
        path = request.path
        prefix = self.base_url.rstrip("/") + "/formgrader/"
        self.kind = None
        if path.startswith(prefix):
            rest = path[len(prefix):]
            files = re.fullmatch(rf"submissions/(?!components/)[^/]+/(?!{_NAVIGATION}$).+", rest)
            self.kind = "files" if files else "page"

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if self.kind == "files":
            headers["Content-Security-Policy"] = FILES_POLICY
            headers["X-Content-Type-Options"] = "nosniff"
        elif self.kind == "page":
            nonce = secrets.token_urlsafe(18)
            headers["Content-Security-Policy"] = page_policy(nonce, self.scripts, self.handlers)
            if headers.get("Content-Type", "").startswith("text/html"):
                # a fresh nonce each time: a page must never come back from the browser's cache
                # (tornado's Etag is of the page without nonces, so a 304 would pair an old page
                # with this header's nonce, and none of the formgrader's scripts would run)
                headers.pop("Etag", None)
                headers["Cache-Control"] = "no-store"
                if finishing and "Content-Encoding" not in headers:
                    chunk = with_nonce(chunk, nonce)
                    if "Content-Length" in headers:
                        headers["Content-Length"] = str(len(chunk))
        return status_code, headers, chunk


def _jupyter_server_extension_points():
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp):
    """Add the transform to the server's tornado application (after nbgrader's formgrader)."""
    web_app = serverapp.web_app
    scripts, handlers = formgrader_inline_code()
    policy = type("FormgraderPolicy", (FormgraderPolicy,), {"base_url": web_app.settings.get("base_url", "/"),
                                                             "scripts": scripts, "handlers": handlers})
    web_app.transforms.insert(0, policy)  # Application.add_transform, but before any compression
    serverapp.log.info("course: Content-Security-Policy on %sformgrader/", policy.base_url)
