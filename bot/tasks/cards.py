"""Task cards in the reader's language and timezone: reminders, ``/tasks`` lines, outcomes, and
the button menus that hang off them (snooze, reassign)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import (
    Button,
    Catalogue,
    Deal,
    Lang,
    Reader,
    Task,
    TaskCard,
    User,
    Value,
    human_duration,
    human_moment,
)
from bot.crm import Directory
from bot.tasks.buttons import Action, packed
from bot.tasks.schedule import Reminder, ReminderKind

REASSIGN_PAGE = 8
SNOOZE_CHOICES = ("15", "60", "tm", "cu")


class OutcomeLine(Value):
    """What happened to a task, for the line that replaces its buttons."""

    kind: str  # completed | snoozed | reassigned | deadline | deleted
    actor: str | None = None
    via: str | None = None  # telegram | slack | amocrm
    when: int | None = None  # the new deadline
    assignee: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class CardFactory:
    _t: Catalogue
    _directory: Directory

    async def task_card(
        self,
        task: Task,
        reader: Reader,
        now: int,
        *,
        deal: Deal | None = None,
        reminder: Reminder | None = None,
        outcome: OutcomeLine | None = None,
        actor: User | None = None,
        heading: str | None = None,
    ) -> TaskCard:
        """``actor``: the reader as an amoCRM user, when the card goes to one person; their
        rights decide whom the Reassign menu offers."""
        t, lang = self._t, reader.lang
        overdue = not task.is_completed and task.complete_till <= now
        if heading is not None:
            pass  # an alert names what happened itself
        elif outcome is not None:
            heading = t(lang, f"heading_{outcome.kind}")
        elif reminder is not None and reminder.kind is ReminderKind.BEFORE:
            heading = t(
                lang,
                "heading_before",
                duration=human_duration(t, lang, reminder.minutes_before or 0),
            )
        elif reminder is not None and reminder.kind in (ReminderKind.DUE, ReminderKind.TODAY):
            heading = t(lang, f"heading_{reminder.kind.value}")
        elif overdue:
            late = (now - task.complete_till) // 60
            heading = t(lang, "heading_overdue", duration=human_duration(t, lang, late))
        else:
            heading = t(lang, "heading_task")
        type_name = await self._directory.task_type_name(task.type_id) or t(lang, "task_type")
        deal_id = task.deal_id
        actionable = outcome is None and not task.is_completed
        people: tuple[User, ...] = ()
        if actionable and actor is not None:
            people = await self._directory.assignees(actor, excluding=task.responsible_user_id)
        return TaskCard(
            task_id=task.id,
            heading=heading,
            type_name=type_name,
            text=task.text,
            due_text=t(lang, "due", when=human_moment(t, reader, task.complete_till, now)),
            deal_name=(deal.name or t(lang, "deal_untitled")) if deal else None,
            deal_url=self._directory.deal_url(deal_id) if deal_id else None,
            overdue=overdue,
            outcome=self._outcome_line(outcome, reader, now) if outcome else None,
            rows=self.main_rows(task, lang) if actionable else (),
            snooze_choices=self.snooze_choices(task, lang) if actionable else (),
            assignees=tuple(
                Button(label=u.name, payload=_p(Action.REASSIGN, task, str(u.id)))
                for u in people
            ),
        )  # fmt: skip

    def _outcome_line(self, outcome: OutcomeLine, reader: Reader, now: int) -> str:
        t, lang = self._t, reader.lang
        return t(
            lang,
            f"outcome_{outcome.kind}",
            actor=outcome.actor or t(lang, "someone"),
            via=t(lang, f"via_{outcome.via or 'amocrm'}"),
            when=human_moment(t, reader, outcome.when, now) if outcome.when else "",
            assignee=outcome.assignee or "",
        )

    def main_rows(self, task: Task, lang: Lang) -> tuple[tuple[Button, ...], ...]:
        t = self._t
        rows: list[tuple[Button, ...]] = [
            (
                Button(label=t(lang, "btn_complete"), payload=_p(Action.COMPLETE, task),
                       primary=True),
                Button(label=t(lang, "btn_comment"), payload=_p(Action.COMMENT, task)),
            ),
            (
                Button(label=t(lang, "btn_snooze"), payload=_p(Action.SNOOZE_MENU, task)),
                Button(label=t(lang, "btn_reassign"), payload=_p(Action.REASSIGN_MENU, task, "0")),
            ),
        ]  # fmt: skip
        if task.deal_id:
            rows.append(
                (Button(label=t(lang, "btn_open"), url=self._directory.deal_url(task.deal_id)),)
            )
        return tuple(rows)

    def snooze_choices(self, task: Task, lang: Lang) -> tuple[Button, ...]:
        return tuple(
            Button(label=self._t(lang, f"btn_snooze_{c}"), payload=_p(Action.SNOOZE, task, c))
            for c in SNOOZE_CHOICES
        )

    def snooze_rows(self, task: Task, lang: Lang) -> tuple[tuple[Button, ...], ...]:
        t = self._t
        choices = self.snooze_choices(task, lang)
        back = Button(label=t(lang, "btn_back"), payload=_p(Action.BACK, task))
        return (tuple(choices[:2]), tuple(choices[2:]), (back,))

    def reassign_rows(
        self, task: Task, lang: Lang, candidates: list[User], page: int
    ) -> tuple[tuple[Button, ...], ...]:
        t = self._t
        pages = max(1, -(-len(candidates) // REASSIGN_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = candidates[page * REASSIGN_PAGE : (page + 1) * REASSIGN_PAGE]
        rows: list[tuple[Button, ...]] = [
            (Button(label=u.name, payload=_p(Action.REASSIGN, task, str(u.id))),) for u in shown
        ]
        nav = []
        if page > 0:
            nav.append(
                Button(
                    label=t(lang, "btn_prev"),
                    payload=_p(Action.REASSIGN_MENU, task, str(page - 1)),
                )
            )
        if page + 1 < pages:
            nav.append(
                Button(
                    label=t(lang, "btn_next"),
                    payload=_p(Action.REASSIGN_MENU, task, str(page + 1)),
                )
            )
        rows.append((*nav, Button(label=t(lang, "btn_back"), payload=_p(Action.BACK, task))))
        return tuple(rows)  # fmt: skip


def _p(action: Action, task: Task, arg: str = "") -> str:
    return packed(action, task.id, arg)
