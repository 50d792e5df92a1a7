"""What the feedback page says about lateness: days late, the due date (and extension), the penalty.

nbgrader's feedback only knows the penalty in points.  A student who lost points should see why
in the same words the policy uses: when it was due (for them, with their extension), when they
submitted, how many started days late that is, and what each day costs.  A student with an
extension who submitted within it is told so too: the extension was seen and honoured.
``PlainFeedback`` puts this sentence on top of each feedback page.
"""
import html
import logging

from nbgrader.api import MissingEntry
from traitlets.config import Config

from .. import gradebook
from .penalty import PerDayPenalty, days_late


def _when(moment):
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _span(seconds):
    hours = seconds / 3600
    if hours < 1:
        return f"{max(1, round(seconds / 60))} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def describe(timestamp, duedate, extension, seconds_late, penalty, policy=None):
    """The lateness sentence (plain text), or '' when there is nothing to say (on time, no extension).

    ``policy``: the PerDayPenalty in force (its rate is quoted), or None for another plugin.
    """
    if duedate is None or timestamp is None:
        return ""
    due = duedate + extension if extension else duedate
    parts = []
    if extension:
        parts.append(f"You have an extension: your due date is {_when(due)} "
                     f"instead of {_when(duedate)}.")
    if seconds_late <= 0:
        if extension:
            parts.append(f"You submitted on {_when(timestamp)}, within your extension: no late penalty.")
        return " ".join(parts)
    days = days_late(seconds_late)
    parts.append(f"You submitted on {_when(timestamp)}, {_span(seconds_late)} after "
                 f"{'your' if extension else 'the'} due date{'' if extension else f' ({_when(due)})'}: "
                 f"{days} day{'s' if days != 1 else ''} late (every started day counts).")
    if policy is not None:
        rule = (f"{policy.percent_per_day:g}% of the score per started day, "
                f"at most {policy.max_percent:g}%")
        parts.append(f"Late penalty: {policy.percent(seconds_late):g}% of this notebook's score "
                     f"({rule}): -{penalty or 0:g} points.")
    else:
        parts.append(f"Late penalty: -{penalty or 0:g} points.")
    return " ".join(parts)


def policy_in_force(config):
    """The configured PerDayPenalty, or None when AssignLatePenalties uses another plugin."""
    config = Config(config or {})
    name = config.AssignLatePenalties.get("plugin_class", None)
    qualname = name if isinstance(name, str) else (f"{name.__module__}.{name.__qualname__}" if name else "")
    if qualname.endswith(".PerDayPenalty") or name is PerDayPenalty:
        return PerDayPenalty(config=config)
    return None


def notice_html(settings, assignment, student, penalty, config=None):
    """The sentence as an HTML paragraph for ``student``'s feedback ('' when on time without extension)."""
    try:
        with gradebook.opened(settings) as gb:
            sub = gb.find_submission(assignment, student)
            late = sub.total_seconds_late > 0
            text = describe(sub.timestamp, sub.assignment.duedate, sub.extension,
                            sub.total_seconds_late, penalty, policy_in_force(config))
    except MissingEntry:
        return ""
    except Exception as exc:  # the sentence must not cost the student their feedback page
        logging.getLogger(__name__).warning("feedback: no lateness notice for %s (%s)", student, exc)
        return ""
    if not text:
        return ""
    style = "border:2px solid #c62828" if late else "border:2px solid #2e7d32"
    return f'<p class="course-lateness" style="{style};padding:.4em .8em">{html.escape(text)}</p>'
