"""amoCRM tasks in the messengers: the pure reminder schedule and the service that keeps one
pending reminder per task and person, the task cards and their buttons, and what a press does
(complete, snooze, reassign, follow up, take a deal), written back to amoCRM once.
"""

from bot.tasks.actions import TaskActions
from bot.tasks.build import TaskParts, build_tasks
from bot.tasks.buttons import (
    MAX_PAYLOAD_BYTES,
    Action,
    BadPayload,
    DealAction,
    DealPayload,
    Payload,
    unpack,
    unpack_deal,
)
from bot.tasks.cards import CardFactory, OutcomeLine
from bot.tasks.outcomes import ActionResult, Outcome
from bot.tasks.reminders import DRAW_AHEAD_S, REMINDER_QUEUE, ReminderService, subject
from bot.tasks.schedule import DEFAULT_LEAD_MINUTES

__all__ = [
    "DEFAULT_LEAD_MINUTES",
    "DRAW_AHEAD_S",
    "MAX_PAYLOAD_BYTES",
    "REMINDER_QUEUE",
    "Action",
    "ActionResult",
    "BadPayload",
    "CardFactory",
    "DealAction",
    "DealPayload",
    "Outcome",
    "OutcomeLine",
    "Payload",
    "ReminderService",
    "TaskActions",
    "TaskParts",
    "build_tasks",
    "subject",
    "unpack",
    "unpack_deal",
]
