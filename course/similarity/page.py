"""The similarity page an instructor reads: ranked pairs, then each top pair's matching passages side by side.

The page shows student code, and student code is untrusted text: every piece of it goes through
``html.escape``, the page has no script of its own, and its Content-Security-Policy forbids any
script, frame or remote load, so nothing a student wrote can run in the instructor's browser or
reach the network.  It is one file, styled inline, readable offline.

May import: course.similarity.compare (its Pair).
"""
import html
from datetime import datetime, timezone

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-top: 1px solid #ccc; padding-top: 1em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.passages { width: 100%; table-layout: fixed; }
table.passages td { width: 50%; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 0.85em; background: #fff8e1; }
.note { color: #555; max-width: 60em; }
.high { background: #ffe0e0; }
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def percent(share):
    return f"{100 * share:.0f}%"


def render(pairs, assignment, top=10, threshold=0.5):
    """The whole page as a string; ``pairs`` most similar first (course.similarity.compare.compare)."""
    e = html.escape
    students = sorted({p.a for p in pairs} | {p.b for p in pairs})
    out = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
           f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">",
           f"<title>{e(assignment)}: similarity of answer code</title>", f"<style>{STYLE}</style></head><body>",
           f"<h1>{e(assignment)}: similarity of answer code</h1>",
           f"<p class='note'>{len(students)} submissions, {len(pairs)} pairs, compared on the code each student "
           "wrote into the answer cells and the code cells they added (the release's stubs and provided code "
           "left out). Names, strings, comments and layout are ignored, so renamed variables or reformatted "
           "code still match. Score: the mean of the two shares, each the part of one student's answer code "
           "found in the other's. A high score asks for a reading, not a verdict: short answers that the "
           f"problem dictates look alike in every class. Made {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.</p>",
           "<h2 id='ranking'>Most similar pairs</h2>",
           "<table class='ranking'><tr><th>#</th><th>student</th><th>student</th><th>score</th>"
           "<th>share of the first's code found in the second's</th><th>and the other way</th></tr>"]
    for rank, pair in enumerate(pairs[:top], 1):
        cls = " class='high'" if pair.score >= threshold else ""
        out.append(f"<tr{cls}><td class='num'><a href='#pair-{rank}'>{rank}</a></td><td>{e(pair.a)}</td>"
                   f"<td>{e(pair.b)}</td><td class='num score'>{percent(pair.score)}</td>"
                   f"<td class='num'>{percent(pair.share_a)}</td><td class='num'>{percent(pair.share_b)}</td></tr>")
    out.append("</table>")
    if len(pairs) > top:
        out.append(f"<p class='note'>{len(pairs) - top} less similar pairs not listed "
                   "(<code>--top N</code> or <code>c.Similarity.top</code> lists more).</p>")
    for rank, pair in enumerate(pairs[:top], 1):
        out.append(f"<h2 id='pair-{rank}' class='pair'>{rank}. <span class='a'>{e(pair.a)}</span> and "
                   f"<span class='b'>{e(pair.b)}</span>: {percent(pair.score)}</h2>")
        if not pair.passages:
            out.append("<p class='note'>No passage in common.</p>")
            continue
        out.append(f"<table class='passages'><tr><th>{e(pair.a)}</th><th>{e(pair.b)}</th></tr>")
        for text_a, text_b in pair.passages:
            out.append(f"<tr><td><pre>{e(text_a)}</pre></td><td><pre>{e(text_b)}</pre></td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
