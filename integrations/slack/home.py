"""The App Home tab: a Slack user's open tasks for today, with the same buttons as a reminder.

Drawn when the user opens the tab, and drawn again whenever one of their tasks changes (a press
here or in Telegram, an edit in amoCRM), for users who have opened it: a tab nobody looks at is
not worth a ``views.publish``. Redraws run in the background, one at a time per user, so that a
slow Slack never holds up amoCRM events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.chat import Conversation
from bot.core import Clock, CrmEvent
from bot.people import Links
from bot.store import Store
from integrations.slack.api import SlackApi
from integrations.slack.errors import SlackError
from integrations.slack.render import render_home

log = logging.getLogger(__name__)

SEEN_NS = "slack_home_seen"
SEEN_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True, eq=False)
class SlackHome:
    _api: SlackApi
    _talk: Conversation
    _links: Links
    _store: Store
    _clock: Clock
    # The redraw running for each user, and the users whose tab changed again meanwhile.
    _redraws: dict[str, asyncio.Task[None]] = field(default_factory=dict, init=False)
    _stale: set[str] = field(default_factory=set, init=False)

    async def opened(self, slack_user_id: str) -> None:
        await self._store.put_doc(SEEN_NS, slack_user_id, "1", ttl_s=SEEN_TTL_S)
        await self.publish(slack_user_id)

    async def publish(self, slack_user_id: str) -> None:
        t = self._talk.t
        me = await self._talk.speaker("slack", slack_user_id, None)
        if not me.linked:
            locale = await self._api.locale(slack_user_id)
            me = await self._talk.speaker("slack", slack_user_id, locale)
        title = t(me.lang, "home_title")
        if not me.linked:
            view = render_home(title, "", [], t(me.lang, "home_not_linked"))
        else:
            local = datetime.fromtimestamp(self._clock.now(), ZoneInfo(me.reader.timezone))
            note = t(me.lang, "home_updated", when=local.strftime("%H:%M"))
            cards = await self._talk.today_cards(me)
            view = render_home(title, note, cards, t(me.lang, "tasks_none"))
        await self._api.publish_home(slack_user_id, view)

    async def on_events(self, events: Sequence[CrmEvent]) -> None:
        """The event listener: redraw the tab of everyone whose tasks changed, in the
        background, so that a slow Slack never holds up the processing of amoCRM events."""
        users: set[int] = set()
        for event in events:
            for task in (event.task, event.previous_task):
                if task is not None:
                    users.add(task.responsible_user_id)
        for amo_user_id in sorted(users):
            link = await self._links.by_amo(amo_user_id, "slack")
            if link is None or await self._store.get_doc(SEEN_NS, link.account_id) is None:
                continue
            self._schedule(link.account_id)

    def _schedule(self, slack_user_id: str) -> None:
        if slack_user_id in self._redraws:
            # One redraw per user at a time; a change during it asks for one more after it,
            # since the one under way may have read the tasks before the change.
            self._stale.add(slack_user_id)
            return
        self._redraws[slack_user_id] = asyncio.create_task(self._redraw(slack_user_id))

    async def _redraw(self, slack_user_id: str) -> None:
        try:
            while True:
                self._stale.discard(slack_user_id)
                try:
                    await self.publish(slack_user_id)
                except SlackError as exc:  # the tab is redrawn on the next change or opening
                    log.warning("slack: home of %s not redrawn: %s", slack_user_id, exc)
                except Exception:
                    log.exception("slack: home of %s not redrawn", slack_user_id)
                if slack_user_id not in self._stale:
                    return
        finally:
            del self._redraws[slack_user_id]

    async def close(self, timeout_s: float = 5.0) -> None:
        """Let the redraws under way finish (on stop), then drop what is left."""
        pending = list(self._redraws.values())
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=timeout_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
