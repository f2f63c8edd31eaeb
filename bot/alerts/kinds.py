"""What is worth telling someone: alerts derived from CRM events (and, later, from scans).

One CRM event may be several alerts (a deal moved to "won" is a status change and a win; a new
deal over the threshold is also a big deal). Pure functions, no I/O.
"""

from __future__ import annotations

from enum import StrEnum

from bot.core import (
    LOST_STATUS_ID,
    WON_STATUS_ID,
    ChangeContext,
    CrmEvent,
    CrmEventKind,
)


class AlertKind(StrEnum):
    DEAL_CREATED = "deal_created"
    DEAL_STATUS = "deal_status"
    DEAL_WON = "deal_won"
    DEAL_LOST = "deal_lost"
    DEAL_RESPONSIBLE = "deal_responsible"
    BIG_DEAL = "big_deal"
    STALE_DEAL = "stale_deal"
    CLOSE_DATE_NEAR = "close_date_near"
    TASK_CREATED = "task_created"
    TASK_COMPLETED = "task_completed"
    TASK_OVERDUE = "task_overdue"
    TASK_ESCALATED = "task_escalated"  # overdue, and its responsible has not reacted
    TASK_REASSIGNED = "task_reassigned"  # handed to someone else
    REPORT = "report"  # no event makes it: the report sent on a schedule (``alerts.reports``)

    @property
    def about_deal(self) -> bool:
        return not self.value.startswith("task_")


# The kinds about a deal's stage: their cards and digest lines say where it went.
STATUS_KINDS = (AlertKind.DEAL_STATUS, AlertKind.DEAL_WON, AlertKind.DEAL_LOST)
# When one change makes several alerts for one person, the card is headed by the first of these
# it has; the others become lines of it.
MOST_TELLING = (
    AlertKind.DEAL_WON, AlertKind.DEAL_LOST, AlertKind.DEAL_CREATED, AlertKind.DEAL_RESPONSIBLE,
    AlertKind.BIG_DEAL, AlertKind.DEAL_STATUS, AlertKind.TASK_CREATED, AlertKind.TASK_REASSIGNED,
    AlertKind.TASK_COMPLETED,
)  # fmt: skip


class Alert(ChangeContext):
    """What happened to a deal or a task (its ``ChangeContext``, from the event or a scan), as told
    to the people who follow it."""

    kind: AlertKind
    key: str  # the alert's identity: a recipient hears about one key once
    occurred_at: int
    since: int | None = None  # a stuck deal: when it entered its stage; closing: its close date
    change: str | None = None  # the entity version it comes from: one message per person for it

    @property
    def responsible_id(self) -> int | None:
        entity = self.deal if self.kind.about_deal else self.task
        return entity.responsible_user_id if entity is not None else None


def alerts_from(event: CrmEvent, *, big_deal_price: int | None) -> list[Alert]:
    """The alerts one CRM event makes; ``big_deal_price``: the "big deal" threshold, if set."""
    kinds: list[AlertKind] = []
    deal, before = event.deal, event.previous_deal
    if event.kind is CrmEventKind.DEAL_CREATED and deal is not None:
        kinds.append(AlertKind.DEAL_CREATED)
        if big_deal_price is not None and deal.price >= big_deal_price:
            kinds.append(AlertKind.BIG_DEAL)
    elif event.kind is CrmEventKind.DEAL_STATUS_CHANGED and deal is not None:
        kinds.append(AlertKind.DEAL_STATUS)
        if deal.status_id == WON_STATUS_ID:
            kinds.append(AlertKind.DEAL_WON)
        elif deal.status_id == LOST_STATUS_ID:
            kinds.append(AlertKind.DEAL_LOST)
    elif event.kind is CrmEventKind.DEAL_RESPONSIBLE_CHANGED and deal is not None:
        kinds.append(AlertKind.DEAL_RESPONSIBLE)
    if (
        event.kind in (CrmEventKind.DEAL_UPDATED, CrmEventKind.DEAL_STATUS_CHANGED)
        and deal is not None
        and before is not None
        and big_deal_price is not None
        and before.price < big_deal_price <= deal.price
    ):
        kinds.append(AlertKind.BIG_DEAL)  # the price just crossed the threshold
    if event.kind is CrmEventKind.TASK_CREATED and event.task is not None:
        kinds.append(AlertKind.TASK_CREATED)
    elif event.kind is CrmEventKind.TASK_COMPLETED and event.task is not None:
        kinds.append(AlertKind.TASK_COMPLETED)
    elif event.kind is CrmEventKind.TASK_RESPONSIBLE_CHANGED and event.task is not None:
        kinds.append(AlertKind.TASK_REASSIGNED)
    return [
        Alert(
            kind=kind, key=f"{event.key}:{kind.value}", occurred_at=event.occurred_at,
            change=f"{event.entity_kind}:{event.entity_id}:{event.version}",
            actor_id=event.actor_id, via=event.via, deal=deal, previous_deal=before,
            task=event.task, previous_task=event.previous_task,
        )
        for kind in kinds
    ]  # fmt: skip
