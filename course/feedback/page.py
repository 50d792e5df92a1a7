"""The feedback page as a student reads it: math typeset without a network, failures that wrap.

nbgrader writes a feedback page with nbconvert's ``HTMLExporter``, whose pages typeset math with
MathJax loaded from a CDN: in an exam room or on a hub without internet a student sees raw
``$\\mu_k$``.  A feedback page is also a single file that travels (``release_feedback`` copies the
HTML alone into the exchange), so a local MathJax beside it would not follow it.  ``FeedbackPage``
(``c.GenerateFeedback.exporter_class``) therefore writes the math into the page as MathML when the
page is made (latex2mathml, pure Python; browsers render MathML natively), and the page carries
no script at all and fetches nothing.

Which ``$`` is math is decided by nbconvert's own markdown rendering, whatever ``markdown2html``
filter the course configures (a sanitising one included): it leaves each math span in the
rendered markdown as ``$...$``, ``$$...$$`` or ``\\begin{env}...\\end{env}`` text, and only that
text, in rendered markdown cells, outside code, is typeset.  An escaped dollar (``\\$5``) is kept
out of the way while the markdown is rendered, so currency stays currency; ``$`` in code and in
outputs is never touched.  Converted MathML is kept only when it holds nothing but MathML
presentation elements and attributes (a ``\\text{<img ...>}`` in a written answer stays text);
TeX that cannot be converted is left as it was written.

The page's own style makes a failure message wrap at the page's width instead of scrolling
sideways (the visible test code and the plots fit the page too), and keeps bold symbols
bold (MathML Core renders ``mathvariant`` only as ``normal``).

The formgrader's manual-grading page is made by the same exporter class inside the Jupyter
server, which serves MathJax itself (jupyter-server-mathjax): ``template_basedirs`` puts
``templates/formgrade/mathjax.html.j2`` first on its template path, which loads that MathJax
instead of the CDN's.

May import: nbconvert, nbgrader, latex2mathml, bs4 (no course module: it runs inside nbgrader's
commands and the formgrader's server).
"""
import re
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString
from jinja2 import pass_context
from latex2mathml.converter import convert
from nbconvert.exporters import HTMLExporter

# Template folders to put first on HTMLExporter's path (c.HTMLExporter.extra_template_basedirs):
# the course's (templates/formgrade/mathjax.html.j2: the formgrader's MathJax from the Jupyter
# server, jupyter-server-mathjax, not a CDN), then nbgrader's own, which the setting replaces.
TEMPLATES = Path(__file__).parent / "templates"


def template_basedirs():
    """The course's template folder and nbgrader's formgrader templates, in that order."""
    import nbgrader.server_extensions.formgrader as formgrader
    return [str(TEMPLATES), str(Path(formgrader.__file__).parent / "templates")]


# A backslash-escaped dollar in a markdown source, hidden from the math rules while markdown is
# rendered (letters and digits only: markdown and sanitisers leave it alone), then put back.
ESCAPED_DOLLAR = "ZcourseEscapedDollarZ"
# Math as nbconvert's renderer leaves it in rendered markdown: display, environment, inline
# (the inline rule is nbconvert's own: no $ or backslash right before either delimiter).
MATH = re.compile(
    r"\$\$(?P<display>.+?)\$\$"
    r"|(?P<env>\\begin\{(?P<name>[a-z]*\*?)\}.*?\\end\{(?P=name)\})"
    r"|(?<![$\\])\$(?P<inline>.+?)(?<![$\\])\$", re.S)
# Elements never looked into: code keeps its dollars, math is done.
# Rendered markdown cells in nbconvert's classic (nbgrader's feedback) and lab templates.
RENDERED_MARKDOWN = frozenset({"text_cell_render", "jp-RenderedMarkdown"})
SKIP = frozenset({"code", "pre", "kbd", "samp", "script", "style", "textarea", "math"})

MATHML_TAGS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac",
    "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mstyle", "mpadded",
    "mphantom", "menclose", "mfenced", "merror", "semantics", "annotation", "mmultiscripts",
    "mprescripts", "none",
})
MATHML_ATTRIBUTES = frozenset({
    "xmlns", "display", "mathvariant", "stretchy", "fence", "separator", "separators", "open",
    "close", "lspace", "rspace", "accent", "accentunder", "columnalign", "columnlines",
    "columnspacing", "rowalign", "rowlines", "rowspacing", "frame", "framespacing", "equalrows",
    "equalcolumns", "minsize", "maxsize", "movablelimits", "symmetric", "largeop", "form", "width",
    "height", "depth", "linethickness", "scriptlevel", "displaystyle", "notation", "align",
    "encoding", "mathsize", "mathcolor", "mathbackground",
})

