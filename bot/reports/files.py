"""The ``/report`` chart (a PNG), in the reader's language. Pure: figures in, bytes out. (The
``/export`` files are ``sheets`` written by ``tables``.)

The chart is drawn on a ``Figure`` of its own with the Agg canvas, not through pyplot, whose
global figure registry is state shared by every caller.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.core import Catalogue, Lang
from bot.reports.figures import PersonFigures, minutes

CHART_PEOPLE = 20  # the most notified; the workbook has everyone
# What a person's bar is made of, in order, with its colour.
SEGMENTS = (
    ("completed", "#2e7d32"),
    ("snoozed", "#f9a825"),
    ("reassigned", "#1565c0"),
    ("other", "#6a1b9a"),
    ("unanswered", "#bdbdbd"),
)
REACTION_COLOUR = "#00838f"


def chart_png(rows: Sequence[PersonFigures], title: str, t: Catalogue, lang: Lang) -> bytes:
    """Horizontal bars per person: what they did with what they were told about, and how
    many minutes their median reaction took."""
    shown = list(rows[:CHART_PEOPLE])[::-1]  # barh draws bottom-up: the first row on top
    height = 1.9 + 0.42 * max(len(shown), 1)
    figure = Figure(figsize=(11, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=(3, 1))
    names = [row.name for row in shown]
    start = [0.0] * len(shown)
    for segment, colour in SEGMENTS:
        values = [float(getattr(row, segment)) for row in shown]
        left.barh(names, values, left=start, color=colour,
                  label=t(lang, f"chart_{segment}"))  # fmt: skip
        start = [a + b for a, b in zip(start, values, strict=True)]
    left.set_xlabel(t(lang, "chart_axis_count"))
    # Below the plots, never over a bar.
    figure.legend(loc="outside lower center", fontsize="small", ncols=len(SEGMENTS))
    left.grid(axis="x", alpha=0.3)
    reaction = [(row.median_reaction_s or 0.0) / 60 for row in shown]
    bars = right.barh(names, reaction, color=REACTION_COLOUR)
    labels = ["—" if r.median_reaction_s is None else minutes(r.median_reaction_s) for r in shown]
    right.bar_label(bars, labels=labels, padding=3, fontsize="small")
    right.set_xlabel(t(lang, "chart_axis_minutes"))
    right.set_xlim(0, max([*reaction, 1.0]) * 1.3)
    right.grid(axis="x", alpha=0.3)
    figure.suptitle(title)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
