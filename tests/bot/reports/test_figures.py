"""Every figure of ``/report`` on a seeded week whose answers are worked out by hand below: a task
completed on time from a reminder, one completed in amoCRM with no notice, one snoozed twice
then completed late, one handed over, one deleted, one nobody reacted to, one overdue from
before the week, a person with no tasks, and an empty period."""

from __future__ import annotations

from bot.reports.figures import figures, minutes, p90
from bot.reports.log import Activity, as_fact

H, DAY = 3600.0, 86400.0
IVAN, OLEG, MARIA = 1, 2, 3
NAMES = {IVAN: "Ivan", OLEG: "Oleg", MARIA: "Maria"}  # Maria has no tasks
SINCE, UNTIL = 10 * DAY, 17 * DAY
ENDS = [d * DAY for d in range(11, 18)]  # each day's end, UTC


def task(
    at: float, number: int, what: str, person: int, deadline: float, key: str = ""
) -> Activity:
    return Activity(id=key or f"{number}:{what}:{at}", at=at, kind="task", person=person,
                    subject=f"task:{number}", what=what, deadline=int(deadline))  # fmt: skip


def reminded(at: float, number: int, person: int, deadline: float) -> Activity:
    return Activity(at=at, kind="sent", person=person, channel="telegram",
                    subject=f"task:{number}", what="reminder", deadline=int(deadline))  # fmt: skip


def pressed(at: float, number: int, person: int, what: str) -> Activity:
    return Activity(at=at, kind="pressed", person=person, channel="slack",
                    subject=f"task:{number}", what=what)  # fmt: skip


ESCALATED_T6 = Activity(
    id="esc-6", at=16 * DAY + 11 * H, kind="escalated", person=OLEG, subject="task:6",
    what="escalated",
)  # fmt: skip
T1_DUE, T3_DUE = 11 * DAY + 12 * H, 13 * DAY + 12 * H
HISTORY = [
    # T1, Ivan: reminded an hour before, completed from the card 2 min later: on time.
    task(10 * DAY + H, 1, "created", IVAN, T1_DUE),
    reminded(11 * DAY + 11 * H, 1, IVAN, T1_DUE),
    pressed(11 * DAY + 11 * H + 120, 1, IVAN, "complete"),
    task(11 * DAY + 11 * H + 121, 1, "completed", IVAN, T1_DUE),
    # T2, Ivan: completed in amoCRM itself, never reminded; its line given twice (at least once).
    task(10 * DAY, 2, "created", IVAN, 12 * DAY + 12 * H),
    task(12 * DAY + 10 * H, 2, "completed", IVAN, 12 * DAY + 12 * H, key="ev-t2-done"),
    task(12 * DAY + 10 * H, 2, "completed", IVAN, 12 * DAY + 12 * H, key="ev-t2-done"),
    # T3, Ivan: snoozed from the card 5 min after the reminder, again in amoCRM, done late.
    task(10 * DAY, 3, "created", IVAN, T3_DUE),
    reminded(13 * DAY + 11 * H, 3, IVAN, T3_DUE),
    pressed(13 * DAY + 11 * H + 300, 3, IVAN, "snooze"),
    task(13 * DAY + 11 * H + 301, 3, "deadline", IVAN, 13 * DAY + 13 * H),
    task(13 * DAY + 13 * H + 600, 3, "deadline", IVAN, 14 * DAY + 9 * H),
    task(14 * DAY + 10 * H, 3, "completed", IVAN, 14 * DAY + 9 * H),
    # T4, Oleg's: handed over to Ivan 10 min after the reminder; Ivan completes it.
    task(10 * DAY, 4, "created", OLEG, 15 * DAY + 12 * H),
    reminded(15 * DAY + 11 * H, 4, OLEG, 15 * DAY + 12 * H),
    pressed(15 * DAY + 11 * H + 600, 4, OLEG, "reassign"),
    task(15 * DAY + 11 * H + 601, 4, "reassigned", IVAN, 15 * DAY + 12 * H),
    task(15 * DAY + 14 * H, 4, "completed", IVAN, 15 * DAY + 12 * H),
    # T5, Oleg: reminded, overdue over midnight, deleted in amoCRM 16 h after the reminder.
    task(10 * DAY, 5, "created", OLEG, 11 * DAY + 12 * H),
    reminded(11 * DAY + 11 * H, 5, OLEG, 11 * DAY + 12 * H),
    task(12 * DAY + 3 * H, 5, "deleted", OLEG, 11 * DAY + 12 * H),
    # T6, Oleg: reminded, nothing done, escalated (the escalation logged twice, one key).
    task(10 * DAY, 6, "created", OLEG, 16 * DAY + 9 * H),
    reminded(16 * DAY + 8 * H, 6, OLEG, 16 * DAY + 9 * H),
    *[ESCALATED_T6] * 2,
    # T7, Ivan: due before the week and still open: overdue at every day's end, not due in it.
    task(5 * DAY, 7, "created", IVAN, 9 * DAY),
]


