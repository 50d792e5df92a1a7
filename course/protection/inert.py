"""Student content arrives inert in every HTML page made from a submission.

A written answer is markdown, and markdown may hold raw HTML; an answer cell may display
``text/html``, ``image/svg+xml`` or ``application/javascript``.  nbconvert renders all of it as it
is, and nbgrader's two pages built from a graded notebook - the formgrader's manual-grading page
(the instructor's logged-in session, from where a script could call the formgrader's API) and the
student's feedback page - do so too: its ``formgrade`` and ``feedback`` templates pass written
answers through ``markdown2html`` unsanitised, even with ``HTMLExporter.sanitize_html``.

Why here, and why at render time: both pages are made by nbconvert's ``HTMLExporter``, configured
from ``nbgrader_config.py`` (``nbgrader generate_feedback`` and the formgrader's server extension
both build theirs from the course config), so two ``c.HTMLExporter`` settings cover both pages
with one piece of code.  The autograded notebook and the gradebook are never changed: the
instructor keeps the submission as it was, and grades cannot move.  This is a protection of the
people who read submissions, so it lives beside the protections of the machine that grades them.

    InertOutputs   preprocessor (``c.HTMLExporter.preprocessors``): in the copy being rendered,
                   code outputs keep only text, PNG/JPEG pictures, LaTeX, markdown and sanitised
                   HTML (pandas tables); scripts, SVG, widgets and output metadata that templates
                   put into attributes or iframes are dropped; raw cells are never emitted as HTML;
                   the student id and names the formgrader puts in its page are escaped.
    markdown2html  filter (``c.HTMLExporter.filters``): nbconvert's markdown rendering followed by
                   an allowlist sanitiser, so a written answer keeps its text (disallowed tags
                   appear as text), its ``$math$``, its tables and headings, and nothing runs.
    clean          the allowlist sanitiser itself (bleach): no script, no event handler, no
                   ``javascript:`` or remote image, no iframe, form, style or meta element.

May import: nbconvert, bleach, jinja2 (no course module: it runs inside the formgrader's server).
"""
import html
import re

import bleach
from bleach.css_sanitizer import CSSSanitizer
from jinja2 import pass_context
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.preprocessors import Preprocessor

TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div",
    "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
# Properties that can lay out or colour text but cannot fetch anything (no url() value is valid).
CSS_PROPERTIES = frozenset({
    "color", "background-color", "font-weight", "font-style", "text-align", "text-decoration",
    "vertical-align", "white-space", "width", "min-width", "max-width", "padding", "padding-left",
    "padding-right", "padding-top", "padding-bottom", "margin", "margin-left", "margin-right",
    "margin-top", "margin-bottom", "border", "border-collapse", "border-top", "border-bottom",
    "border-left", "border-right", "border-color", "border-width", "border-style",
})
_IMAGE_DATA = re.compile(r"^data:image/(?:png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*$", re.I)
_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def _local(url):
    """A relative URL on the same server: no scheme, no host (``//host``), no backslash tricks."""
    url = url.strip()
    return not _SCHEME.match(url) and not url.startswith(("//", "\\", "/\\")) and "\\" not in url[:2]


def _attribute(tag, name, value):
    """bleach's attribute filter: what each allowed element may carry."""
    if name in ("class", "title", "style"):
        return True
    if name == "id":
        return tag in _HEADINGS and bool(_SAFE_ID.match(value))  # markdown's heading anchors
    if tag == "a":
        if name == "href":
            scheme = _SCHEME.match(value)
            return value.strip().startswith("#") or (
                scheme.group(1).lower() in ("http", "https", "mailto") if scheme else _local(value))
        return name == "name" and bool(_SAFE_ID.match(value))
    if tag == "img":
        if name == "src":  # pictures inside the page only: no request leaves for another server
            return bool(_IMAGE_DATA.match(value)) or _local(value)
        return name in ("alt", "width", "height")
    if tag in ("td", "th"):
        return name in ("colspan", "rowspan", "align")
    if tag == "table":
        return name == "border"
    if tag in ("col", "colgroup"):
        return name == "span"
    if tag == "ol":
        return name == "start"
    return False


