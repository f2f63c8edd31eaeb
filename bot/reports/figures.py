"""Every figure of ``/report``, defined once: what happened to each task (one ``TaskRow``), and
what that makes per person, per group and for the whole account over a period (``Figures``).

The activity log gives the facts: what reached whom (``sent``, with the deadline a reminder was
about), what they pressed (``pressed``), what became of each task in amoCRM whoever changed it
(``task`` lines, one per ``CrmEvent``, written by ``ActivityLog.on_events``) and escalations
raised (``escalated``). A line is identified by its id and counted once however often it was
written (a listener gets an event at least once).

The definitions (the README's "Reports" section says the same in words):

- A task's **owner** is the person it was with when first reminded (without any reminder: the
  one it was first seen with); its **first deadline** is its deadline at that moment.
- **Tasks due** in a period: tasks whose first deadline falls in it, or that were completed in
  it ahead of that deadline (a task counts in the period of whichever came first, so once in
  all), deleted ones left out.
- **On time**: completed (in a messenger or in amoCRM, with or without a notice) by the first
  deadline. **On-time share** = on time / (tasks due − handed over). A task completed after
  its first deadline but by a later one it was snoozed to is **on time after a snooze**: shown
  apart, not on time.
- **Lateness** of a late completion: completed at − first deadline; its median and p90.
- **Overdue** at a moment: open (neither completed nor deleted) with its deadline as it stood
  then already past; counted for the person it was with then. **Overdue now**: at the end of
  the period; the **trend**: at each day's end in the period.
- **Reaction**: from the first notice about a task or deal to its person, to the first action
  on it after that notice (a press by anyone, or the task completed, moved, handed over or
  deleted in amoCRM); median and p90 over the notices first made in the period.
- **Outcome**, one per task, the first that holds: handed over (its person at the end is not
  its owner), completed, deleted, snoozed and still open (its deadline moved later),
  no reaction (told, and nothing done since), open.
- **Escalations**: escalations raised in the period about the person's tasks.

The p90 is the nearest-rank one: the smallest value at least 90 % of the values do not exceed.

Task rows are named tuples rather than ``Value``s: a year of a large team is 10⁵–10⁶ of them,
and pydantic's validation (or a frozen dataclass's ``__setattr__`` per field) would cost more
than the counting. The log is gathered per task once (``gather``) for both the period and the
one before it. A closed week may come rolled up (``roll_week``, ``Gathered.add_week``): a task
as ``Rolled``, its row and overdue stretches computed by this same code from its lines, taken
as they are when the period ends after its last line, and folded from its lines otherwise.

Over 400 lines: the definitions above and the one pass that applies them (gathering, a task's
row, its overdue days, the sums) are read together when a figure is questioned.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from bot.core import Value
from bot.reports.log import Fact, Line, parse_lines

__all__ = [
    "Figures",
    "Gathered",
    "Outcome",
    "PeriodFigures",
    "Rolled",
    "TaskRow",
    "carry",
    "figures",
    "gather",
    "minutes",
    "own_lines",
    "p90",
    "roll_week",
]

Outcome = Literal["completed", "handed_over", "snoozed_open", "no_reaction", "open", "deleted"]
OUTCOMES: tuple[Outcome, ...] = (
    "completed", "handed_over", "snoozed_open", "no_reaction", "open", "deleted",
)  # fmt: skip
# A task line's ``what``: which change of the task it records.
ACTIONS = frozenset({"deadline", "reassigned", "completed", "deleted"})
_at = itemgetter(1)  # a line's moment (``Fact.at``)


class TaskRow(NamedTuple):
    """One task over its known history. Field names are a contract: ``/export`` and
    ``amobridge export`` write them as the task sheet's and the CSV's columns (``_fields``, in
    this order). Moments are Unix seconds (UTC); None where unknown or not yet."""

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
    def due_at(self) -> float | None:
        """When it counts as due: its first deadline, or its completion if that came first."""
        if self.deadline_first is None or self.completed_at is None:
            return self.deadline_first
        return min(self.deadline_first, self.completed_at)

    @property
    def on_time(self) -> bool:
        return (
            self.completed_at is not None
            and self.deadline_first is not None
            and self.completed_at <= self.deadline_first
        )


class Figures(Value):
    """The figures of one person, one group or the whole account over a period (see the
    module's docstring for each definition). Times in seconds; None where nothing to measure."""

    name: str
    user_id: int | None = None  # None: a group, the account, or the rest of a chart
    people: int = 1
    due: int = 0
    on_time: int = 0
    on_time_after_snooze: int = 0
    late: int = 0
    late_median_s: float | None = None
    late_p90_s: float | None = None
    overdue_now: int = 0
    overdue_trend: tuple[int, ...] = ()  # at each day's end in the period
    reaction_median_s: float | None = None
    reaction_p90_s: float | None = None
    reactions: int = 0  # notices the reaction figures are measured on
    completed: int = 0  # outcomes of the tasks due, each task once
    handed_over: int = 0
    snoozed_open: int = 0
    no_reaction: int = 0
    open: int = 0
    escalations: int = 0

    @property
    def on_time_share(self) -> float | None:
        judged = self.due - self.handed_over
        return self.on_time / judged if judged > 0 else None


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """A period's figures: for everyone in scope together, per person (the worst on-time share
    first), and its tasks (those due in it, and those overdue at its end)."""

    whole: Figures
    people: tuple[Figures, ...]
    tasks: tuple[TaskRow, ...]
    day_ends: tuple[float, ...]


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def minutes(seconds: float) -> str:
    """A time in minutes: one decimal under ten ("4.5"), whole above ("12")."""
    return f"{seconds / 60:.0f}" if seconds >= 600 else f"{seconds / 60:.1f}"


@dataclass(slots=True)
class _Task:
    """What the log says of one task, gathered in time order."""

    id: int
    states: list[tuple[float, float | None, int, bool, bool]] = field(default_factory=list)
    # (at, deadline, person, completed, deleted) after each change
    reminders: list[tuple[float, int, float | None]] = field(default_factory=list)
    notices: dict[int, float] = field(default_factory=dict)  # person → first notice
    actions: list[float] = field(default_factory=list)  # presses and changes, in time order
    completed_at: float | None = None
    deleted_at: float | None = None
    deal: int | None = None
    text: str = ""
    escalations: list[tuple[float, int]] = field(default_factory=list)
    first_at: float = math.inf  # its first line

    @property
    def closed_at(self) -> float | None:
        if self.completed_at is None:
            return self.deleted_at
        return (
            self.completed_at
            if self.deleted_at is None
            else min(self.completed_at, self.deleted_at)
        )


@dataclass(slots=True, eq=False)
class Rolled:
    """A task as a closed week's rollup keeps it (``roll_week``): its row and overdue stretches
    as they stand after its lines of that week and of the weeks before that named it
    (``prev``, the last of them, rolled up as this was made on it). Its lines are not kept:
    should a report need them, that week's lines are read again (``Gathered.lines_of``)."""

    week: int  # the week (Unix weeks) whose rollup it is from
    id: int
    prev: int | None  # the week before that named it, or None: the first (as far as known)
    prev_size: int  # how many lines it had up to ``prev``
    size: int  # how many lines it has
    first_at: float
    last_at: float
    closed_at: float | None
    row: list[Any] | None  # ``TaskRow``'s fields after the id, without the names
    stretches: list[Any]  # [from, to, person]: overdue, for whom (to: Infinity, still)
    escalations: list[Any]  # [at, person]
    before: Rolled | None = None  # its rollup of ``prev``, when a report took that

    def named(self, name: Callable[[int], str]) -> TaskRow | None:
        r = self.row
        if r is None:
            return None
        return TaskRow(self.id, r[0], r[1], name(r[1]), r[2], name(r[2]), *r[3:])


@dataclass(slots=True, eq=False)
class Gathered:
    """The log sorted out per task (and per person and deal), ready for any period of it; fed
    in time order, a piece at a time (``add``), so that a year never waits in memory as lines
    and each piece is a short stretch of work."""

    # A rolled-up week's task lines, by task (``LogWeeks``: read from the store again); needed
    # only when a task taken rolled up must be folded from its lines.
    lines_of: Callable[[int], Mapping[int, list[Line]]] | None = None
    # In the order the log first names them; a task of a rolled-up week as its ``Rolled``.
    tasks: dict[int, _Task | Rolled] = field(default_factory=dict)
    deals: dict[tuple[int, int], tuple[float, float | None]] = field(default_factory=dict)
    people: set[int] = field(default_factory=set)  # everyone the lines name
    _seen: set[str] = field(default_factory=set)
    _weeks: dict[int, Mapping[int, list[Line]]] = field(default_factory=dict)

    def clear(self) -> None:
        """Let go of it all (in a worker thread: freeing a year takes a while), a task at a
        time: one ``dict.clear()`` would free millions of objects in a single C call, holding
        the GIL, and the event loop, throughout."""
        while self.tasks:
            self.tasks.popitem()
        while self.deals:
            self.deals.popitem()
        while self._seen:
            self._seen.pop()
        while self._weeks:
            self._weeks.popitem()

    def add(self, lines: Iterable[Fact]) -> None:
        """Take the next lines, all later than (or as late as) those taken before."""
        self.add_parsed(list(lines))

    def add_parsed(self, lines: Sequence[Line]) -> None:
        """``add`` for lines as ``parse_lines`` gives them (JSON arrays in ``Fact``'s order):
        a report reads 10⁶ of them, and building a ``Fact`` of each would cost a third of the
        report."""
        tasks, deals, seen, people = self.tasks, self.deals, self._seen, self.people
        for line in sorted(lines, key=_at):  # a sorted piece stays as is
            key, at, kind, person, subject, what, _channel, deadline, deal, text = line
            about, _, number = subject.partition(":")
            task = tasks.get(int(number)) if about == "task" and number.isdigit() else None
            if type(task) is Rolled:  # named in another week too: its lines there first
                task = tasks[task.id] = self._unroll(task)
            if kind == "task" or kind == "escalated":
                if key in seen:
                    continue  # the same event given to the listener again
                seen.add(key)
            people.add(person)
            if not number.isdigit():
                continue
            if about == "task":
                if task is None:
                    task = tasks[int(number)] = _Task(int(number))
                assert type(task) is _Task
                _take(task, at, kind, person, what, deadline, deal, text)
            elif about == "deal":
                pair = (person, int(number))
                if kind == "sent" and pair not in deals:
                    deals[pair] = (at, None)
                elif kind == "pressed" and pair in deals and deals[pair][1] is None:
                    deals[pair] = (deals[pair][0], at)

    def add_week(self, doc: str) -> dict[int, float]:
        """Take a closed week as ``roll_week`` rolled it up (all later than what was taken
        before); returns each person it names with their latest moment in it."""
        week = json.loads(doc)
        number, tasks = week["week"], self.tasks
        for fields in week["tasks"]:
            entry = Rolled(number, *fields)
            held = tasks.get(entry.id)
            if held is None and entry.prev is None:
                tasks[entry.id] = entry  # its first week
            elif (
                type(held) is Rolled and held.week == entry.prev and held.size == entry.prev_size
            ):  # its week before taken as this rollup was made on it
                entry.before = held
                tasks[entry.id] = entry
            else:  # named before in a week taken as lines, or before the start
                self.add_parsed(self._week(number).get(entry.id, ()))
        self.add_parsed(week["rest"])
        latest: dict[int, float] = dict(week["people"])
        self.people.update(latest)
        return latest

    def fold(self, entry: Rolled, seen: set[str] | None = None) -> _Task:
        """A task taken rolled up, from its lines (``seen``: their events noted)."""
        chain: list[Rolled] = []
        link: Rolled | None = entry
        while link is not None:
            chain.append(link)
            link = link.before
        task, seen = _Task(entry.id), set() if seen is None else seen
        for link in reversed(chain):
            _fold(task, self._week(link.week).get(link.id, ()), seen)
        return task

    def _unroll(self, entry: Rolled) -> _Task:
        return self.fold(entry, self._seen)

    def _week(self, week: int) -> Mapping[int, list[Line]]:
        got = self._weeks.get(week)
        if got is None:
            if self.lines_of is None:
                raise LookupError(f"the lines of week {week} are needed; nothing reads them")
            got = self._weeks[week] = self.lines_of(week)
        return got


def _fold(task: _Task, lines: Iterable[Line], seen: set[str]) -> None:
    """A task's own lines, in time order, into ``task``, each event once (``seen``)."""
    for key, at, kind, person, _subject, what, _channel, deadline, deal, text in lines:
        if kind == "task" or kind == "escalated":
            if key in seen:
                continue
            seen.add(key)
        _take(task, at, kind, person, what, deadline, deal, text)


# A task named again after this many weeks is rolled up from that week's lines alone (a report
# takes the earlier rollup and that week's lines).
CHAIN_WEEKS = 9
# What ``roll_week`` keeps of the weeks before: a task's last week and its lines up to it.
Carried = dict[int, tuple[int, list[Line]]]


def own_lines(lines: list[str]) -> tuple[dict[int, list[Line]], list[Line], dict[int, float]]:
    """A stretch's lines in time order: per task named, its own; the others; and each person
    named with their latest moment."""
    latest: dict[int, float] = {}
    own: dict[int, list[Line]] = {}
    rest: list[Line] = []
    for line in sorted(parse_lines(lines), key=_at):
        latest[line[3]] = line[1]
        about, _, number = line[4].partition(":")
        if about == "task" and number.isdigit():
            own.setdefault(int(number), []).append(line)
        else:
            rest.append(line)
    return own, rest, latest


def carry(carried: Carried, own: Mapping[int, list[Line]], week: int) -> None:
    """Carry a week's task lines on (``own_lines``), to roll up the weeks after it."""
    for number, taken in own.items():
        prev, before = carried.get(number, (None, []))
        if prev is not None and prev < week - CHAIN_WEEKS:
            before = []
        carried[number] = (week, before + taken)


def roll_week(lines: list[str], week: int, carried: Carried) -> str:
    """A closed week's log lines rolled up for ``Gathered.add_week``: per task named in it,
    its ``Rolled`` over its lines that week and those ``carried`` (updated: the weeks are
    rolled up in order, one after another); the other lines as they are."""
    own, rest, latest = own_lines(lines)
    tasks = []
    for number, taken in own.items():
        prev, before = carried.get(number, (None, []))
        if prev is not None and prev < week - CHAIN_WEEKS:
            prev, before = None, []
        chain = before + taken
        task = _Task(number)
        _fold(task, chain, set())
        row = _row(task, math.inf, lambda _user: "")
        tasks.append((
            number, prev, len(before), len(chain), task.first_at, taken[-1][1],
            task.closed_at, None if row is None else row[1:3] + row[4:5] + row[6:],
            _stretches(task, math.inf), task.escalations,
        ))  # fmt: skip
    carry(carried, own, week)
    # Infinity (a stretch still overdue) is Python's JSON, read back by Python alone.
    return json.dumps(
        {"week": week, "people": list(latest.items()), "tasks": tasks, "rest": rest},
        ensure_ascii=False, separators=(",", ":"),
    )  # fmt: skip


@dataclass(slots=True)
class _Person:
    """A person's samples over the period, pooled for a group or the account."""

    rows: list[TaskRow] = field(default_factory=list)
    reactions: list[float] = field(default_factory=list)
    # Overdue per day end, as changes: +1 at the first day end of an overdue stretch, −1 at
    # the first after it (a task left open for months is two numbers, not one per day).
    overdue: list[int] = field(default_factory=list)
    overdue_now: int = 0
    escalations: int = 0
    counted: _Counted | None = None  # its rows counted, once for the person and the whole

    def count(self) -> _Counted:
        if self.counted is None:
            self.counted = _count(self.rows)
        return self.counted


@dataclass(slots=True)
class _Counted:
    outcomes: dict[Outcome, int]
    late: list[float]
    on_time: int
    after_snooze: int


def _count(rows: Sequence[TaskRow]) -> _Counted:
    late: list[float] = []
    outcomes = dict.fromkeys(OUTCOMES, 0)
    on_time = after_snooze = 0
    for row in rows:  # one pass: a year's rows are 10⁵
        outcomes[row.outcome] += 1
        if row.outcome != "completed":
            continue
        if row.lateness_s is not None:
            late.append(row.lateness_s)
        if row.on_time:
            on_time += 1
        elif (
            row.snoozes and row.completed_at is not None and row.deadline_final is not None
            and row.completed_at <= row.deadline_final
        ):  # fmt: skip
            after_snooze += 1
    return _Counted(outcomes, late, on_time, after_snooze)


def figures(
    lines: Iterable[Fact] | Gathered,
    names: Mapping[int, str],
    *,
    since: float,
    until: float,
    day_ends: Sequence[float] = (),
    people: frozenset[int] | None = None,
    whole_name: str = "",
    tasks: bool = True,
) -> PeriodFigures:
    """The period's figures from the log lines about it (and before it, so that tasks due in
    it are known from their start). ``names``: everyone to show, even with nothing to count;
    ``people``: the group's members (None: everyone); ``tasks``: the task list too (a year's
    is 10⁵ rows, which a chart does without, and which the event loop would free in one
    call)."""
    gathered = lines if isinstance(lines, Gathered) else gather(lines)
    listed, deals = tasks, gathered.deals
    ends = tuple(day_ends)
    person: defaultdict[int, _Person] = defaultdict(lambda: _Person(overdue=[0] * (len(ends) + 1)))

    def name(user: int) -> str:
        got = names.get(user)
        return f"#{user}" if got is None else got

    rows: list[TaskRow] = []
    for entry in gathered.tasks.values():
        if entry.first_at >= until or (entry.closed_at is not None and entry.closed_at < since):
            continue  # neither due nor overdue in the period
        # A rolled-up task whose lines run past the end: cut from its lines.
        task = gathered.fold(entry) if type(entry) is Rolled and entry.last_at >= until else entry
        if type(task) is Rolled:  # all its lines before the end: as rolled up
            row, stretches = task.named(name), task.stretches
        else:
            assert type(task) is _Task
            row, stretches = _row(task, until, name), _stretches(task, until)
        if row is None:
            continue
        due = row.due_at is not None and since <= row.due_at < until
        if due and row.outcome != "deleted":
            person[row.responsible_id].rows.append(row)
        overdue_now = _overdue(stretches, until, ends, person)
        if (
            listed
            and (due or overdue_now)
            and (people is None or row.responsible_id in people or row.holder_id in people)
        ):
            rows.append(row)
        notice = row.first_notice_at
        if row.reaction_s is not None and notice is not None and since <= notice < until:
            person[row.responsible_id].reactions.append(row.reaction_s)
        for at, user in task.escalations:
            if since <= at < until:
                person[user].escalations += 1
    for (user, _deal), (told, acted) in deals.items():
        if since <= told < until and acted is not None:
            person[user].reactions.append(acted - told)
    shown = set(names) | set(person)
    if people is not None:
        shown &= people
    each = [_figures(name(u), u, [person[u]] if u in person else [], len(ends)) for u in shown]
    each.sort(key=_worst_first)
    whole = _figures(whole_name, None, [person[u] for u in shown if u in person], len(ends))
    whole = whole.model_copy(update={"people": len(shown)})
    # By a float alone: the sort itself is one C call holding the GIL, and floats compare
    # several times faster than tuples (ties keep the log's order: the sort is stable).
    rows.sort(key=lambda r: r.deadline_first or 0.0)
    # A person's rows at a time: all at once, as the function returns, a year's would be
    # freed in one stretch holding the GIL (the event loop stalled 0.1 s).
    for part in person.values():
        part.rows.clear()
    return PeriodFigures(whole=whole, people=tuple(each), tasks=tuple(rows), day_ends=ends)


def _worst_first(f: Figures) -> tuple[bool, float, int, str]:
    share = f.on_time_share
    return (share is None, share if share is not None else 0.0, -f.due, f.name)


def gather(lines: Iterable[Fact]) -> Gathered:
    """The lines, in any order, gathered in one piece."""
    gathered = Gathered()
    gathered.add(lines)
    return gathered


def _take(
    task: _Task, at: float, kind: str, person: int, what: str, deadline: float | None,
    deal: int | None, text: str | None,
) -> None:  # fmt: skip
    if at < task.first_at:
        task.first_at = at
    if deal is not None:
        task.deal = deal
    if text:
        task.text = text
    if kind == "sent":
        task.notices.setdefault(person, at)
        if what == "reminder":
            task.reminders.append((at, person, deadline))
            if not task.states and deadline is not None:
                # Known since before its task lines began (amobridge's first sync, an
                # upgrade): as the reminder found it, so that it can be seen overdue.
                task.states.append((at, deadline, person, False, False))
    elif kind == "pressed":
        task.actions.append(at)
        if what == "complete" and task.completed_at is None:
            task.completed_at = at
    elif kind == "escalated":
        task.escalations.append((at, person))
    elif kind == "task":
        states = task.states
        completed = what == "completed" or (bool(states) and states[-1][3])
        deleted = what == "deleted"
        if deadline is None:
            deadline = _last_deadline(task)
        states.append((at, deadline, person, completed, deleted))
        if what in ACTIONS:
            task.actions.append(at)
        if what == "completed" and task.completed_at is None:
            task.completed_at = at
        if deleted and task.deleted_at is None:
            task.deleted_at = at


def _last_deadline(task: _Task) -> float | None:
    return task.states[-1][1] if task.states else None


def _state_at(
    states: Sequence[tuple[float, float | None, int, bool, bool]], at: float
) -> tuple[float, float | None, int, bool, bool] | None:
    """The state as it stood at ``at`` (the first known one if ``at`` is earlier)."""
    if not states:
        return None
    index = bisect.bisect_right(states, at, key=itemgetter(0))
    return states[max(index - 1, 0)]


def _row(task: _Task, until: float, name: Callable[[int], str]) -> TaskRow | None:
    """The task's row as the log shows it at ``until``; None if not even its person is known."""
    # Both in time order: cut at ``until`` (most often nothing to cut, nor to copy).
    states, reminders = task.states, task.reminders
    if states and states[-1][0] >= until:
        states = states[: bisect.bisect_left(states, until, key=itemgetter(0))]
    if reminders and reminders[-1][0] >= until:
        reminders = reminders[: bisect.bisect_left(reminders, until, key=itemgetter(0))]
    if reminders:
        first_at, owner, told_deadline = reminders[0]
        stood = _state_at(states, first_at)
        deadline_first = told_deadline if told_deadline is not None else (stood and stood[1])
    elif states:
        first_at, deadline_first, owner = states[0][0], states[0][1], states[0][2]
    else:
        return None
    last = states[-1] if states else None
    holder = last[2] if last is not None else owner
    deadline_final = last[1] if last is not None and last[1] is not None else deadline_first
    completed_at = task.completed_at
    if completed_at is not None and completed_at >= until:
        completed_at = None
    deleted = task.deleted_at is not None and task.deleted_at < until and completed_at is None
    snoozes, before = 0, deadline_first
    for at, deadline, _person, _done, _gone in states:
        if at >= first_at and deadline is not None and before is not None and deadline > before:
            snoozes += 1
        if deadline is not None:
            before = deadline
    notice = task.notices.get(owner)
    notice = notice if notice is not None and notice < until else None
    action = None
    if notice is not None:
        after = bisect.bisect_left(task.actions, notice)
        if after < len(task.actions) and task.actions[after] < until:
            action = task.actions[after]
    lateness = None
    if completed_at is not None and deadline_first is not None and completed_at > deadline_first:
        lateness = completed_at - deadline_first
    outcome: Outcome
    if holder != owner:
        outcome = "handed_over"
    elif completed_at is not None:
        outcome = "completed"
    elif deleted:
        outcome = "deleted"
    elif snoozes:
        outcome = "snoozed_open"
    elif notice is not None and action is None:
        outcome = "no_reaction"
    else:
        outcome = "open"
    return TaskRow(
        task_id=task.id, deal_id=task.deal, responsible_id=owner, responsible=name(owner),
        holder_id=holder, holder=name(holder), text=task.text,
        deadline_first=deadline_first, deadline_final=deadline_final,
        completed_at=completed_at, outcome=outcome, lateness_s=lateness, snoozes=snoozes,
        first_notice_at=notice, first_action_at=action,
        reaction_s=None if notice is None or action is None else action - notice,
        escalations=sum(1 for at, _ in task.escalations if at < until) if task.escalations else 0,
    )  # fmt: skip


def _stretches(task: _Task, until: float) -> list[tuple[float, float, int]]:
    """When the task was overdue as the log shows it at ``until``: (from, to, with whom); to
    is infinite while it still is."""
    states, out = task.states, []
    for index, (at, deadline, user, completed, deleted) in enumerate(states):
        if completed or deleted or deadline is None or at >= until:
            continue
        end = states[index + 1][0] if index + 1 < len(states) else math.inf
        start = max(at, deadline)
        if start < end:
            out.append((start, end, user))
    return out


def _overdue(
    stretches: Iterable[Sequence[Any]], until: float, ends: Sequence[float],
    person: defaultdict[int, _Person],
) -> bool:  # fmt: skip
    """Count the task at each day end (and at ``until``) when it was overdue, for the person it
    was with then; returns whether it is overdue at ``until``."""
    now = False
    for start, end, user in stretches:
        if ends:
            changes = person[user].overdue
            changes[bisect.bisect_left(ends, start)] += 1
            changes[bisect.bisect_left(ends, end)] -= 1
        if start <= until < end:
            person[user].overdue_now += 1
            now = True
    return now


def _figures(name: str, user: int | None, parts: Sequence[_Person], days: int) -> Figures:
    counted = [part.count() for part in parts]
    late = [x for c in counted for x in c.late]
    reactions = [r for part in parts for r in part.reactions]
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for c in counted:
        for outcome, n in c.outcomes.items():
            outcomes[outcome] += n
    changes = [0] * (days + 1)
    for part in parts:
        for day, change in enumerate(part.overdue):
            changes[day] += change
    trend = list(itertools.accumulate(changes[:days]))
    late_median, late_p90 = _median_p90(late)
    reaction_median, reaction_p90 = _median_p90(reactions)
    return Figures(
        name=name, user_id=user, due=sum(len(part.rows) for part in parts),
        on_time=sum(c.on_time for c in counted),
        on_time_after_snooze=sum(c.after_snooze for c in counted),
        late=len(late), late_median_s=late_median, late_p90_s=late_p90,
        overdue_now=sum(part.overdue_now for part in parts), overdue_trend=tuple(trend),
        reaction_median_s=reaction_median, reaction_p90_s=reaction_p90,
        reactions=len(reactions),
        completed=outcomes["completed"], handed_over=outcomes["handed_over"],
        snoozed_open=outcomes["snoozed_open"], no_reaction=outcomes["no_reaction"],
        open=outcomes["open"], escalations=sum(part.escalations for part in parts),
    )  # fmt: skip


def _median_p90(values: list[float]) -> tuple[float | None, float | None]:
    """``_median`` and ``p90`` of one sort (a year's values are 10⁵)."""
    if not values:
        return None, None
    values.sort()
    return _median(values), values[math.ceil(0.9 * len(values)) - 1]
