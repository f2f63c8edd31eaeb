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
from dataclasses import dataclass
from typing import Literal

from bot.core import Value
from bot.reports.log import Activity

OTHER_PRESSES = ("follow_up", "take")

Outcome = Literal["completed", "handed_over", "snoozed_open", "no_reaction", "open", "deleted"]
OUTCOMES: tuple[Outcome, ...] = (
    "completed", "handed_over", "snoozed_open", "no_reaction", "open", "deleted",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TaskRow:
    """One task over its known history. Field names are a contract: ``/export`` and
    ``amobridge export`` write them as the task sheet's and the CSV's columns. Moments are
    Unix seconds (UTC); None where unknown or not yet."""

    task_id: int
    deal_id: int | None
    responsible_id: int  # the owner: with whom it was when first reminded
    responsible: str
    holder_id: int  # with whom it is at the end of the period (≠ owner: handed over)
    holder: str
    text: str
    deadline_first: float | None  # as it stood when first reminded
    deadline_final: float | None  # as it stands at the end
    completed_at: float | None
    outcome: Outcome
    lateness_s: float | None  # completed at − first deadline, for a late completion
    snoozes: int  # times its deadline moved later after the first reminder
    first_notice_at: float | None  # to its owner
    first_action_at: float | None  # after that notice
    reaction_s: float | None
    escalations: int

    @property
    def on_time(self) -> bool:
        return (
            self.completed_at is not None
            and self.deadline_first is not None
            and self.completed_at <= self.deadline_first
        )


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