_CSS = CSSSanitizer(allowed_css_properties=CSS_PROPERTIES)


def clean(text):
    """``text`` as HTML with only the allowlisted elements and attributes; anything else is shown
    as text (``<script>`` reads as ``<script>``), comments removed."""
    return bleach.clean(str(text), tags=TAGS, attributes=_attribute, protocols=["http", "https", "mailto", "data"],
                        strip=False, strip_comments=True, css_sanitizer=_CSS)


@pass_context
def markdown2html(context, source):
    """nbconvert's markdown rendering (math kept for MathJax, attachments embedded), sanitised."""
    cell = context.get("cell", {}) or {}
    path = context.get("resources", {}).get("metadata", {}).get("path", "")
    renderer = IPythonRenderer(escape=False, attachments=cell.get("attachments", {}) or {}, path=path)
    return clean(MarkdownWithMath(renderer=renderer).render(str(source)))


# Output representations a page may show, and how.  Anything else (application/javascript,
# image/svg+xml, widget views, PDFs, ...) is dropped from the copy being rendered.
KEEP_AS_IS = ("text/plain", "text/latex")  # templates escape these
PICTURES = ("image/png", "image/jpeg")     # base64 only, shown as data: URIs
SANITISED = ("text/html",)                 # through clean()
RENDERED = ("text/markdown",)              # through the markdown2html filter above


class InertOutputs(Preprocessor):
    """The rendered copy of a notebook without anything that could run or fetch (see module doc)."""

    # The formgrader hands its template the student's id and names (and a path made from the id)
    # as they are, and the template writes them into the page unescaped: a folder name is enough.
    FORMGRADER_RESOURCES = ("student", "first_name", "last_name", "notebook_path")

    def preprocess(self, nb, resources):
        nb.metadata.pop("widgets", None)  # would load the widget renderer from a CDN
        for key in self.FORMGRADER_RESOURCES:
            if isinstance(resources.get(key), str):
                resources[key] = html.escape(resources[key])
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        nbg = cell.metadata.get("nbgrader")
        if isinstance(nbg, dict) and not _SAFE_ID.match(str(nbg.get("grade_id", "x"))):
            # nbgrader's templates put grade_id into attributes unescaped; source ids are plain names
            cell.metadata.pop("nbgrader")
        if cell.cell_type == "raw":
            for key in ("raw_mimetype", "format"):
                cell.metadata.pop(key, None)  # a raw cell is shown as nothing, never as HTML
        if cell.cell_type == "markdown" and "attachments" in cell:
            cell.attachments = {name: {m: d for m, d in bundle.items() if m in PICTURES and _BASE64.match(str(d))}
                                for name, bundle in (cell.attachments or {}).items()}
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                self._inert_output(output)
        return cell, resources

    @staticmethod
    def _inert_output(output):
        data, kept = output.get("data", {}), {}
        for mime, value in data.items():
            text = "".join(value) if isinstance(value, list) else value
            if not isinstance(text, str):
                continue
            if mime in KEEP_AS_IS or mime in RENDERED:
                kept[mime] = text
            elif mime in PICTURES and _BASE64.match(text):
                kept[mime] = text
            elif mime in SANITISED:
                kept[mime] = clean(text)
        if not kept:
            dropped = ", ".join(sorted(data)) or "nothing"
            kept["text/plain"] = f"[an output of type {dropped}, not shown in this page]"
        output["data"] = kept
        meta = {}  # only a picture's numeric size: templates put metadata into attributes
        for mime in PICTURES:
            size = output.get("metadata", {}).get(mime, {})
            size = {k: v for k, v in size.items() if k in ("width", "height")
                    and isinstance(v, (int, float)) and not isinstance(v, bool)} if isinstance(size, dict) else {}
            if size:
                meta[mime] = size
        output["metadata"] = meta
