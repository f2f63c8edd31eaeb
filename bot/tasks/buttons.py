"""Button payloads: short, id-only strings, the same in Telegram (callback_data, ≤ 64 bytes) and
Slack (action value). Nothing in a payload is trusted: the task is re-read and the presser's
rights checked on every press, so a forged payload can do no more than its presser may.
"""

from __future__ import annotations

from enum import StrEnum

from bot.core import Value

MAX_PAYLOAD_BYTES = 64


class Action(StrEnum):
    COMPLETE = "c"
    COMMENT = "m"  # complete with a comment (the bot asks for it)
    SNOOZE_MENU = "s"
    SNOOZE = "z"  # arg: minutes, "tm" (tomorrow 09:00) or "cu" (custom: the bot asks)
    REASSIGN_MENU = "r"  # arg: page number
    REASSIGN = "a"  # arg: amoCRM user id
    BACK = "b"  # back to the card's main buttons


class Payload(Value):
    action: Action
    task_id: int
    arg: str = ""

    def pack(self) -> str:
        packed = f"t:{self.action.value}:{self.task_id}" + (f":{self.arg}" if self.arg else "")
        if len(packed.encode()) > MAX_PAYLOAD_BYTES or ":" in self.arg:
            raise ValueError("button payload too long or malformed")
        return packed


class DealAction(StrEnum):
    FOLLOW_UP = "f"  # a follow-up task on the deal, tomorrow 10:00, for the presser
    TAKE = "t"  # a new unassigned deal: the presser becomes responsible (first press wins)


class DealPayload(Value):
    action: DealAction
    deal_id: int

    def pack(self) -> str:
        return f"d:{self.action.value}:{self.deal_id}"


class BadPayload(ValueError):
    """Not one of our payloads (an old format, or forged)."""


def unpack_deal(data: str) -> DealPayload:
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != "d" or not parts[2].isdigit():
        raise BadPayload(data[:64])
    try:
        return DealPayload(action=DealAction(parts[1]), deal_id=int(parts[2]))
    except ValueError:
        raise BadPayload(data[:64]) from None


def unpack(data: str) -> Payload:
    parts = data.split(":")
    if len(parts) not in (3, 4) or parts[0] != "t" or not parts[2].isdigit():
        raise BadPayload(data[:64])
    try:
        action = Action(parts[1])
    except ValueError:
        raise BadPayload(data[:64]) from None
    return Payload(action=action, task_id=int(parts[2]), arg=parts[3] if len(parts) == 4 else "")
