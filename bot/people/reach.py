"""Where and when a message for a person goes: every messenger they linked, or only the one they
chose (``/messenger``) while it takes messages for them; now, or when their quiet hours or mute
are over (``bot.people.quiet``).

A choice never makes someone unreachable: when the chosen messenger is paused (the bot blocked,
the account deactivated), messages go to the others again, and the one that failed is re-sent
there (``LinkGuard``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core import Channel, Clock, Reader
from bot.crm import Directory
from bot.people.links import ChannelLink, Links
from bot.people.prefs import Prefs, chosen_hours, language, timezone
from bot.people.quiet import held_until


def reachable(links: Sequence[ChannelLink], choice: Channel | None) -> list[ChannelLink]:
    """The links to send to: the chosen one if it works, else every one that works."""
    working = [x for x in links if not x.paused]
    chosen = [x for x in working if x.channel == choice]
    return chosen or working


@dataclass(frozen=True, slots=True, eq=False)
class Reach:
    _links: Links
    _prefs: Prefs
    _directory: Directory
    _clock: Clock

    async def reader(self, amo_user_id: int) -> Reader:
        """The person's language and timezone, to write a card for them."""
        prefs = await self._prefs.get(amo_user_id)
        user = await self._directory.user(amo_user_id)
        account = await self._directory.account()
        return Reader(lang=language(prefs, user), timezone=timezone(prefs, account))

    async def held_until(self, amo_user_id: int) -> int | None:
        """Until when the person's alerts and reminders wait (quiet hours, mute, outside working
        hours someone set); None: now."""
        prefs = await self._prefs.get(amo_user_id)
        account = await self._directory.account()
        hours = chosen_hours(prefs, await self._prefs.account())
        return held_until(int(self._clock.now()), prefs, timezone(prefs, account), hours)

    async def links(self, amo_user_id: int) -> list[ChannelLink]:
        """The messengers a message for this amoCRM user goes to now."""
        choice = (await self._prefs.get(amo_user_id)).messenger
        return reachable(await self._links.of_user(amo_user_id), choice)

    async def instead_of(self, amo_user_id: int, failed: Channel) -> list[ChannelLink]:
        """After ``failed`` refused the person for good: where a message that went only there
        goes instead (none if they take every messenger: the others had their copy)."""
        if (await self._prefs.get(amo_user_id)).messenger != failed:
            return []
        return [x for x in await self.links(amo_user_id) if x.channel != failed]
