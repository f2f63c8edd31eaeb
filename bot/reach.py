"""Where a message for a person goes: every messenger they linked, or only the one they chose
(``/messenger``) while it takes messages for them.

A choice never makes someone unreachable: when the chosen messenger is paused (the bot blocked,
the account deactivated), messages go to the others again, and the one that failed is re-sent
there (``LinkGuard``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.links import Channel, ChannelLink, Links
from bot.prefs import Prefs


def reachable(links: Sequence[ChannelLink], choice: Channel | None) -> list[ChannelLink]:
    """The links to send to: the chosen one if it works, else every one that works."""
    working = [x for x in links if not x.paused]
    chosen = [x for x in working if x.channel == choice]
    return chosen or working


class Reach:
    def __init__(self, links: Links, prefs: Prefs) -> None:
        self._links = links
        self._prefs = prefs

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
