"""``/health`` for admins: is amobridge hearing amoCRM and reaching people, and whom it cannot.

Everything comes from the shared store (queues, links, the event journal) plus one live read of
amoCRM, so any replica answers for all of them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bot.core import CHANNELS, Catalogue, Clock, CrmError, CrmReader, Lang, Reader, human_moment
from bot.crm import INBOX_QUEUES, Directory
from bot.delivery import outbox_queue
from bot.people import RELEASE_QUEUE, Links
from bot.store import Store

DAY_S = 24 * 3600
AMOCRM_WAIT_S = 5.0
JOURNAL_SCAN = 50_000  # events read to count a day's at most (a busy account has a few thousand)


@dataclass(frozen=True, slots=True, eq=False)
class HealthReport:
    _store: Store
    _crm: CrmReader
    _directory: Directory
    _links: Links
    _clock: Clock
    _t: Catalogue

    async def report(self, reader: Reader) -> str:
        t, lang = self._t, reader.lang
        now = int(self._clock.now())
        lines = [t(lang, "health_title"), await self._amocrm(lang)]
        events = await self._store.recent_events(since=now - DAY_S, limit=JOURNAL_SCAN)
        if events:
            latest = human_moment(t, reader, max(e.occurred_at for e in events), now)
            lines.append(t(lang, "health_events", count=len(events), latest=latest))
        else:
            lines.append(t(lang, "health_no_events"))
        inbox = sum([await self._store.count_due(queue) for queue in INBOX_QUEUES])
        lines.append(t(lang, "health_inbox", count=inbox))
        queued = [
            f"{t(lang, f'via_{c}')} {await self._store.count_due(outbox_queue(c))}"
            for c in CHANNELS
        ]
        lines.append(t(lang, "health_outbox", queued=", ".join(queued)))
        lines.append(t(lang, "health_held", count=await self._store.count_due(RELEASE_QUEUE)))
        links = await self._links.all()
        active = len(await self._directory.active_users())
        linked = [f"{t(lang, f'via_{c}')} {sum(x.channel == c for x in links)}" for c in CHANNELS]
        lines.append(t(lang, "health_linked", linked=", ".join(linked), users=active))
        paused = []
        for link in sorted(links, key=lambda x: (x.amo_user_id, x.channel)):
            if link.paused:
                user = await self._directory.user(link.amo_user_id)
                name = user.name if user else str(link.amo_user_id)
                paused.append(f"{name} ({t(lang, f'via_{link.channel}')})")
        lines.append(
            t(lang, "health_paused", names=", ".join(paused))
            if paused
            else t(lang, "health_none_paused")
        )
        return "\n".join(lines)

    async def _amocrm(self, lang: Lang) -> str:
        started = time.perf_counter()
        try:
            # An admin waits for this answer: a hanging amoCRM is reported, not waited out.
            async with asyncio.timeout(AMOCRM_WAIT_S):
                account = await self._crm.account()
        except (CrmError, TimeoutError):
            return self._t(lang, "health_amocrm_down")
        ms = round((time.perf_counter() - started) * 1000)
        return self._t(lang, "health_amocrm_ok", account=account.name, ms=ms)
