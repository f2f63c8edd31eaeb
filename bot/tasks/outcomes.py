"""What a press came to: the outcome the chat layer words for the presser."""

from __future__ import annotations

from enum import StrEnum

from bot.core import Crm, CrmError, Deal, Task, Value

# How long a press holds its entity, so that a double press (or two replicas) is one write.
LEASE_S = 30.0


class Outcome(StrEnum):
    DONE = "done"
    DENIED = "denied"
    ALREADY_DONE = "already_done"
    GONE = "gone"
    BUSY = "busy"
    CRM_ERROR = "crm_error"  # amoCRM refused or failed, and surely changed nothing
    UNKNOWN = "unknown"  # the answer was lost and amoCRM cannot tell yet: settled later
    BAD_ASSIGNEE = "bad_assignee"
    PARKED = "parked"  # amoCRM does not answer: saved, written when it is back


class ActionResult(Value):
    outcome: Outcome
    task: Task | None = None
    deal: Deal | None = None  # for a deal action: the deal as it is now

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


async def live_deal(crm: Crm, deal_id: int) -> Deal | ActionResult:
    """The deal as amoCRM has it now, or why there is none to act on."""
    try:
        deal = await crm.lead(deal_id)
    except CrmError:
        return ActionResult(outcome=Outcome.CRM_ERROR)
    if deal is None or deal.is_deleted:
        return ActionResult(outcome=Outcome.GONE)
    return deal
