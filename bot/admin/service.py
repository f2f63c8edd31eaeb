"""The admins' commands, applied: names resolved against amoCRM (with suggestions on a miss),
subscriptions added and removed, supervisors and thresholds set. amoCRM admins only.

Every answer is text in the admin's language, with buttons where there is something to press
(a remove button on each subscription). Nothing changes when a name cannot be resolved.

Just over 400 lines: one dispatcher over every admin command; the account settings live in
``bot.admin.account`` and the YAML file in ``bot.admin.config_yaml``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.admin.account import AccountConfig
from bot.admin.config_yaml import ConfigIO, ImportPlan
from bot.admin.grammar import (
    AdminCommand,
    ConfigExport,
    ConfigImport,
    ConfigSet,
    ExportActivity,
    Health,
    ListSubscriptions,
    Preview,
    SetEscalation,
    SetStale,
    SetSupervisor,
    SetThreshold,
    ShowReport,
    Subscribe,
    Unsubscribe,
)
from bot.admin.health import HealthReport
from bot.admin.names import Names, UnknownName
from bot.alerts import (
    DEFAULT_SHARED_FIELDS,
    FIELDS,
    WEEKDAYS,
    Router,
    ScheduledReports,
    Subscription,
    Subscriptions,
    Target,
    alerts_from,
    new_id,
)
from bot.core import (
    LOST_STATUS_ID,
    WON_STATUS_ID,
    Button,
    Catalogue,
    Clock,
    Group,
    Lang,
    Reply,
    ReplyFile,
    User,
    human_duration,
)
from bot.crm import Directory
from bot.people import Prefs, Speaker
from bot.reports import ReportService
from bot.store import Store

UNSUBSCRIBE_PREFIX = "a:u:"
PREVIEW_EVENTS = 20_000
MAX_PROBLEMS_SHOWN = 12


@dataclass(frozen=True, slots=True, eq=False)
class AdminService:
    _directory: Directory
    _subscriptions: Subscriptions
    _store: Store
    _clock: Clock
    _t: Catalogue
    _health: HealthReport
    _reports: ReportService
    _prefs: Prefs
    _scheduled: ScheduledReports

    # Names and ConfigIO hold only what is passed here, so one per use reads the same amoCRM.
    @property
    def _names(self) -> Names:
        return Names(self._directory)

    @property
    def config(self) -> ConfigIO:
        return ConfigIO(
            self._directory, self._subscriptions, self._prefs, self._names, self._clock, self._t
        )

    async def preview(self, lang: Lang, command: Preview) -> Reply:
        """What the subscription would have sent over the last days, from the event journal:
        counted per recipient, the latest shown; nothing is sent."""
        t = self._t
        subscription = next(
            (s for s in await self._subscriptions.active() if s.id == command.id), None
        )
        if subscription is None:
            return Reply(text=t(lang, "admin_no_subscription", id=command.id))
        settings = await self._subscriptions.settings()
        users = await self._directory.active_users()
        router = Router([subscription], users, settings)
        since = int(self._clock.now()) - command.days * 86400
        names = {u.id: u.name for u in users}
        counts: Counter[str] = Counter()
        latest: list[str] = []
        for event in await self._store.recent_events(since=since, limit=PREVIEW_EVENTS):
            for alert in alerts_from(event, big_deal_price=settings.big_deal_price):
                for recipient in router.route(alert):
                    chat, person = recipient.shared, recipient.amo_user_id or 0
                    whom = f"{chat.kind}:{chat.id}" if chat else names.get(person, str(person))
                    counts[whom] += 1
                    entity = (
                        alert.deal.name if alert.deal else alert.task.text if alert.task else ""
                    )
                    # Named as on the card: who did it, else "someone" (never an empty name).
                    actor = names.get(alert.actor_id or 0) or t(lang, "someone")
                    owner = names.get(alert.responsible_id or 0, "")
                    head = t(lang, f"alert_{alert.kind.value}", actor=actor, owner=owner)
                    latest.append(f"{head} «{entity[:60]}» → {whom}")
        if not counts:
            return Reply(text=t(lang, "admin_preview_none", id=command.id, days=command.days))
        per = ", ".join(f"{who} {n}" for who, n in counts.most_common(10))
        text = t(lang, "admin_preview", id=command.id, days=command.days,
                 count=sum(counts.values()), per=per)  # fmt: skip
        return Reply(text=text + "\n" + "\n".join(latest[-3:]))

    async def run(self, me: Speaker, command: AdminCommand, here: Target | None) -> Reply:
        """``here``: the shared chat the command was typed in (None: a private chat)."""
        t, lang = self._t, me.lang
        if me.user is None:
            return Reply(text=t(lang, f"not_linked_{me.channel}"))
        if not me.user.rights.is_admin:
            return Reply(text=t(lang, "admin_only"))
        try:
            if isinstance(command, Subscribe):
                return await self._subscribe(me, command, here)
            if isinstance(command, ListSubscriptions):
                return await self.listing(lang)
            if isinstance(command, Unsubscribe):
                return await self.unsubscribe(lang, command.id)
            if isinstance(command, SetSupervisor):
                return await self._supervisor(lang, command)
            if isinstance(command, SetThreshold):
                return await self._threshold(lang, command)
            if isinstance(command, Preview):
                return await self.preview(lang, command)
            if isinstance(command, ConfigExport):
                return await self._export(lang)
            if isinstance(command, SetEscalation):
                return await self._escalate(lang, command)
            if isinstance(command, ConfigSet):
                account = AccountConfig(self._subscriptions, self._prefs, t)
                return await account.apply(lang, command)
            if isinstance(command, Health):
                return Reply(text=await self._health.report(me.reader))
            if isinstance(command, ShowReport):
                group = await self._group(command.group)
                return await self._reports.chart(me.reader, command.days, group)
            if isinstance(command, ExportActivity):
                group = await self._group(command.group)
                return await self._reports.workbook(me.reader, command.days, group)
            if isinstance(command, ConfigImport):
                if command.text is None:
                    return Reply(text=t(lang, f"config_import_how_{me.channel}"))
                return await self.import_config(me.user, lang, command.text)
            return await self._stale(lang, command)
        except UnknownName as exc:
            what = t(lang, f"what_{exc.what}")
            text = t(
                lang,
                "admin_unknown_name",
                what=what,
                typed=exc.typed,
                suggestions=", ".join(f"“{s}”" for s in exc.suggestions),
            )
            return Reply(text=text + "\n" + t(lang, _USAGE[type(command)]))

    # --- commands ---------------------------------------------------------------------------

    async def _subscribe(self, me: Speaker, command: Subscribe, here: Target | None) -> Reply:
        assert me.user is not None
        t, lang = self._t, me.lang
        unknown = [f for f in command.fields or () if f not in FIELDS]
        if unknown:
            return Reply(
                text=t(
                    lang, "admin_bad_fields", fields=", ".join(unknown), known=", ".join(FIELDS)
                )
                + "\n"
                + t(lang, "usage_subscribe")
            )
        subscription = Subscription(
            id=new_id(),
            kind=command.kind,
            filters=await self._names.filters(command.filters),
            target=await self._names.target(command.target, me=me.user.id, here=here),
            fields=command.fields or DEFAULT_SHARED_FIELDS,
            mode=command.mode,
            created_by=me.user.id,
            lang=me.lang,
            report=command.report,
        )
        await self._subscriptions.add(subscription)
        await self._scheduled.plan(subscription)  # a report's first sending, queued now
        if subscription.target.shared:  # the chat takes messages again: resume what was paused
            await self._subscriptions.set_paused(subscription.target, False)
        return Reply(
            text=t(
                lang,
                "admin_subscribed",
                id=subscription.id,
                what=await self.describe(subscription, lang),
            )
        )

    async def _export(self, lang: Lang) -> Reply:
        content = await self.config.export(lang)
        count = len(await self._subscriptions.configured())
        made = ReplyFile(name="amobridge-config.yaml", content=content.encode())
        return Reply(text=self._t(lang, "config_exported", count=count), file=made)

    async def import_config(self, importer: User, lang: Lang, text: str) -> Reply:
        """Check the whole file, then apply it whole; a file with mistakes changes nothing."""
        t = self._t
        if not importer.rights.is_admin:
            return Reply(text=t(lang, "admin_only"))
        plan = await self.config.plan(text, importer, lang)
        if not isinstance(plan, ImportPlan):
            shown = plan[:MAX_PROBLEMS_SHOWN]
            more = len(plan) - len(shown)
            lines = [t(lang, "config_rejected", count=len(plan))]
            lines += [f"• {problem}" for problem in shown]
            if more:
                lines.append(t(lang, "config_more_problems", count=more))
            lines.append(t(lang, "usage_config"))
            return Reply(text="\n".join(lines), failed=True)
        await self.config.apply(plan)
        await self._scheduled.plan_all()
        return Reply(text=t(lang, "config_imported", count=len(plan.subscriptions),
                            off=len(plan.settings.disabled_defaults)))  # fmt: skip

    async def listing(self, lang: Lang) -> Reply:
        t = self._t
        active = await self._subscriptions.active()
        if not active:
            return Reply(text=t(lang, "admin_list_empty"))
        lines = [t(lang, "admin_list_header")]
        rows = []
        for subscription in active:
            paused = t(lang, "admin_list_paused") if subscription.paused else ""
            lines.append(f"{subscription.id} · {await self.describe(subscription, lang)}{paused}")
            rows.append(
                (
                    Button(
                        label=t(lang, "btn_unsubscribe", id=subscription.id),
                        payload=UNSUBSCRIBE_PREFIX + subscription.id,
                    ),
                )
            )
        return Reply(text="\n".join(lines), rows=tuple(rows))

    async def press_unsubscribe(self, me: Speaker, subscription_id: str) -> Reply:
        """The remove button of ``/subscriptions``: checked like the command."""
        if me.user is None or not me.user.rights.is_admin:
            return Reply(text=self._t(me.lang, "admin_only"))
        return await self.unsubscribe(me.lang, subscription_id)

    async def unsubscribe(self, lang: Lang, subscription_id: str) -> Reply:
        if await self._subscriptions.remove(subscription_id):
            return Reply(text=self._t(lang, "admin_unsubscribed", id=subscription_id))
        return Reply(text=self._t(lang, "admin_no_subscription", id=subscription_id))

    async def _group(self, typed: str | None) -> Group | None:
        """The group a report is for; raises ``UnknownName`` for one amoCRM does not have."""
        if typed is None:
            return None
        group_id = await self._names.group(typed)
        return Group(id=group_id, name=await self._names.group_name(group_id))

    async def _supervisor(self, lang: Lang, command: SetSupervisor) -> Reply:
        group = await self._names.group(command.group)
        settings = await self._subscriptions.settings()
        chosen = dict(settings.supervisors)
        account = await self._directory.account()
        name = next((g.name for g in account.groups if g.id == group), str(group))
        if command.user is None:
            chosen.pop(group, None)
            await self._subscriptions.update_settings(supervisors=chosen)
            return Reply(text=self._t(lang, "admin_supervisor_reset", group=name))
        user = await self._names.user(command.user)
        chosen[group] = tuple(dict.fromkeys((*chosen.get(group, ()), user)))
        await self._subscriptions.update_settings(supervisors=chosen)
        names = [u.name for u in await self._directory.active_users() if u.id in chosen[group]]
        return Reply(
            text=self._t(lang, "admin_supervisor_set", group=name, names=", ".join(names))
        )

    async def _threshold(self, lang: Lang, command: SetThreshold) -> Reply:
        await self._subscriptions.update_settings(big_deal_price=command.amount)
        if command.amount is None:
            return Reply(text=self._t(lang, "admin_threshold_off"))
        return Reply(text=self._t(lang, "admin_threshold_set", amount=_money(command.amount)))

    async def _escalate(self, lang: Lang, command: SetEscalation) -> Reply:
        await self._subscriptions.update_settings(escalate_after_min=command.minutes)
        if command.minutes is None:
            return Reply(text=self._t(lang, "admin_escalate_off"))
        after = human_duration(self._t, lang, command.minutes)
        return Reply(text=self._t(lang, "admin_escalate_set", after=after))

    async def _stale(self, lang: Lang, command: SetStale) -> Reply:
        statuses = await self._names.statuses(command.status, None)
        settings = await self._subscriptions.settings()
        days = dict(settings.stale_days)
        for status in statuses:
            if command.days is None:
                days.pop(status, None)
            else:
                days[status] = command.days
        await self._subscriptions.update_settings(stale_days=days)
        if command.days is None:
            return Reply(text=self._t(lang, "admin_stale_off", status=command.status))
        return Reply(
            text=self._t(lang, "admin_stale_set", status=command.status, days=command.days)
        )

    # --- describing -------------------------------------------------------------------------

    async def describe(self, s: Subscription, lang: Lang) -> str:
        """ "Deal won · pipeline Sales, amount ≥ 500 000 → supervisors" in the reader's words."""
        t = self._t
        parts = []
        f = s.filters
        pipelines = {p.id: p for p in await self._directory.pipelines()}
        if f.pipeline_ids:
            parts.append(
                t(
                    lang,
                    "desc_pipeline",
                    name=", ".join(
                        pipelines[i].name if i in pipelines else str(i) for i in f.pipeline_ids
                    ),
                )
            )
        if f.status_ids:
            names = {st.id: st.name for p in pipelines.values() for st in p.statuses}
            names |= {WON_STATUS_ID: "won", LOST_STATUS_ID: "lost"}
            parts.append(
                t(lang, "desc_status", name=", ".join(names.get(i, str(i)) for i in f.status_ids))
            )
        if f.price_min is not None:
            parts.append(t(lang, "desc_price_min", amount=_money(f.price_min)))
        if f.price_max is not None:
            parts.append(t(lang, "desc_price_max", amount=_money(f.price_max)))
        users = {u.id: u.name for u in await self._directory.active_users()}
        if f.responsible_ids:
            parts.append(
                t(
                    lang,
                    "desc_responsible",
                    name=", ".join(users.get(i, str(i)) for i in f.responsible_ids),
                )
            )
        account = await self._directory.account()
        groups = {g.id: g.name for g in account.groups}
        if f.group_ids:
            parts.append(
                t(lang, "desc_group", name=", ".join(groups.get(i, str(i)) for i in f.group_ids))
            )
        if f.task_type_ids:
            types = {k.id: k.name for k in account.task_types}
            parts.append(
                t(lang, "desc_task_type",
                  name=", ".join(types.get(i, str(i)) for i in f.task_type_ids))
            )  # fmt: skip
        if f.tags:
            parts.append(t(lang, "desc_tags", tags=", ".join(f.tags)))
        if f.by_others:
            parts.append(t(lang, "desc_by_others"))
        target = s.target
        if target.kind in ("user", "group", "supervisors") and target.id:
            named = (users if target.kind == "user" else groups).get(int(target.id), target.id)
            whom = t(lang, f"target_{target.kind}", name=named)
        elif target.kind in ("slack_channel", "telegram_chat"):
            whom = t(lang, f"target_{target.kind}", name=target.id or "")
        else:
            whom = t(lang, f"target_{target.kind}_any")
        head = t(lang, f"alert_{s.kind.value}", actor="…", owner="…")
        if s.report is not None:  # "📊 Report for the week, Mondays at 09:00"
            day = t(lang, f"weekday_{WEEKDAYS[s.report.weekday]}")
            head = t(lang, f"desc_report_{s.report.every}", day=day, at=s.report.at)
        filters = f" · {', '.join(parts)}" if parts else ""
        default = t(lang, "desc_default") if s.builtin else ""
        digest = t(lang, "desc_digest") if s.mode == "digest" else ""
        return f"{head}{filters} → {whom}{digest}{default}"


def _money(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


_USAGE: dict[type, str] = {
    Subscribe: "usage_subscribe",
    ListSubscriptions: "usage_subscribe",
    Unsubscribe: "usage_unsubscribe",
    SetSupervisor: "usage_supervisor",
    SetThreshold: "usage_threshold",
    SetStale: "usage_stale",
    Preview: "usage_preview",
    ConfigExport: "usage_config",
    ConfigImport: "usage_config",
    ConfigSet: "usage_config",
    ShowReport: "usage_report",
    SetEscalation: "usage_escalate",
    ExportActivity: "usage_export",
}
