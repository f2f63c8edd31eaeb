"""The admins' commands, applied: names resolved against amoCRM (with suggestions on a miss),
subscriptions added and removed, supervisors and thresholds set. amoCRM admins only.

Every answer is text in the admin's language, with buttons where there is something to press
(a remove button on each subscription). Nothing changes when a name cannot be resolved.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable

from bot.admin_grammar import (
    AdminCommand,
    FilterSpec,
    ListSubscriptions,
    Preview,
    SetStale,
    SetSupervisor,
    SetThreshold,
    Subscribe,
    TargetSpec,
    Unsubscribe,
)
from bot.alerts import alerts_from
from bot.clock import Clock
from bot.conversation import Speaker
from bot.directory import Directory
from bot.domain import LOST_STATUS_ID, WON_STATUS_ID, Value
from bot.i18n import Catalogue, Lang
from bot.routing import Router
from bot.store import Store
from bot.subscriptions import (
    DEFAULT_SHARED_FIELDS,
    FIELDS,
    Filters,
    Subscription,
    Subscriptions,
    Target,
    new_id,
)
from bot.views import Button

UNSUBSCRIBE_PREFIX = "a:u:"
PREVIEW_EVENTS = 20_000
# amoCRM's two closing statuses have fixed ids in every pipeline; people call them by these.
STATUS_ALIASES = {
    "won": WON_STATUS_ID,
    "выиграна": WON_STATUS_ID,
    "выиграно": WON_STATUS_ID,
    "успешно реализовано": WON_STATUS_ID,
    "lost": LOST_STATUS_ID,
    "проиграна": LOST_STATUS_ID,
    "проиграно": LOST_STATUS_ID,
    "закрыто и не реализовано": LOST_STATUS_ID,
}


class Reply(Value):
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()


class UnknownName(Exception):
    def __init__(self, what: str, typed: str, suggestions: list[str]) -> None:
        super().__init__(typed)
        self.what = what
        self.typed = typed
        self.suggestions = suggestions


def pick(what: str, typed: str, named: Iterable[tuple[str, int]]) -> list[int]:
    """The ids of ``typed`` among the names: an exact match (any case), else the one name it
    starts; several ids when one name stands for several (a status in two pipelines)."""
    options = list(named)
    wanted = typed.strip().casefold()
    exact = [i for name, i in options if name.casefold() == wanted]
    if exact:
        return exact
    starts = {name for name, _ in options if name.casefold().startswith(wanted)}
    if len(starts) == 1:
        [name] = starts
        return [i for n, i in options if n == name]
    by_fold = {name.casefold(): name for name, _ in options}
    close = difflib.get_close_matches(wanted, list(by_fold), n=3, cutoff=0.5)
    suggestions = [by_fold[c] for c in close] or sorted(starts)[:3] or sorted(by_fold.values())[:5]
    raise UnknownName(what, typed, suggestions)


class AdminService:
    def __init__(
        self,
        directory: Directory,
        subscriptions: Subscriptions,
        store: Store,
        clock: Clock,
        t: Catalogue,
    ) -> None:
        self._directory = directory
        self._subscriptions = subscriptions
        self._store = store
        self._clock = clock
        self._t = t

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
                    head = t(lang, f"alert_{alert.kind.value}", actor="", owner="")
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

    # --- names ------------------------------------------------------------------------------

    async def _pipeline(self, typed: str) -> int:
        pipelines = await self._directory.pipelines()
        return pick("pipeline", typed, ((p.name, p.id) for p in pipelines))[0]

    async def _statuses(self, typed: str, pipeline_id: int | None) -> list[int]:
        alias = STATUS_ALIASES.get(typed.strip().casefold())
        if alias is not None:
            return [alias]
        pipelines = [
            p
            for p in await self._directory.pipelines()
            if pipeline_id is None or p.id == pipeline_id
        ]
        return pick("status", typed, ((s.name, s.id) for p in pipelines for s in p.statuses))

    async def _user(self, typed: str) -> int:
        users = await self._directory.active_users()
        handle = typed.lstrip("@")
        named = [(u.name, u.id) for u in users] + [(u.email, u.id) for u in users if u.email]
        named += [(u.name.split()[0], u.id) for u in users if u.name.split()]
        ids = set(pick("user", handle, named))
        if len(ids) != 1:
            raise UnknownName("user", typed, sorted(u.name for u in users if u.id in ids))
        return ids.pop()

    async def _group(self, typed: str) -> int:
        account = await self._directory.account()
        return pick("group", typed, ((g.name, g.id) for g in account.groups))[0]

    async def _task_type(self, typed: str) -> int:
        account = await self._directory.account()
        return pick("task_type", typed, ((k.name, k.id) for k in account.task_types))[0]

    # --- commands ---------------------------------------------------------------------------

    async def _filters(self, spec: FilterSpec) -> Filters:
        pipeline = await self._pipeline(spec.pipeline) if spec.pipeline else None
        return Filters(
            pipeline_ids=(pipeline,) if pipeline is not None else (),
            status_ids=tuple(await self._statuses(spec.status, pipeline)) if spec.status else (),
            price_min=spec.price_min,
            price_max=spec.price_max,
            responsible_ids=(await self._user(spec.user),) if spec.user else (),
            group_ids=(await self._group(spec.group),) if spec.group else (),
            task_type_ids=(await self._task_type(spec.task_type),) if spec.task_type else (),
            tags=spec.tags,
            by_others=spec.by_others,
        )

    async def _target(self, me: Speaker, spec: TargetSpec, here: Target | None) -> Target:
        assert me.user is not None
        if spec.kind == "me" or (spec.kind == "here" and here is None):
            return Target(kind="user", id=str(me.user.id))
        if spec.kind == "here":
            assert here is not None
            return here
        if spec.kind in ("responsible", "author"):
            return Target(kind=spec.kind)
        if spec.kind == "supervisors":
            group = await self._group(spec.name) if spec.name else None
            return Target(kind="supervisors", id=str(group) if group is not None else None)
        if spec.kind == "user":
            return Target(kind="user", id=str(await self._user(spec.name or "")))
        if spec.kind == "group":
            return Target(kind="group", id=str(await self._group(spec.name or "")))
        messenger, _, chat = (spec.name or "").partition(":")
        return Target(kind="slack_channel" if messenger == "slack" else "telegram_chat", id=chat)

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
            filters=await self._filters(command.filters),
            target=await self._target(me, command.target, here),
            fields=command.fields or DEFAULT_SHARED_FIELDS,
            created_by=me.user.id,
            lang=me.lang,
        )
        await self._subscriptions.add(subscription)
        return Reply(
            text=t(
                lang,
                "admin_subscribed",
                id=subscription.id,
                what=await self.describe(subscription, lang),
            )
        )

    async def listing(self, lang: Lang) -> Reply:
        t = self._t
        active = await self._subscriptions.active()
        if not active:
            return Reply(text=t(lang, "admin_list_empty"))
        lines = [t(lang, "admin_list_header")]
        rows = []
        for subscription in active:
            lines.append(f"{subscription.id} · {await self.describe(subscription, lang)}")
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

    async def _supervisor(self, lang: Lang, command: SetSupervisor) -> Reply:
        group = await self._group(command.group)
        settings = await self._subscriptions.settings()
        chosen = dict(settings.supervisors)
        account = await self._directory.account()
        name = next((g.name for g in account.groups if g.id == group), str(group))
        if command.user is None:
            chosen.pop(group, None)
            await self._subscriptions.save_settings(
                settings.model_copy(update={"supervisors": chosen})
            )
            return Reply(text=self._t(lang, "admin_supervisor_reset", group=name))
        user = await self._user(command.user)
        chosen[group] = tuple(dict.fromkeys((*chosen.get(group, ()), user)))
        await self._subscriptions.save_settings(
            settings.model_copy(update={"supervisors": chosen})
        )
        names = [u.name for u in await self._directory.active_users() if u.id in chosen[group]]
        return Reply(
            text=self._t(lang, "admin_supervisor_set", group=name, names=", ".join(names))
        )

    async def _threshold(self, lang: Lang, command: SetThreshold) -> Reply:
        settings = await self._subscriptions.settings()
        await self._subscriptions.save_settings(
            settings.model_copy(update={"big_deal_price": command.amount})
        )
        if command.amount is None:
            return Reply(text=self._t(lang, "admin_threshold_off"))
        return Reply(text=self._t(lang, "admin_threshold_set", amount=_money(command.amount)))

    async def _stale(self, lang: Lang, command: SetStale) -> Reply:
        statuses = await self._statuses(command.status, None)
        settings = await self._subscriptions.settings()
        days = dict(settings.stale_days)
        for status in statuses:
            if command.days is None:
                days.pop(status, None)
            else:
                days[status] = command.days
        await self._subscriptions.save_settings(settings.model_copy(update={"stale_days": days}))
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
        filters = f" · {', '.join(parts)}" if parts else ""
        default = t(lang, "desc_default") if s.builtin else ""
        return f"{head}{filters} → {whom}{default}"


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
}
