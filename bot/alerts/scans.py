"""Alerts no event carries: a deal stuck in its stage for longer than the admins allow
(``/stale``), and a deal whose close date is near with no result yet.

A scheduled scan, hourly, and only when some subscription wants these alerts: it asks amoCRM for
the deals in the watched stages and those closing soon (a few paged reads). When a deal entered
its stage comes from the moves amobridge saw; for a deal it has not seen move, from amoCRM's
event history (the last ``lead_status_changed``), else its creation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.alerts.kinds import Alert, AlertKind
from bot.alerts.subscriptions import Subscriptions
from bot.core import LOST_STATUS_ID, WON_STATUS_ID, Clock, Crm, CrmEvent, CrmEventKind, Deal, Value
from bot.crm import Directory
from bot.store import Store

log = logging.getLogger(__name__)

STAGE_NS = "stage_since"
STAGE_TTL_S = 400 * 24 * 3600
SCAN_CURSOR = "alerts:deal_scan"
SCAN_EVERY_S = 3600
STATUS_EVENT = "lead_status_changed"
_CLOSED = (WON_STATUS_ID, LOST_STATUS_ID)


class StageSince(Value):
    status_id: int
    since: int


@dataclass(frozen=True, slots=True, eq=False)
class DealScans:
    _crm: Crm
    _store: Store
    _directory: Directory
    _subscriptions: Subscriptions
    _clock: Clock
    _deliver: Callable[[list[Alert]], Awaitable[None]]

    async def on_events(self, events: Sequence[CrmEvent]) -> None:
        """Note when each deal entered its stage (a listener of applied events)."""
        for event in events:
            deal = event.deal
            if deal is None or event.kind not in (
                CrmEventKind.DEAL_CREATED, CrmEventKind.DEAL_STATUS_CHANGED
            ):  # fmt: skip
                continue
            mark = StageSince(status_id=deal.status_id, since=event.occurred_at)
            await self._store.put_doc(STAGE_NS, str(deal.id), mark.model_dump_json(),
                                      ttl_s=STAGE_TTL_S)  # fmt: skip

    async def scan(self) -> int:
        """The scheduled job (ticks often, scans hourly); returns how many alerts it made."""
        now = int(self._clock.now())
        last = await self._store.get_cursor(SCAN_CURSOR)
        if last is not None and now - int(last) < SCAN_EVERY_S:
            return 0
        kinds = {s.kind for s in await self._subscriptions.active()}
        alerts: list[Alert] = []
        if AlertKind.STALE_DEAL in kinds:
            alerts += await self._stale(now)
        if AlertKind.CLOSE_DATE_NEAR in kinds:
            alerts += await self._closing(now)
        await self._deliver(alerts)
        await self._store.set_cursor(SCAN_CURSOR, str(now))
        return len(alerts)

    async def _stale(self, now: int) -> list[Alert]:
        settings = await self._subscriptions.settings()
        if not settings.stale_days:
            return []
        pairs = [
            (pipeline.id, status.id)
            for pipeline in await self._directory.pipelines()
            for status in pipeline.statuses
            if status.id in settings.stale_days and status.id not in _CLOSED
        ]
        if not pairs:
            return []
        deals = [d for d in await self._crm.leads(statuses=pairs) if not d.is_deleted]
        since = await self._stage_since(deals)
        alerts = []
        for deal in deals:
            entered = since[deal.id]
            if now - entered >= settings.stale_days[deal.status_id] * 86400:
                # Once per stay in the stage: a new move starts a new stay.
                key = f"deal:{deal.id}:stale:{deal.status_id}:{entered}"
                alerts.append(Alert(kind=AlertKind.STALE_DEAL, key=key, occurred_at=now,
                                    deal=deal, since=entered))  # fmt: skip
        return alerts

    async def _closing(self, now: int) -> list[Alert]:
        settings = await self._subscriptions.settings()
        horizon = now + settings.close_date_days * 86400
        alerts = []
        for deal in await self._crm.leads(closed_between=(now, horizon)):
            if deal.is_deleted or deal.status_id in _CLOSED or deal.closed_at is None:
                continue
            key = f"deal:{deal.id}:close:{deal.closed_at}"  # a new date is news again
            alerts.append(Alert(kind=AlertKind.CLOSE_DATE_NEAR, key=key, occurred_at=now,
                                deal=deal, since=deal.closed_at))  # fmt: skip
        return alerts

    async def _stage_since(self, deals: list[Deal]) -> dict[int, int]:
        """When each deal entered its current stage."""
        found: dict[int, int] = {}
        unknown: list[Deal] = []
        for deal in deals:
            raw = await self._store.get_doc(STAGE_NS, str(deal.id))
            mark = StageSince.model_validate_json(raw) if raw else None
            if mark is not None and mark.status_id == deal.status_id:
                found[deal.id] = mark.since
            else:
                unknown.append(deal)
        if not unknown:
            return found
        events = await self._crm.events(
            created_since=min(d.created_at for d in unknown), types=(STATUS_EVENT,),
            entities=("lead",), entity_ids=[d.id for d in unknown],
        )  # fmt: skip
        moved: dict[int, int] = {}
        for event in events:
            moved[event.entity_id] = max(moved.get(event.entity_id, 0), event.created_at)
        for deal in unknown:
            found[deal.id] = moved.get(deal.id, deal.created_at)
            mark = StageSince(status_id=deal.status_id, since=found[deal.id])
            await self._store.put_doc(STAGE_NS, str(deal.id), mark.model_dump_json(),
                                      ttl_s=STAGE_TTL_S)  # fmt: skip
        return found
