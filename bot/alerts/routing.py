"""Routing: an alert, matched against every subscription of its kind, becomes a list of
recipients, each allowed by amoCRM to see it. Pure: no I/O; built once per change of the
subscriptions or the users, then used for every alert.

A person hears about an alert once, however many subscriptions match, and never about their own
doing. Deal alerts go only to those whose ``rights.leads_view`` covers the deal (A all, G the
responsible's group, M their own, D none); a shared chat gets what its subscription shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from bot.alerts.kinds import Alert, AlertKind
from bot.alerts.subscriptions import AlertSettings, Filters, Subscription, Target
from bot.core import Lang, Right, User, Value
from bot.crm import can_view_deal


class Recipient(Value):
    subscription_id: str
    amo_user_id: int | None = None  # a person
    shared: Target | None = None  # or a shared chat
    fields: tuple[str, ...] = ()  # what a shared chat may see
    lang: Lang | None = None  # and in which language
    digest: bool = False  # kept for the daily digest rather than sent now


class Router:
    def __init__(
        self,
        subscriptions: Iterable[Subscription],
        users: Iterable[User],
        settings: AlertSettings,
        *,
        unassigned_user_id: int | None = None,
    ) -> None:
        """``unassigned_user_id``: the integration's own amoCRM user, where deals nobody took
        yet sit; such a deal is shown to everyone who sees deals at all, so that one can take
        it."""
        self._unassigned = unassigned_user_id
        self._by_kind: dict[AlertKind, list[Subscription]] = defaultdict(list)
        # Instant ones first: someone who hears of an alert now needs no digest line of it.
        for subscription in sorted(subscriptions, key=lambda s: s.mode == "digest"):
            self._by_kind[subscription.kind].append(subscription)
        self._users = {u.id: u for u in users}
        self._members: dict[int, list[int]] = defaultdict(list)
        for user in self._users.values():
            if user.group_id is not None and user.is_active:
                self._members[user.group_id].append(user.id)
        self._supervisors = {group: tuple(ids) for group, ids in settings.supervisors.items()}

    def supervisors(self, group_id: int | None) -> tuple[int, ...]:
        """The group's supervisors: as set by an admin, else its members who see the whole
        group's deals (``leads_view`` G)."""
        if group_id is None:
            return ()
        if group_id not in self._supervisors:  # the default, worked out once per group
            self._supervisors[group_id] = tuple(
                u for u in self._members.get(group_id, ())
                if self._users[u].rights.leads_view is Right.GROUP
            )  # fmt: skip
        return self._supervisors[group_id]

    def route(self, alert: Alert) -> list[Recipient]:
        found: list[Recipient] = []
        people: set[int] = set()
        refused: set[int] = set()  # may not see it: asked once per alert, not per subscription
        chats: set[tuple[str, str | None]] = set()
        responsible = alert.responsible_id
        for subscription in self._by_kind.get(alert.kind, ()):
            if not self._matches(subscription.filters, alert, responsible):
                continue
            target = subscription.target
            if target.shared:
                if (target.kind, target.id) not in chats:
                    chats.add((target.kind, target.id))
                    found.append(Recipient(subscription_id=subscription.id, shared=target,
                                           fields=subscription.fields, lang=subscription.lang,
                                           digest=subscription.mode == "digest"))  # fmt: skip
                continue
            for user_id in self._people(target, alert, responsible):
                if user_id in people or user_id in refused or user_id == alert.actor_id:
                    continue
                if not self._may_see(user_id, alert):
                    refused.add(user_id)
                    continue
                people.add(user_id)
                found.append(Recipient(subscription_id=subscription.id, amo_user_id=user_id,
                                       digest=subscription.mode == "digest"))  # fmt: skip
        return found

    def _group_of(self, user_id: int | None) -> int | None:
        user = self._users.get(user_id) if user_id is not None else None
        return user.group_id if user is not None else None

    def _matches(self, f: Filters, alert: Alert, responsible: int | None) -> bool:
        if f.responsible_ids and responsible not in f.responsible_ids:
            return False
        if f.group_ids and self._group_of(responsible) not in f.group_ids:
            return False
        if f.by_others:
            author = alert.actor_id
            if author is None and alert.task is not None:
                author = alert.task.created_by
            if author is None or author == responsible:
                return False
        task = alert.task
        if f.task_type_ids and (task is None or task.type_id not in f.task_type_ids):
            return False
        deal_filtered = (
            f.pipeline_ids
            or f.status_ids
            or f.tags
            or (f.price_min is not None or f.price_max is not None)
        )
        if not deal_filtered:
            return True
        deal = alert.deal
        if deal is None:
            return False
        if f.pipeline_ids and deal.pipeline_id not in f.pipeline_ids:
            return False
        if f.status_ids and deal.status_id not in f.status_ids:
            return False
        if f.price_min is not None and deal.price < f.price_min:
            return False
        if f.price_max is not None and deal.price > f.price_max:
            return False
        wanted = {t.lower() for t in f.tags}
        return not wanted or bool(wanted & {t.lower() for t in deal.tags})

    def _people(self, target: Target, alert: Alert, responsible: int | None) -> tuple[int, ...]:
        if target.kind == "responsible":
            return (responsible,) if responsible is not None else ()
        if target.kind == "author":
            author = alert.task.created_by if alert.task is not None else None
            return (author,) if author is not None else ()
        if target.kind == "user":
            return (int(target.id),) if target.id and target.id.isdigit() else ()
        if target.kind == "group":
            return tuple(self._members.get(int(target.id or 0), ()))
        group = (
            int(target.id) if target.id and target.id.isdigit() else self._group_of(responsible)
        )
        return self.supervisors(group)

    def _may_see(self, user_id: int, alert: Alert) -> bool:
        user = self._users.get(user_id)
        if user is None or not user.is_active:
            return False
        deal = alert.deal
        if deal is None:
            return True  # a task without a deal: about the person's own work
        if deal.responsible_user_id == self._unassigned:
            return user.rights.leads_view is not Right.DENIED or user.rights.is_admin
        responsible = self._users.get(deal.responsible_user_id)
        return can_view_deal(user, deal, responsible)
