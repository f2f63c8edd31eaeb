"""Who hears about what: subscriptions, stored per account, and the defaults before any exist.

A subscription is an alert kind, filters on the deal or task, a target (people, or a shared
chat), a delivery mode, and for shared chats the fields it may show. The defaults are what a
sales team expects with nothing configured: a manager hears about their own deals' moves and
about tasks others give or hand over to them and deals handed to them; supervisors hear about won
deals and overdue tasks of their group; whoever gave a task hears when someone else completes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from bot.alerts.kinds import AlertKind
from bot.core import Lang, Value
from bot.store import Store

NS = "subscription"
SETTINGS_NS = "alert_settings"

TargetKind = Literal[
    "responsible",  # whoever is responsible for the deal or task
    "author",  # who created the task (for "task completed")
    "user",  # one amoCRM user (``id``)
    "group",  # everyone of an amoCRM group (``id``)
    "supervisors",  # the supervisors of the responsible's group, or of group ``id``
    "slack_channel",  # a Slack channel (``id``), shared
    "telegram_chat",  # a Telegram group chat (``id``), shared
]
SHARED_TARGETS: frozenset[str] = frozenset({"slack_channel", "telegram_chat"})
# What an alert in a shared chat shows unless its subscription says otherwise: no money, no
# contacts (anyone in the chat reads it, whatever their amoCRM rights).
DEFAULT_SHARED_FIELDS = ("name", "status", "responsible")
DIGEST_AT = r"^([01]\d|2[0-3]):[0-5]\d$"
FIELDS = ("name", "status", "responsible", "price", "pipeline", "contact", "tags")


class Filters(Value):
    pipeline_ids: tuple[int, ...] = ()
    status_ids: tuple[int, ...] = ()  # the deal's status (after the change)
    price_min: int | None = None
    price_max: int | None = None
    responsible_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    task_type_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()  # any of them
    by_others: bool = False  # only when someone else made the change (a task given to you)


class Target(Value):
    kind: TargetKind
    id: str | None = None

    @property
    def shared(self) -> bool:
        return self.kind in SHARED_TARGETS


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ReportSchedule(Value):
    """When a ``report`` subscription sends the report, in the account's timezone: daily, or
    weekly on ``weekday`` (0 Monday); it covers the day or the week before."""

    every: Literal["daily", "weekly"] = "weekly"
    weekday: int = Field(default=0, ge=0, le=6)
    at: str = Field(default="09:00", pattern=DIGEST_AT)

    @property
    def days(self) -> int:
        return 7 if self.every == "weekly" else 1


class Subscription(Value):
    id: str
    kind: AlertKind
    report: ReportSchedule | None = None  # kind REPORT: when it is sent
    filters: Filters = Filters()
    target: Target
    mode: Literal["instant", "digest"] = "instant"
    fields: tuple[str, ...] = DEFAULT_SHARED_FIELDS
    created_by: int | None = None
    lang: Lang | None = None  # a shared chat reads alerts in its creator's language
    builtin: bool = False  # one of the defaults (switched off by unsubscribing it)
    paused: bool = False  # its shared chat refused the bot for good (``bot.alerts.chats``)


MIN_ESCALATE_MIN = 5
MAX_ESCALATE_MIN = 7 * 24 * 60


class AlertSettings(Value):
    """Account-wide thresholds, and the supervisors set by admins (group id → user ids)."""

    big_deal_price: int | None = None
    close_date_days: int = 3  # "close date near": this many days before the deal's close date
    digest_at: str = Field(default="09:00", pattern=DIGEST_AT)  # local time of the daily digest
    stale_days: dict[int, int] = Field(default_factory=dict)  # status id → days without a move
    supervisors: dict[int, tuple[int, ...]] = Field(default_factory=dict)
    disabled_defaults: tuple[str, ...] = ()
    # An overdue task nobody reacted to this long after its deadline is escalated (None: never).
    escalate_after_min: int | None = Field(default=120, ge=MIN_ESCALATE_MIN, le=MAX_ESCALATE_MIN)
    # Each escalation also leaves a control task for the supervisor on the deal in amoCRM.
    control_tasks: bool = False


def _builtin(
    id: str, kind: AlertKind, target: TargetKind, filters: Filters | None = None
) -> Subscription:
    return Subscription(id=id, kind=kind, filters=filters or Filters(),
                        target=Target(kind=target), builtin=True)  # fmt: skip


DEFAULTS: tuple[Subscription, ...] = (
    _builtin("d1", AlertKind.DEAL_STATUS, "responsible"),
    _builtin("d2", AlertKind.TASK_CREATED, "responsible", Filters(by_others=True)),
    _builtin("d3", AlertKind.DEAL_WON, "supervisors"),
    _builtin("d4", AlertKind.TASK_OVERDUE, "supervisors"),
    _builtin("d5", AlertKind.TASK_COMPLETED, "author"),
    _builtin("d6", AlertKind.TASK_ESCALATED, "supervisors"),
    _builtin("d7", AlertKind.TASK_REASSIGNED, "responsible"),  # the one it was handed to
    _builtin("d8", AlertKind.DEAL_RESPONSIBLE, "responsible"),
)


def new_id() -> str:
    return "s" + secrets.token_hex(3)


@dataclass(frozen=True, slots=True, eq=False)
class Subscriptions:
    _store: Store

    async def settings(self) -> AlertSettings:
        raw = await self._store.get_doc(SETTINGS_NS, "account")
        return AlertSettings.model_validate_json(raw) if raw else AlertSettings()

    async def save_settings(self, settings: AlertSettings) -> None:
        await self._store.put_doc(SETTINGS_NS, "account", settings.model_dump_json())

    async def update_settings(self, **changes: object) -> AlertSettings:
        """Change some of the account's settings and keep the rest as stored: a compare-and-set,
        so two admins changing different settings at once both keep their change."""
        while True:
            raw = await self._store.get_doc(SETTINGS_NS, "account")
            current = AlertSettings.model_validate_json(raw) if raw else AlertSettings()
            updated = current.model_copy(update=changes)
            if await self._store.swap_doc(SETTINGS_NS, "account", raw, updated.model_dump_json()):
                return updated

    async def configured(self) -> list[Subscription]:
        docs = await self._store.list_docs(NS)
        return sorted(
            (Subscription.model_validate_json(v) for v in docs.values()), key=lambda s: s.id
        )

    async def active(self) -> list[Subscription]:
        """The defaults still on, then the configured ones."""
        off = set((await self.settings()).disabled_defaults)
        return [s for s in DEFAULTS if s.id not in off] + await self.configured()

    async def add(self, subscription: Subscription) -> None:
        await self._store.put_doc(NS, subscription.id, subscription.model_dump_json())

    async def replace_all(
        self, subscriptions: Sequence[Subscription], settings: AlertSettings
    ) -> None:
        """The whole configuration at once (an import): the new subscriptions are written before
        the old ones go, so alerts routed meanwhile miss none of either."""
        old = {s.id for s in await self.configured()}
        for subscription in subscriptions:
            await self.add(subscription)
        for gone in old - {s.id for s in subscriptions}:
            await self._store.delete_doc(NS, gone)
        await self.save_settings(settings)

    async def set_paused(self, target: Target, paused: bool) -> list[Subscription]:
        """Pause (or resume) every configured subscription posting to ``target``; returns
        those this call changed. A compare-and-set per subscription, so that of two replicas
        meeting the same refusal only one changes each (and only one tells the admins)."""
        return await self._flip(lambda t: t == target, paused)

    async def resume_chat(self, kind: TargetKind, chat_id: str) -> list[Subscription]:
        """The chat takes the bot's messages again: resume what posts there, in any of its
        topics too (a Telegram forum topic's address is "<chat>/<topic>")."""
        return await self._flip(
            lambda t: (
                t.kind == kind and (t.id == chat_id or (t.id or "").startswith(f"{chat_id}/"))
            ),
            False,
        )

    async def _flip(self, where: Callable[[Target], bool], paused: bool) -> list[Subscription]:
        changed = []
        for raw in (await self._store.list_docs(NS)).values():
            subscription = Subscription.model_validate_json(raw)
            if not where(subscription.target) or subscription.paused == paused:
                continue
            flipped = subscription.model_copy(update={"paused": paused})
            if await self._store.swap_doc(NS, subscription.id, raw, flipped.model_dump_json()):
                changed.append(flipped)
        return changed

    async def remove(self, subscription_id: str) -> bool:
        """Remove a configured subscription, or switch a default off; False if unknown."""
        if any(s.id == subscription_id for s in DEFAULTS):
            settings = await self.settings()
            if subscription_id in settings.disabled_defaults:
                return False
            off = (*settings.disabled_defaults, subscription_id)
            await self.save_settings(settings.model_copy(update={"disabled_defaults": off}))
            return True
        if await self._store.get_doc(NS, subscription_id) is None:
            return False
        await self._store.delete_doc(NS, subscription_id)
        return True
