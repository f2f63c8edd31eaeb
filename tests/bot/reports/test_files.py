"""The chart is made for a phone: portrait, 840 px across (390 px on a phone at 11 pt type),
the people's names in its text, the worst and best first and the rest as one bar; durations
read the same in the chart and the caption."""

from __future__ import annotations

import io
import re

import matplotlib
from PIL import Image

from bot.core import load_catalogue
from bot.reports.figures import Figures, PeriodFigures
from bot.reports.files import chart_figure, chart_png, duration

T = load_catalogue()


def person(n: int, due: int, on_time: int, reaction: float) -> Figures:
    return Figures(name=f"Manager {n:02d}", user_id=n, due=due, on_time=on_time,
                   reaction_median_s=reaction, reactions=due)  # fmt: skip


def period(people: list[Figures]) -> PeriodFigures:
    worst_first = sorted(people, key=lambda f: f.on_time_share or 0.0)
    whole = Figures(name="", people=len(people), overdue_trend=(3, 5, 2, 4, 1, 0, 2))
    return PeriodFigures(whole=whole, people=tuple(worst_first), tasks=(),
                         day_ends=tuple(float(d) for d in range(7)))  # fmt: skip


def drawn_text(figure: object) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text kept as text
        figure.savefig(out, format="svg")  # type: ignore[attr-defined]
    return out.getvalue()


def test_the_chart_is_portrait_for_a_phone_and_names_its_people() -> None:
    team = [person(n, 10, n % 11, 30 + 40 * n) for n in range(1, 13)]
    days = [f"{d:02d}.12" for d in range(1, 8)]

    png = chart_png(period(team), "Tasks, 01.12 – 07.12", T, "en", days)

    width, height = Image.open(io.BytesIO(png)).size
    assert (width, height) == (840, 1500)
    text = drawn_text(chart_figure(period(team), "Tasks", T, "en", days))
    shown = set(re.findall(r"Manager \d\d", text))
    # 4 worst (0 %, 10 %, 10 %, 20 %…), 3 best (90 %, 100 %…), the 5 others as one bar.
    assert shown == {"Manager 11", "Manager 01", "Manager 12", "Manager 02",
                     "Manager 08", "Manager 09", "Manager 10"}  # fmt: skip
    assert "5 others" in text
    assert "Completed on time" in text
    assert "Overdue at each day" in text
    assert "Reaction, median (min)" in text
    assert duration(30 + 40 * 10, T, "en") in text  # the same words as the caption's


def test_russian_chart_and_durations_in_one_unit_each() -> None:
    text = drawn_text(
        chart_figure(period([person(1, 4, 3, 12)]), "Задачи", T, "ru", ["01.12"] * 7)
    )
    assert "Закрыто в срок" in text
    assert "Manager 01" in text
    assert "12 с" in text
    assert [duration(s, T, "en") for s in (12, 270, 5400, 3 * 86400)] == [
        "12 s", "4.5 min", "1.5 h", "3.0 d",
    ]  # fmt: skip