STYLE = """
/* course: failure messages and printed output wrap at the page's width */
div.output_area pre, div.output_subarea pre, div.output_text pre {
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; overflow-x: visible;
}
div.output_subarea { max-width: 100%; min-width: 0; overflow-x: visible; }
div.output_subarea img { max-width: 100%; height: auto; }
/* the visible part of a test cell (its case) is read too: code wraps rather than being cut off */
div.input_area pre { white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; }
div.output_area { flex-wrap: nowrap; }
div.output_error pre { border-left: 4px solid #c62828; padding-left: .6em; }
/* course: math is MathML; bold symbols stay bold where the browser ignores mathvariant */
math { font-size: 1.08em; }
math[display="block"] { display: block math; margin: .6em 0; overflow-x: auto; }
[mathvariant="bold"] { font-weight: bold; font-style: normal; }
[mathvariant="bold-italic"] { font-weight: bold; font-style: italic; }
@media (max-width: 900px) {
  div.prompt { min-width: 0; width: 0; padding: 0; visibility: hidden; }
  .container, #notebook-container { width: auto; padding-left: 8px; padding-right: 8px; }
}
"""


def _safe(node):
    """True when every element and attribute of a parsed MathML tree is presentation MathML."""
    for element in [node, *node.find_all(True)]:
        if element.name not in MATHML_TAGS or any(a not in MATHML_ATTRIBUTES for a in element.attrs):
            return False
    return True


def mathml(tex, display=False):
    """``tex`` as a MathML element (a bs4 Tag), or None when it cannot be converted safely."""
    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception:  # latex2mathml raises its own and Python's errors on TeX it does not know
        return None
    tree = BeautifulSoup(markup, "html.parser").find("math")
    return tree if tree is not None and _safe(tree) else None


def _typeset_text(node, soup):
    """Replace one text node by text and MathML elements; the number of math spans typeset."""
    text, pieces, last, done = str(node), [], 0, 0
    for match in MATH.finditer(text):
        if match.group("display") is not None:
            element = mathml(match.group("display"), display=True)
        elif match.group("env") is not None:
            element = mathml(match.group("env"), display=True)
        else:
            element = mathml(match.group("inline"))
        if element is None:
            continue
        pieces += [text[last:match.start()], element]
        last, done = match.end(), done + 1
    if done:
        pieces.append(text[last:])
        for piece in pieces:
            node.insert_before(NavigableString(piece) if isinstance(piece, str) else piece)
        node.extract()
    return done


def _in_rendered_markdown(node):
    """A text node of a rendered markdown cell, outside code and outside math already typeset."""
    parents = list(node.parents)
    return not any(p.name in SKIP for p in parents) and \
        any(set(p.get("class") or []) & RENDERED_MARKDOWN for p in parents)


def typeset(page):
    """The page with rendered markdown's math as MathML, escaped dollars back, no script, the style."""
    soup = BeautifulSoup(page, "html.parser")
    for script in soup.find_all("script"):
        script.decompose()  # MathJax from a CDN and its configuration; the page needs no script
    for node in list(soup.find_all(string=True)):
        if ("$" in node or "\\begin" in node) and _in_rendered_markdown(node):
            _typeset_text(node, soup)
    for node in list(soup.find_all(string=lambda s: ESCAPED_DOLLAR in s)):
        in_code = any(parent.name in SKIP for parent in node.parents)
        node.replace_with(node.replace(ESCAPED_DOLLAR, "\\$" if in_code else "$"))
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            if isinstance(value, str) and ESCAPED_DOLLAR in value:
                element[name] = value.replace(ESCAPED_DOLLAR, "$")
    style = soup.new_tag("style")
    style.string = STYLE
    (soup.head or soup).append(style)
    return str(soup)


def escaped_dollars_kept(markdown2html):
    """A markdown2html filter that renders ``\\$`` as a plain dollar the math rules never see."""
    needs_context = getattr(markdown2html, "jinja_pass_arg", None) is not None

    @pass_context
    def render(context, source):
        hidden = str(source).replace("\\$", ESCAPED_DOLLAR)
        return markdown2html(context, hidden) if needs_context else markdown2html(hidden)
    return render


class FeedbackPage(HTMLExporter):
    """nbgrader's feedback page (its ``feedback`` template, the course's filters and preprocessors),
    made readable offline: math as MathML, no script, failure messages that wrap."""

    def _create_environment(self):
        environment = super()._create_environment()
        environment.filters["markdown2html"] = escaped_dollars_kept(environment.filters["markdown2html"])
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return typeset(output), resources
