"""Button payloads: short, id-only strings, the same in Telegram (callback_data, ≤ 64 bytes) and
Slack (action value). Nothing in a payload is trusted: the task is re-read and the presser's
rights checked on every press, so a forged payload can do no more than its presser may.
"""

from __future__ import annotations

import re
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


def packed(action: Action, task_id: int, arg: str = "") -> str:
    """``Payload(...).pack()`` without the value and its checks, for the payloads cards make:
    an int id and a short arg (a snooze choice, a page, a user id) are at most 43 bytes of the
    64 allowed (tests/bot/tasks/test_buttons.py). A burst of reminders draws thousands of cards
    of ten payloads each (bench/scheduler.py)."""
    return f"t:{action.value}:{task_id}:{arg}" if arg else f"t:{action.value}:{task_id}"


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


MAX_ID = 2**63 - 1  # amoCRM's ids are signed 64-bit
_ARG = re.compile(r"[0-9a-z]{1,19}", re.ASCII)
_NUMBER_ARG = (Action.REASSIGN_MENU, Action.REASSIGN)  # a page, a user id


def unpack_deal(data: object) -> DealPayload:
    """A deal button's payload; ``BadPayload`` for anything we did not write ourselves."""
    parts = _parts(data, 3, 3, "d")
    try:
        action = DealAction(parts[1])
    except ValueError:
        raise BadPayload(_shown(data)) from None
    return DealPayload(action=action, deal_id=_id(parts[2], data))


def unpack(data: object) -> Payload:
    """A task button's payload; ``BadPayload`` for anything we did not write ourselves (a
    Slack action's value can be any JSON: it is checked to be a string here too)."""
    parts = _parts(data, 3, 4, "t")
    try:
        action = Action(parts[1])
    except ValueError:
        raise BadPayload(_shown(data)) from None
    arg = parts[3] if len(parts) == 4 else ""
    if arg and (_ARG.fullmatch(arg) is None or (action in _NUMBER_ARG and not arg.isdigit())):
        raise BadPayload(_shown(data))
    if action in _NUMBER_ARG and not arg:
        raise BadPayload(_shown(data))
    return Payload(action=action, task_id=_id(parts[2], data), arg=arg)


def _parts(data: object, fewest: int, most: int, kind: str) -> list[str]:
    if not isinstance(data, str) or len(data.encode()) > MAX_PAYLOAD_BYTES:
        raise BadPayload(_shown(data))
    parts = data.split(":")
    if not fewest <= len(parts) <= most or parts[0] != kind:
        raise BadPayload(_shown(data))
    return parts


def _id(text: str, data: object) -> int:
    """An amoCRM id: ASCII digits only (``str.isdigit`` takes "²", which ``int`` refuses)."""
    if not (0 < len(text) <= 19 and text.isascii() and text.isdigit()):
        raise BadPayload(_shown(data))
    number = int(text)
    if not 0 < number <= MAX_ID:
        raise BadPayload(_shown(data))
    return number


def _shown(data: object) -> str:
    return repr(data)[:64]
