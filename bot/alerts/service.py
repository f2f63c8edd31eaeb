"""Alerts delivered: every applied CRM event is turned into alerts, routed through the
subscriptions, and queued to each recipient's messengers (or a shared chat) in their language.

An event listener, like the reminders: it runs once per applied event, on whichever replica
applied it, and marks each (alert, recipient) sent so that nothing reaches anyone twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.alerts.control import ControlTasks
from bot.alerts.digests import DigestService
from bot.alerts.kinds import MOST_TELLING, STATUS_KINDS, Alert, AlertKind, alerts_from
from bot.alerts.routing import Recipient, Router
from bot.alerts.subscriptions import Subscriptions
from bot.core import (
    DEFAULT_LANG,
    LOST_STATUS_ID,
    Button,
    Card,
    Catalogue,
    Clock,
    CrmEvent,
    CrmEventKind,
    DealCard,
    Reader,
    User,
)
from bot.crm import Claims, Directory
from bot.delivery import Outbox, OutboxItem
from bot.people import HeldMessages, Reach
from bot.reports import ActivityLog
from bot.store import Store
from bot.tasks import CardFactory, DealAction, DealPayload, OutcomeLine, ReminderService, subject

log = logging.getLogger(__name__)

SENT_TTL_S = 7 * 24 * 3600
OVERDUE_CURSOR = "alerts:overdue_scan"
OVERDUE_FIRST_WINDOW_S = 3600  # on the first scan, tasks that fell due in the last hour
ESCALATION_CURSOR = "alerts:escalation_scan"


@dataclass(frozen=True, slots=True, eq=False)
class AlertService:
    _store: Store
    _directory: Directory
    _reach: Reach
    _held: HeldMessages
    _subscriptions: Subscriptions
    _reminders: ReminderService
    _cards: CardFactory
    _outbox: Outbox
    _clock: Clock
    _t: Catalogue
    _digests: DigestService
    _control: ControlTasks
    _activity: ActivityLog  # escalations raised, for /report

    async def on_events(self, events: Sequence[CrmEvent]) -> None:
        settings = await self._subscriptions.settings()
        await self.deliver([
            a for e in events for a in alerts_from(e, big_deal_price=settings.big_deal_price)
        ])  # fmt: skip
        for event in events:
            done = event.previous_task or event.task
            if done is not None and event.kind in (
                CrmEventKind.TASK_COMPLETED,
                CrmEventKind.TASK_DELETED,
            ):
                await self._control.task_done(done.id)

    async def scan_overdue(self) -> int:
        """The scheduled scan: open tasks whose deadline passed since the last scan become
        "task overdue" alerts (once per task and deadline). Returns how many."""
        now = int(self._clock.now())
        cursor = await self._store.get_cursor(OVERDUE_CURSOR)
        since = int(cursor) if cursor is not None else now - OVERDUE_FIRST_WINDOW_S
        alerts = []
        for task in await self._store.list_open_tasks():
            if since < task.complete_till <= now:
                cached = await self._store.get_deal(task.deal_id) if task.deal_id else None
                key = f"task:{task.id}:{task.complete_till}:overdue"
                alerts.append(Alert(
                    kind=AlertKind.TASK_OVERDUE, key=key, occurred_at=task.complete_till,
                    task=task, deal=cached.value if cached else None,
                ))  # fmt: skip
        await self.deliver(alerts)
        await self._store.set_cursor(OVERDUE_CURSOR, str(now))
        return len(alerts)

    async def scan_tasks(self) -> int:
        """The scheduled task scan: overdue tasks, then the ones nobody acted on in time (one
        job, one lease, one pass over the store per tick)."""
        return await self.scan_overdue() + await self.scan_escalations()

    async def scan_escalations(self) -> int:
        """The scheduled scan: an open task whose deadline passed ``escalate_after_min`` ago
        with nobody reacting (still open, not changed since its deadline: a snooze moves the
        deadline, a handover changes the task) becomes a "no reaction" alert, once per task,
        deadline and responsible, in the responsible's working hours. Only for people amobridge
        can reach: someone never told cannot be said not to react. Returns how many."""
        settings = await self._subscriptions.settings()
        now = int(self._clock.now())
        cursor = await self._store.get_cursor(ESCALATION_CURSOR)
        if settings.escalate_after_min is None:
            # Moved on all the same: switching it on later does not escalate the past.
            await self._store.set_cursor(ESCALATION_CURSOR, str(now))
            return 0
        delay = settings.escalate_after_min * 60
        since = int(cursor) if cursor is not None else now - OVERDUE_FIRST_WINDOW_S
        alerts = []
        for task in await self._store.list_open_tasks():
            if task.complete_till + delay > now:
                continue
            # Nobody is expected to react outside their working hours: the escalation waits
            # for the responsible's next working start.
            at = await self._reminders.in_working_hours(
                task.responsible_user_id, task.complete_till + delay
            )
            if not since < at <= now:
                continue
            if task.updated_at > task.complete_till:
                continue  # changed since its deadline (handed over, edited): someone acted
            if not await self._reach.links(task.responsible_user_id):
                continue
            cached = await self._store.get_deal(task.deal_id) if task.deal_id else None
            key = f"task:{task.id}:{task.complete_till}:{task.responsible_user_id}:escalated"
            alerts.append(Alert(
                kind=AlertKind.TASK_ESCALATED, key=key, occurred_at=at,
                task=task, deal=cached.value if cached else None,
            ))  # fmt: skip
        await self.deliver(alerts)
        for alert in alerts:
            assert alert.task is not None
            # Before the cursor moves: a crash here logs it again under the same key, which
            # the report reads once.
            await self._activity.escalated(alert.key, alert.task, float(alert.occurred_at))
        if settings.control_tasks:
            await self._control.escalated(alerts, await self._checkers(alerts))
        await self._store.set_cursor(ESCALATION_CURSOR, str(now))
        return len(alerts)

    async def _checkers(self, alerts: list[Alert]) -> dict[int, int]:
        """Task id → the supervisor of its responsible's group who checks it (the first one
        who is not the responsible themselves); tasks with nobody to check them are left out."""
        settings = await self._subscriptions.settings()
        router = Router((), await self._directory.active_users(), settings)
        chosen: dict[int, int] = {}
        for alert in alerts:
            assert alert.task is not None
            owner = await self._directory.user(alert.task.responsible_user_id)
            others = [
                s for s in router.supervisors(owner.group_id if owner else None)
                if s != alert.task.responsible_user_id
            ]  # fmt: skip
            if others:
                chosen[alert.task.id] = others[0]
        return chosen

    async def deliver(self, alerts: list[Alert]) -> None:
        """Route the alerts and queue them (or keep them for digests), once per recipient; the
        alerts one change makes reach each person (or chat) as one card."""
        if not alerts:
            return
        alerts = [await self._authored(alert) for alert in alerts]
        settings = await self._subscriptions.settings()
        account = await self._directory.account()
        router = Router(
            [s for s in await self._subscriptions.active() if not s.paused],
            await self._directory.active_users(), settings,
            unassigned_user_id=account.current_user_id,
        )  # fmt: skip
        for together in _by_change(alerts):
            told: dict[str, list[tuple[Alert, Recipient]]] = {}
            for alert in together:
                for recipient in router.route(alert):
                    chat = recipient.shared
                    who = f"{chat.kind}:{chat.id}" if chat is not None else recipient.amo_user_id
                    told.setdefault(str(who), []).append((alert, recipient))
            for who, found in told.items():
                await self._tell(who, found)

    async def _authored(self, alert: Alert) -> Alert:
        """The alert with its task's real author: one amobridge created for someone is theirs,
        though amoCRM names the token's user (for ``to author`` and ``by_others``)."""
        task = alert.task
        author = await Claims(self._store).author(task.id) if task is not None else None
        if task is None or author is None or author == task.created_by:
            return alert
        return alert.model_copy(update={"task": task.model_copy(update={"created_by": author})})

    async def _tell(self, who: str, found: list[tuple[Alert, Recipient]]) -> None:
        """One change's alerts for one recipient: a digest line each, or one card headed by the
        most telling one."""
        person = found[0][1].amo_user_id
        everything_kept = person is not None and await self._digests.personal(person)
        now = [(a, r) for a, r in found if not (r.digest or everything_kept)]
        for alert, recipient in found:
            # Once per alert and recipient, marked in the same step as it is queued (or kept),
            # so that the same events given again after a crash neither lose nor repeat it.
            kept = (alert, recipient) not in now
            if kept and await self._store.mark_seen(f"alert:{alert.key}:{who}", SENT_TTL_S):
                await self._digests.keep(alert, recipient)
        if not now:
            return
        now.sort(key=lambda pair: _rank(pair[0].kind))
        alert, recipient = now[0]
        also = tuple(a.kind for a, _ in now[1:])
        once = f"alert:{alert.key}:{who}"
        if recipient.shared is not None:
            fields = tuple(dict.fromkeys(f for _, r in now for f in r.fields))
            shown = recipient.model_copy(update={"fields": fields})
            item = await self._to_chat(alert, shown, also)
            await self._outbox.enqueue([item], once=once, once_ttl_s=SENT_TTL_S)
        else:
            assert person is not None
            about = alert.task.id if alert.task and not alert.kind.about_deal else None
            await self._held.send(
                person, await self._to_person(alert, recipient, also), task_id=about,
                once=once, once_ttl_s=SENT_TTL_S,
            )  # fmt: skip

    async def _to_person(
        self, alert: Alert, recipient: Recipient, also: tuple[AlertKind, ...]
    ) -> list[OutboxItem]:
        assert recipient.amo_user_id is not None
        links = await self._reach.links(recipient.amo_user_id)
        if not links:
            return []
        user = await self._directory.user(recipient.amo_user_id)
        reader = await self._reminders.reader(recipient.amo_user_id)
        card = await self.card(alert, reader, viewer=user, also=also)
        return [
            OutboxItem(channel=link.channel, chat_id=link.chat_id, recipient=link.amo_user_id,
                       subject=self._subject(alert), notice="alert", card=card)
            for link in links
        ]  # fmt: skip

    async def _to_chat(
        self, alert: Alert, recipient: Recipient, also: tuple[AlertKind, ...]
    ) -> OutboxItem:
        target = recipient.shared
        assert target is not None
        account = await self._directory.account()
        reader = Reader(lang=recipient.lang or DEFAULT_LANG, timezone=account.timezone)
        card = await self.card(alert, reader, viewer=None, fields=recipient.fields, also=also)
        channel = "slack" if target.kind == "slack_channel" else "telegram"
        chat = target.id or ""
        return OutboxItem(channel=channel, chat_id=chat, is_group=chat.startswith("-"),
                          subject=self._subject(alert), card=card)  # fmt: skip

    @staticmethod
    def _subject(alert: Alert) -> str | None:
        if alert.kind.about_deal:
            return f"deal:{alert.deal.id}" if alert.deal is not None else None
        return subject(alert.task.id) if alert.task is not None else None

    async def card(
        self,
        alert: Alert,
        reader: Reader,
        *,
        viewer: User | None,
        fields: tuple[str, ...] | None = None,
        also: tuple[AlertKind, ...] = (),
    ) -> Card:
        """The alert as ``reader`` sees it; ``fields``: what a shared chat may show; ``also``:
        the other alerts the same change makes for this reader, told as lines of this one."""
        t, lang, now = self._t, reader.lang, int(self._clock.now())
        actor = await self._directory.user(alert.actor_id) if alert.actor_id else None
        if not alert.kind.about_deal:
            assert alert.task is not None
            if alert.kind is AlertKind.TASK_COMPLETED:
                outcome = OutcomeLine(kind="completed", actor=actor.name if actor else None,
                                  via=alert.via)  # fmt: skip
                return await self._cards.task_card(alert.task, reader, now, outcome=outcome)
            owner = await self._directory.user(alert.task.responsible_user_id)
            key = f"alert_{alert.kind.value}"
            handed_to_viewer = viewer is not None and viewer.id == alert.task.responsible_user_id
            if alert.kind is AlertKind.TASK_REASSIGNED and handed_to_viewer:
                key += "_you"  # the new responsible: "… handed you a task"
            heading = t(lang, key, actor=actor.name if actor else t(lang, "someone"),
                        owner=owner.name if owner else "")  # fmt: skip
            return await self._cards.task_card(
                alert.task, reader, now, actor=viewer, heading=heading
            )
        deal = alert.deal
        assert deal is not None
        shown = set(fields) if fields is not None else None

        def may(field: str) -> bool:
            return shown is None or field in shown

        lines: list[str] = []
        pipeline, status = await self._directory.status_name(deal.pipeline_id, deal.status_id)
        before = alert.previous_deal
        kinds = {alert.kind, *also}
        lines += [t(lang, f"alert_{kind.value}") for kind in also if kind not in STATUS_KINDS]
        if may("status"):
            if kinds & set(STATUS_KINDS) and before is not None:
                _, was = await self._directory.status_name(before.pipeline_id, before.status_id)
                lines.append(t(lang, "alert_line_moved", was=was, now=status, pipeline=pipeline))
            else:
                lines.append(t(lang, "alert_line_stage", now=status, pipeline=pipeline))
            # Whichever alert tells of it (a move, a handover), a lost deal says why.
            if deal.status_id == LOST_STATUS_ID and deal.loss_reason_id:
                reason = await self._directory.loss_reason(deal.loss_reason_id)
                if reason is not None:
                    lines.append(t(lang, "alert_line_loss_reason", reason=reason))
            if alert.kind is AlertKind.STALE_DEAL and alert.since is not None:
                days = (alert.occurred_at - alert.since) // 86400
                lines.append(t(lang, "alert_line_stuck", days=days))
        if alert.kind is AlertKind.CLOSE_DATE_NEAR and alert.since is not None:
            close = dt.datetime.fromtimestamp(alert.since, ZoneInfo(reader.timezone))
            lines.append(t(lang, "alert_line_close_date", date=f"{close:%d.%m.%Y}"))
        if may("responsible"):
            owner = await self._directory.user(deal.responsible_user_id)
            lines.append(t(lang, "alert_line_responsible", name=owner.name if owner else "?"))
        if may("price") and deal.price:
            lines.append(t(lang, "alert_line_price", price=f"{deal.price:,}".replace(",", " ")))
        if actor is not None:
            lines.append(t(lang, "alert_line_by", actor=actor.name,
                           via=t(lang, f"via_{alert.via or 'amocrm'}")))  # fmt: skip
        url = self._directory.deal_url(deal.id)
        buttons = [Button(label=t(lang, "btn_open"), url=url)]
        account = await self._directory.account()
        if (
            alert.kind is AlertKind.DEAL_CREATED
            and deal.responsible_user_id == account.current_user_id
        ):
            take = DealPayload(action=DealAction.TAKE, deal_id=deal.id)
            buttons.insert(0, Button(label=t(lang, "btn_take"), payload=take.pack(), primary=True))
        if viewer is not None:
            follow = DealPayload(action=DealAction.FOLLOW_UP, deal_id=deal.id)
            buttons.insert(0, Button(label=t(lang, "btn_follow_up"), payload=follow.pack()))
        return DealCard(
            deal_id=deal.id, heading=t(lang, f"alert_{alert.kind.value}"),
            title=deal.name if may("name") and deal.name else t(lang, "deal_untitled"),
            url=url, lines=tuple(lines), rows=(tuple(buttons),),
        )  # fmt: skip


def _rank(kind: AlertKind) -> int:
    return MOST_TELLING.index(kind) if kind in MOST_TELLING else len(MOST_TELLING)


def _by_change(alerts: list[Alert]) -> list[list[Alert]]:
    """The alerts grouped by the change they come from (a scan's alerts each stand alone)."""
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.change or alert.key, []).append(alert)
    return list(groups.values())