def test_every_figure_of_a_week_per_person_and_for_the_account() -> None:
    got = figures(map(as_fact, HISTORY), NAMES, since=SINCE, until=UNTIL, day_ends=ENDS)

    oleg, ivan, maria = got.people  # the worst on-time share first, nobody's last
    # Ivan: T1, T2 on time; T3 late by 22 h against the deadline it was first reminded of.
    assert (ivan.name, ivan.due, ivan.on_time, ivan.late, ivan.completed) == ("Ivan", 3, 2, 1, 3)
    assert ivan.on_time_share == 2 / 3
    assert ivan.on_time_after_snooze == 0  # T3 was done after its last deadline too
    assert (ivan.late_median_s, ivan.late_p90_s) == (22 * H, 22 * H)
    assert (ivan.reaction_median_s, ivan.reaction_p90_s) == (210, 300)  # T1 120 s, T3 300 s
    assert (ivan.overdue_now, ivan.overdue_trend) == (1, (1, 1, 1, 1, 1, 1, 1))  # T7
    # Oleg: T4 handed over, T6 no reaction; T5 deleted is not due.
    assert (oleg.due, oleg.handed_over, oleg.no_reaction, oleg.on_time) == (2, 1, 1, 0)
    assert oleg.on_time_share == 0.0  # 0 of the one task left to him
    assert (oleg.reaction_median_s, oleg.reaction_p90_s) == ((600 + 16 * H) / 2, 16 * H)
    assert oleg.overdue_now == 1  # T6
    assert oleg.overdue_trend == (0, 1, 0, 0, 0, 0, 1)  # T5 past midnight of day 12, T6 at 17
    assert (oleg.escalations, ivan.escalations) == (1, 0)
    # Maria: nothing to count, and shown all the same.
    assert (maria.due, maria.on_time_share, maria.reaction_median_s) == (0, None, None)
    assert maria.overdue_trend == (0,) * 7

    whole = got.whole
    assert (whole.people, whole.due, whole.on_time, whole.handed_over) == (3, 5, 2, 1)
    assert whole.on_time_share == 2 / 4
    assert (whole.completed, whole.no_reaction, whole.snoozed_open, whole.open) == (3, 1, 0, 0)
    assert (whole.reaction_median_s, whole.reaction_p90_s) == (450, 16 * H)  # 120 300 600 16h
    assert (whole.overdue_now, whole.overdue_trend) == (2, (1, 2, 1, 1, 1, 1, 2))
    assert whole.escalations == 1


def test_each_task_once_with_its_final_outcome() -> None:
    rows = {
        r.task_id: r for r in figures(map(as_fact, HISTORY), NAMES, since=SINCE, until=UNTIL).tasks
    }

    assert {n: r.outcome for n, r in rows.items()} == {
        1: "completed", 2: "completed", 3: "completed", 4: "handed_over", 5: "deleted",
        6: "no_reaction", 7: "open",
    }  # fmt: skip
    t2 = rows[2]  # completed in amoCRM with no notice
    assert (t2.first_notice_at, t2.reaction_s, t2.on_time) == (None, None, True)
    t3 = rows[3]
    assert (t3.deadline_first, t3.deadline_final) == (T3_DUE, 14 * DAY + 9 * H)
    assert (t3.snoozes, t3.lateness_s, t3.completed_at) == (2, 22 * H, 14 * DAY + 10 * H)
    assert (t3.first_notice_at, t3.first_action_at, t3.reaction_s) == (
        13 * DAY + 11 * H, 13 * DAY + 11 * H + 300, 300,
    )  # fmt: skip
    t4 = rows[4]
    assert (t4.responsible, t4.holder, t4.reaction_s) == ("Oleg", "Ivan", 600)
    assert (rows[6].escalations, rows[7].deadline_first) == (1, 9 * DAY)


def test_a_snooze_kept_shows_apart_and_a_group_keeps_its_people() -> None:
    history = [
        task(10 * DAY, 8, "created", OLEG, 12 * DAY),
        reminded(11 * DAY, 8, OLEG, 12 * DAY),
        pressed(11 * DAY + 60, 8, OLEG, "snooze"),
        task(11 * DAY + 61, 8, "deadline", OLEG, 13 * DAY),
        task(12 * DAY + H, 8, "completed", OLEG, 13 * DAY),  # late, but by the new deadline
        *HISTORY,
    ]
    got = figures(map(as_fact, history), NAMES, since=SINCE, until=UNTIL, people=frozenset({OLEG}),
                  whole_name="Sales B")  # fmt: skip

    [oleg] = got.people
    assert (oleg.due, oleg.on_time, oleg.on_time_after_snooze, oleg.late) == (3, 0, 1, 1)
    assert got.whole.name == "Sales B"
    assert got.whole.due == 3  # Ivan's own tasks left out
    assert {r.task_id for r in got.tasks} == {4, 5, 6, 8}  # T4: Oleg's, now Ivan's


def test_an_empty_period_has_nothing_to_say() -> None:
    got = figures([], NAMES, since=SINCE, until=UNTIL, day_ends=ENDS)

    assert [f.due for f in got.people] == [0, 0, 0]
    whole = got.whole
    assert (whole.due, whole.on_time_share, whole.late_median_s, whole.overdue_now) == (
        0, None, None, 0,
    )  # fmt: skip
    assert (whole.reaction_median_s, whole.reaction_p90_s, whole.overdue_trend) == (
        None, None, (0,) * 7,
    )  # fmt: skip
    assert got.tasks == ()


def test_p90_and_minutes_read_as_defined() -> None:
    assert (p90([]), p90([5]), p90(list(range(1, 11))), p90(list(range(1, 12)))) == (
        None, 5, 9, 10,
    )  # fmt: skip
    assert (minutes(30), minutes(270), minutes(600), minutes(5430)) == ("0.5", "4.5", "10", "90")
