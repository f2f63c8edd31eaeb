"""What reached whom, and what they pressed: the log behind ``/report`` and ``/export``.

A notification is logged when the messenger took it (one line per copy: a person linked in both
messengers gets two), a press when its write to amoCRM went through. Lines are kept
``KEEP_DAYS``; a daily job trims the older ones.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from bot.core import Channel, Clock, Value
from bot.store import Store

ACTIVITY_NS = "activity"
KEEP_DAYS = 400
# A report reads at most this many lines: a year of a 50-person team at 100 lines a day each.
READ_LIMIT = 2_000_000

Notice = Literal["reminder", "alert"]
Press = Literal["complete", "snooze", "reassign", "follow_up", "take"]


class Activity(Value):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: float
    kind: Literal["sent", "pressed"]
    person: int  # the amoCRM user told, or who pressed
    channel: Channel
    subject: str  # "task:12", "deal:7"
    what: str  # sent: a Notice; pressed: a Press


@dataclass(frozen=True, slots=True, eq=False)
class ActivityLog:
    _store: Store
    _clock: Clock

    async def sent(
        self, person: int, channel: Channel, subject: str, notice: Notice, *, at: float
    ) -> None:
        await self._add(Activity(at=at, kind="sent", person=person, channel=channel,
                                 subject=subject, what=notice))  # fmt: skip

    async def pressed(self, person: int, via: str, subject: str, press: Press) -> None:
        channel: Channel = "slack" if via == "slack" else "telegram"
        await self._add(Activity(at=self._clock.now(), kind="pressed", person=person,
                                 channel=channel, subject=subject, what=press))  # fmt: skip

    async def between(self, since: float, until: float) -> list[Activity]:
        lines = await self._store.read_log(ACTIVITY_NS, since, until, limit=READ_LIMIT)
        # A year of a team is 10⁵–10⁶ lines: parsed off the event loop, which must keep
        # acknowledging Slack within 3 s and answering Telegram meanwhile.
        return await asyncio.to_thread(_parse, lines)

    async def trim(self) -> int:
        """Forget what is older than ``KEEP_DAYS``; returns how many lines went."""
        return await self._store.trim_log(ACTIVITY_NS, self._clock.now() - KEEP_DAYS * 86400)

    async def _add(self, entry: Activity) -> None:
        await self._store.add_log(ACTIVITY_NS, entry.at, entry.model_dump_json())


def _parse(lines: list[str]) -> list[Activity]:
    return [Activity.model_validate_json(line) for line in lines]
