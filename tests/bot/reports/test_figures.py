"""Reaction figures from the activity log: a subject counts once per person whatever the
copies, a press reacts to the latest notice before it, and a group report keeps its people."""

from __future__ import annotations

from bot.core.domain import Channel
from bot.reports.figures import figures, minutes
from bot.reports.log import Activity

IVAN, OLEG = 1, 2
NAMES = {IVAN: "Ivan", OLEG: "Oleg"}


def sent(at: float, person: int, subject: str, channel: Channel = "telegram") -> Activity:
    return Activity(at=at, kind="sent", person=person, channel=channel, subject=subject,
                    what="reminder")  # fmt: skip


def pressed(
    at: float, person: int, subject: str, what: str, channel: Channel = "slack"
) -> Activity:
    return Activity(at=at, kind="pressed", person=person, channel=channel, subject=subject,
                    what=what)  # fmt: skip


def test_two_copies_count_once_and_a_press_reacts_to_the_latest_notice() -> None:
    log = [
        sent(0, IVAN, "task:1"),
        sent(1, IVAN, "task:1", "slack"),  # the same reminder in his other messenger
        sent(3000, IVAN, "task:1"),  # the 15-minute one
        pressed(3120, IVAN, "task:1", "complete"),
        sent(100, IVAN, "task:2"),
        sent(100, OLEG, "task:3"),
        pressed(200, OLEG, "task:9", "snooze", "telegram"),  # from /tasks: nothing told before
    ]

    rows, totals = figures(log, NAMES)

    ivan, oleg = rows
    assert (ivan.name, ivan.notified, ivan.acted_on, ivan.unanswered) == ("Ivan", 2, 1, 1)
    assert (ivan.completed, ivan.presses_slack, ivan.presses_telegram) == (1, 1, 0)
    assert ivan.median_reaction_s == 120
    assert (oleg.notified, oleg.acted_on, oleg.snoozed, oleg.median_reaction_s) == (1, 0, 1, None)
    assert (totals.people, totals.notified, totals.acted_on, totals.presses) == (2, 3, 1, 2)
    assert totals.reaction_rate == 1 / 3
    assert totals.median_reaction_s == 120


def test_a_press_before_any_notice_is_no_reaction_and_a_group_keeps_its_people() -> None:
    log = [pressed(50, IVAN, "deal:7", "take"), sent(60, IVAN, "deal:7"), sent(70, OLEG, "task:3")]

    group = {IVAN}  # a group report reads its people's lines only
    rows, totals = figures([e for e in log if e.person in group], NAMES)

    [ivan] = rows
    assert (ivan.notified, ivan.acted_on, ivan.other, ivan.median_reaction_s) == (1, 0, 1, None)
    assert totals.reaction_rate == 0
    nobody, nothing = figures([], NAMES)
    assert nobody == ()
    assert (nothing.people, nothing.reaction_rate, nothing.median_reaction_s) == (0, None, None)


def test_minutes_read_well() -> None:
    assert (minutes(30), minutes(270), minutes(600), minutes(5430)) == ("0.5", "4.5", "10", "90")
