"""Reaction figures per person, from the activity log: what they were told about, what they
pressed, how soon.

A person linked in both messengers gets each notice twice; a subject counts once per person
whatever the copies. A press counts as a reaction to the latest notice about its subject that
reached its presser before it.
"""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from bot.core import Value
from bot.reports.log import Activity

OTHER_PRESSES = ("follow_up", "take")


class PersonFigures(Value):
    user_id: int
    name: str
    notified: int  # tasks and deals they were told about
    acted_on: int  # of those, the ones they then pressed a button on
    completed: int = 0
    snoozed: int = 0
    reassigned: int = 0
    other: int = 0  # follow-up tasks made, deals taken
    median_reaction_s: float | None = None
    presses_telegram: int = 0
    presses_slack: int = 0

    @property
    def presses(self) -> int:
        return self.completed + self.snoozed + self.reassigned + self.other

    @property
    def unanswered(self) -> int:
        return self.notified - self.acted_on


class Totals(Value):
    people: int
    notified: int
    acted_on: int
    presses: int
    completed: int
    median_reaction_s: float | None

    @property
    def reaction_rate(self) -> float | None:
        return self.acted_on / self.notified if self.notified else None


def figures(
    entries: Iterable[Activity], names: Mapping[int, str]
) -> tuple[tuple[PersonFigures, ...], Totals]:
    """Per person (the most notified first) and for everyone."""
    sent: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    presses: dict[int, list[Activity]] = defaultdict(list)
    for entry in entries:
        if entry.kind == "sent":
            sent[entry.person][entry.subject].append(entry.at)
        else:
            presses[entry.person].append(entry)
    rows: list[PersonFigures] = []
    reactions: list[float] = []
    for person in set(sent) | set(presses):
        told = {subject: sorted(moments) for subject, moments in sent.get(person, {}).items()}
        mine = _reactions(told, presses.get(person, []))
        reactions += mine
        rows.append(_person(person, names.get(person, str(person)), told,
                            presses.get(person, []), mine))  # fmt: skip
    rows.sort(key=lambda r: (-r.notified, -r.presses, r.name))
    totals = Totals(
        people=len(rows),
        notified=sum(r.notified for r in rows),
        acted_on=sum(r.acted_on for r in rows),
        presses=sum(r.presses for r in rows),
        completed=sum(r.completed for r in rows),
        median_reaction_s=statistics.median(reactions) if reactions else None,
    )
    return tuple(rows), totals


def _reactions(told: Mapping[str, Sequence[float]], presses: Sequence[Activity]) -> list[float]:
    """Seconds from the latest notice about a press's subject to the press, for each press
    that had one."""
    out = []
    for press in presses:
        moments = told.get(press.subject, ())
        before = bisect.bisect_right(moments, press.at)
        if before:
            out.append(press.at - moments[before - 1])
    return out


def _person(
    person: int,
    name: str,
    told: Mapping[str, Sequence[float]],
    presses: Sequence[Activity],
    reactions: Sequence[float],
) -> PersonFigures:
    acted = {p.subject for p in presses if p.subject in told and p.at >= told[p.subject][0]}
    kinds: dict[str, int] = defaultdict(int)
    channels: dict[str, int] = defaultdict(int)
    for press in presses:
        kinds[press.what] += 1
        channels[press.channel] += 1
    return PersonFigures(
        user_id=person,
        name=name,
        notified=len(told),
        acted_on=len(acted),
        completed=kinds["complete"],
        snoozed=kinds["snooze"],
        reassigned=kinds["reassign"],
        other=sum(kinds[k] for k in OTHER_PRESSES),
        median_reaction_s=statistics.median(reactions) if reactions else None,
        presses_telegram=channels["telegram"],
        presses_slack=channels["slack"],
    )


def minutes(seconds: float) -> str:
    """A reaction time in minutes: one decimal under ten ("4.5"), whole above ("12")."""
    return f"{seconds / 60:.0f}" if seconds >= 600 else f"{seconds / 60:.1f}"
