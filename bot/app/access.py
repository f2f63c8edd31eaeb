"""When amoCRM stops accepting our token: pause the amoCRM work, tell the admins once (in their
language, with how to re-authorise), and notice when access is back.

The loss is seen by any replica's amoCRM calls (a 401, or a refused refresh); the "lost" state is
kept in the store, set and cleared by compare-and-set, so the admins hear of it once whatever the
number of replicas. While it lasts, the amoCRM jobs skip their work and this watch probes amoCRM
once per tick instead; the events poll's cursor has not moved meanwhile, so once access is back
the next poll catches up on what changed. The webhook inbox, drained by every replica, waits on
the store's record (``paused``): its hints stay queued and are processed once access is back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass

from bot.app.health import ACCESS_NS, LOST, STATE_KEY, TOKENS_KEY, AmoAccess, access_lost
from bot.app.services import Services
from bot.core import CrmError, TextMessage
from bot.delivery import OutboxItem
from bot.people import language
from bot.store import Store
from integrations.amocrm import AmoAuthError, AmoClient, AmoError

log = logging.getLogger(__name__)

ADMINS_KEY = "admins"


@dataclass(frozen=True, slots=True, eq=False)
class AccessWatch:
    _store: Store
    _client: AmoClient
    _access: AmoAccess
    _s: Services
    _: KW_ONLY
    oauth: bool  # tokens come from ``amobridge authorize`` (else a long-lived token)

    def pausing(self, body: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
        """A job body that does nothing while amoCRM refuses our token (this watch probes
        instead), nor, with OAuth, before ``amobridge authorize`` stored the first tokens. A
        refusal met by the body itself pauses the work (admins told once), not a traceback."""

        async def run() -> None:
            if self._access.lost:
                return
            if self.oauth and await self._store.load_tokens(TOKENS_KEY) is None:
                return
            try:
                await body()
            except CrmError as exc:
                if not exc.access_lost:
                    raise
                await self.lost_now("amoCRM rejects the token")

        return run

    async def paused(self) -> bool:
        """Whether the amoCRM work every replica does (the webhook inbox) waits: access is lost
        (the store's record, shared by the replicas and cleared by the watch once amoCRM answers
        again), or, with OAuth, nothing is authorised yet."""
        if self.oauth and await self._store.load_tokens(TOKENS_KEY) is None:
            return True
        return await access_lost(self._store)

    async def tick(self) -> None:
        if not self._access.lost and not await access_lost(self._store):
            await self._remember_admins()
            return
        try:
            await self._client.account()
        except AmoAuthError:
            await self.lost_now("amoCRM rejects the token")
            return
        except AmoError:
            return  # amoCRM is down or slow: not a matter of access
        self._access.lost = False
        if await self._store.swap_doc(ACCESS_NS, STATE_KEY, LOST, None):
            log.info("amoCRM access is back; the events poll catches up")
            await self._tell("amocrm_back")

    async def lost_now(self, why: str) -> None:
        """Access is lost (a refused token, or amoCRM's "integration disabled" hook): pause the
        amoCRM work and, the first time across replicas, tell the admins."""
        self._access.lost = True
        if await self._store.swap_doc(ACCESS_NS, STATE_KEY, None, LOST):
            log.warning("amoCRM access is lost: %s; amoCRM work paused", why)
            await self._tell("amocrm_lost_oauth" if self.oauth else "amocrm_lost_token")

    async def _remember_admins(self) -> None:
        """Who to tell, and in which language, kept while amoCRM answers: once it refuses us,
        the directory cannot be read."""
        try:
            users = await self._s.directory.active_users()
        except AmoError:
            return
        roster = [
            [user.id, language(await self._s.prefs.get(user.id), user)]
            for user in users
            if user.rights.is_admin
        ]
        encoded = json.dumps(roster)
        if await self._store.get_doc(ACCESS_NS, ADMINS_KEY) != encoded:
            await self._store.put_doc(ACCESS_NS, ADMINS_KEY, encoded)

    async def _tell(self, key: str) -> None:
        # The directory may still answer from its cache; else the roster kept while it did.
        await self._remember_admins()
        roster = json.loads(await self._store.get_doc(ACCESS_NS, ADMINS_KEY) or "[]")
        notices = []
        for admin_id, lang in roster:
            links = [link for link in await self._s.links.of_user(admin_id) if not link.paused]
            if not links:
                continue
            link = links[0]  # one notice per admin
            notices.append(OutboxItem(
                channel=link.channel, chat_id=link.chat_id, recipient=admin_id,
                card=TextMessage(text=self._s.t(lang, key)),
            ))  # fmt: skip
        await self._s.outbox.enqueue(notices)
