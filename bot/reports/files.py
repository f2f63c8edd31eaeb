"""The ``/report`` chart (a PNG made for a phone), in the reader's language, and the one way
the report says a duration. Pure: figures in, bytes out. (The ``/export`` files are ``sheets``
written by ``tables``.)

The chart is drawn on a ``Figure`` of its own with the Agg canvas, not through pyplot, whose
global figure registry is state shared by every caller.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.core import Catalogue, Lang
from bot.reports.figures import Figures, PeriodFigures, minutes

# A phone shows about 390 px across: the chart is drawn 4.2 in wide at 200 dpi (840 px), so
# 11 pt type is about 14 px there, readable without zooming.
CHART_SIZE_IN = (4.2, 7.5)
CHART_DPI = 200
TYPE_PT = 11
WORST, BEST = 4, 3  # a team larger than this is shown as its worst, its best and the rest
SHARE_COLOUR, REST_COLOUR, REACTION_COLOUR, OVERDUE_COLOUR = (
    "#2e7d32", "#9e9e9e", "#00838f", "#c62828",
)  # fmt: skip
NAME_CHARS = 14


def duration(seconds: float | None, t: Catalogue, lang: Lang) -> str:
    """A time as the chart and the caption both say it: seconds under a minute, minutes under
    an hour, hours under two days, days beyond ("0.2 min" reads worse than "12 s")."""
    if seconds is None:
        return "—"
    value, key = _unit(seconds)
    if key == "seconds_short":
        return t(lang, key, n=round(seconds))
    if key == "minutes_short":
        return t(lang, key, n=minutes(seconds))
    return t(lang, key, n=f"{value:.0f}" if value >= 10 else f"{value:.1f}")


def _unit(seconds: float) -> tuple[float, str]:
    for size, key in ((86400 * 2, "days_short"), (3600, "hours_short"), (60, "minutes_short")):
        if seconds >= size:
            scale = 86400 if key == "days_short" else size
            return seconds / scale, key
    return seconds, "seconds_short"


def chart_people(people: Sequence[Figures], t: Catalogue, lang: Lang) -> list[Figures]:
    """Who gets a bar: the people with tasks due, worst on-time share first; past
    ``WORST + BEST`` of them, the worst, one bar for the rest, then the best."""
    judged = [f for f in people if f.on_time_share is not None]
    if len(judged) <= WORST + BEST + 1:
        return judged
    rest = judged[WORST:-BEST]
    judged_rest = sum(f.due - f.handed_over for f in rest)
    summary = Figures(
        name=t(lang, "chart_rest", n=len(rest)), people=len(rest), due=sum(f.due for f in rest),
        on_time=sum(f.on_time for f in rest), handed_over=sum(f.handed_over for f in rest),
        reaction_median_s=_pooled_median(rest),
    )  # fmt: skip
    assert judged_rest > 0
    return [*judged[:WORST], summary, *judged[-BEST:]]


def _pooled_median(people: Sequence[Figures]) -> float | None:
    """The rest's reaction: the median of their medians, weighted by how many each measured
    (the samples themselves are not kept per person)."""
    weighted = sorted(
        (f.reaction_median_s, f.reactions) for f in people if f.reaction_median_s is not None
    )
    total = sum(n for _, n in weighted)
    seen = 0
    for median, n in weighted:
        seen += n
        if seen * 2 >= total:
            return median
    return None


def chart_figure(
    period: PeriodFigures, title: str, t: Catalogue, lang: Lang, day_labels: Sequence[str]
) -> Figure:
    """The chart for a phone, portrait: on-time share by person, their median reaction, and
    the overdue trend. ``day_labels``: each day end's date as the reader says it."""
    shown = chart_people(period.people, t, lang)[::-1]  # barh draws bottom-up: worst on top
    figure = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars = max(len(shown), 1)
    share_ax, reaction_ax, trend_ax = figure.subplots(
        3, 1, height_ratios=(bars + 1.5, bars + 1.5, 4.5)
    )
    names = [_short(f.name) for f in shown]
    colours = [REST_COLOUR if f.user_id is None else SHARE_COLOUR for f in shown]
    shares = [100 * (f.on_time_share or 0.0) for f in shown]
    drawn = share_ax.barh(names, shares, color=colours)
    share_ax.bar_label(drawn, labels=[f"{s:.0f}% · {f.due}" for s, f in zip(shares, shown,
                       strict=True)], padding=3, fontsize=TYPE_PT)  # fmt: skip
    share_ax.set_xlim(0, 135)
    share_ax.set_xticks([])
    share_ax.set_title(t(lang, "chart_on_time"), fontsize=TYPE_PT + 1, loc="left")
    if not shown:
        share_ax.text(0.5, 0.5, t(lang, "chart_nobody"), ha="center", fontsize=TYPE_PT,
                      transform=share_ax.transAxes)  # fmt: skip
    reactions = [f.reaction_median_s for f in shown]
    _, unit_key = _unit(max([r for r in reactions if r is not None], default=60.0))
    scale = {"seconds_short": 1, "minutes_short": 60, "hours_short": 3600,
             "days_short": 86400}[unit_key]  # fmt: skip
    drawn = reaction_ax.barh(names, [(r or 0.0) / scale for r in reactions],
                             color=REACTION_COLOUR)  # fmt: skip
    reaction_ax.bar_label(drawn, labels=[duration(r, t, lang) for r in reactions], padding=3,
                          fontsize=TYPE_PT)  # fmt: skip
    top = max([(r or 0.0) / scale for r in reactions] + [1.0])
    reaction_ax.set_xlim(0, top * 1.6)
    reaction_ax.set_xticks([])
    unit = t(lang, unit_key, n="").strip()
    reaction_ax.set_title(t(lang, "chart_reaction", unit=unit), fontsize=TYPE_PT + 1, loc="left")
    trend = period.whole.overdue_trend
    days = list(range(len(trend)))
    trend_ax.plot(days, trend, color=OVERDUE_COLOUR, marker="o" if len(trend) <= 14 else None)
    trend_ax.fill_between(days, trend, color=OVERDUE_COLOUR, alpha=0.15)
    step = max(1, math.ceil(len(days) / 4))  # four dates fit across a phone at this size
    trend_ax.set_xticks(days[::step], [day_labels[d] for d in days[::step]])
    trend_ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    trend_ax.set_ylim(0, max([*trend, 1]) * 1.2)
    trend_ax.set_title(t(lang, "chart_overdue"), fontsize=TYPE_PT + 1, loc="left")
    for axes in (share_ax, reaction_ax, trend_ax):
        axes.tick_params(labelsize=TYPE_PT)
        axes.spines[["top", "right"]].set_visible(False)
    figure.suptitle(title, fontsize=TYPE_PT + 2, fontweight="bold")
    return figure


def chart_png(
    period: PeriodFigures, title: str, t: Catalogue, lang: Lang, day_labels: Sequence[str]
) -> bytes:
    out = io.BytesIO()
    chart_figure(period, title, t, lang, day_labels).savefig(out, format="png")
    return out.getvalue()


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
