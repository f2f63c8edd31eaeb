"""Our async amoCRM v4 client: the endpoints amobridge uses, returning the core's types.

Pacing, auth and the retry policy (reads retried, writes never blindly) live in ``transport``;
wire shapes and PHP quirks in ``wire``. Lists follow ``_links.next``; 204 is an empty list.
Over 400 lines as one class on purpose: one short method per amoCRM endpoint the core uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from bot.core import Account, AmoEvent, Deal, LossReason, Pipeline, Task, User
from integrations.amocrm.auth import AmoAuth
from integrations.amocrm.errors import AmoBadResponse, AmoNotFound
from integrations.amocrm.pacing import Pacer
from integrations.amocrm.query import QueryValue, encode_query
from integrations.amocrm.transport import OnRequest, Requester, RetryPolicy
from integrations.amocrm.values import (
    NewTask,
    TaskPatch,
    Webhook,
    new_task_body,
    task_patch_body,
)
from integrations.amocrm.wire import (
    WireAccount,
    WireEvent,
    WireLead,
    WireLossReason,
    WirePage,
    WirePipeline,
    WireTask,
    WireUser,
    WireWebhook,
    WireWritten,
)

M = TypeVar("M", bound=BaseModel)

PAGE_LIMIT: Final = 250
EVENTS_PAGE_LIMIT: Final = 100
EVENT_IDS_PER_QUERY: Final = 10  # filter[entity_id][] takes at most 10
WRITE_BATCH: Final = 50  # amoCRM takes up to 250 per write and recommends 50
IDS_PER_QUERY: Final = 100  # keeps filter[id][...] URLs well under common 8 KiB limits
ACCOUNT_WITH: Final = "users_groups,task_types,datetime_settings"
DEFAULT_WEBHOOK_SORT: Final = 10


def default_http() -> httpx.AsyncClient:
    # The SDK's timeouts; trust_env=False so no stray proxy variable sees our bearer token.
    return httpx.AsyncClient(timeout=httpx.Timeout(20, connect=5), trust_env=False)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _closes_within(deal: Deal, bounds: tuple[int, int]) -> bool:
    return deal.closed_at is not None and bounds[0] <= deal.closed_at <= bounds[1]


@dataclass(frozen=True, slots=True)
class _Scope:
    """What leads and tasks are both listed by: their ids, a last change, who is responsible."""

    ids: Sequence[int] | None
    updated_since: int | None
    responsible_user_ids: Sequence[int] | None

    def filters(self) -> dict[str, QueryValue] | None:
        """amoCRM's filters for these; None when an empty list of ids or people asks for
        nothing at all."""
        if (self.ids is not None and not self.ids) or (
            self.responsible_user_ids is not None and not self.responsible_user_ids
        ):
            return None
        base: dict[str, QueryValue] = {}
        if self.updated_since is not None:
            base["updated_at"] = {"from": self.updated_since}
        if self.responsible_user_ids is not None:
            base["responsible_user_id"] = list(self.responsible_user_ids)
        return base

    def holds(self, item: Deal | Task) -> bool:
        """Whether ``item`` is in scope. amoCRM may ignore a filter (lead filtering is a paid
        add-on), so what it answers is checked again."""
        return (
            (self.ids is None or item.id in self.ids)
            and (self.updated_since is None or item.updated_at >= self.updated_since)
            and (
                self.responsible_user_ids is None
                or item.responsible_user_id in self.responsible_user_ids
            )
        )


def _api_target(href: str) -> str:
    """Path and query of a ``_links`` href, re-rooted on our base URL.

    amoCRM writes absolute links on the account's public host; behind a proxy or an emulator
    that host is not ours, so only the ``/api/v4/...`` part is kept.
    """
    parts = urlsplit(href)
    path = parts.path
    at = path.find("/api/v4/")
    if at > 0:
        path = path[at:]
    return path + (f"?{parts.query}" if parts.query else "")


class AmoClient:
    def __init__(
        self,
        base_url: str,
        *,
        auth: AmoAuth,
        pacer: Pacer,
        http: httpx.AsyncClient | None = None,
        max_read_attempts: int = 5,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        on_request: OnRequest | None = None,
    ) -> None:
        """``max_read_attempts`` bounds every retried request (writes retry only 429s and
        failed connects); ``backoff_max_s`` is also the longest ``Retry-After`` waited out."""
        self._base = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else default_http()
        policy = RetryPolicy(
            max_attempts=max_read_attempts,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
        )
        self._requester = Requester(
            base_url, auth=auth, pacer=pacer, http=self._http, policy=policy, on_request=on_request
        )

    def __repr__(self) -> str:
        return f"AmoClient({self._base!r})"

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- reads -------------------------------------------------------------------------------

    async def account(self) -> Account:
        path = "/api/v4/account"
        response = await self._requester.request(
            "GET", path, f"{path}?{encode_query({'with': ACCOUNT_WITH})}"
        )
        return self._parse(response, WireAccount, "GET", path).to_domain()

    async def users(self) -> list[User]:
        wire = await self._list("/api/v4/users", {"limit": PAGE_LIMIT}, "users", WireUser)
        return [u.to_domain() for u in wire]

    async def user(self, user_id: int) -> User | None:
        found = await self._one("/api/v4/users/{id}", f"/api/v4/users/{user_id}", WireUser)
        return found.to_domain() if found else None

    async def pipelines(self) -> list[Pipeline]:
        wire = await self._list("/api/v4/leads/pipelines", {}, "pipelines", WirePipeline)
        return [p.to_domain() for p in wire]

    async def lead(self, lead_id: int) -> Deal | None:
        found = await self._one("/api/v4/leads/{id}", f"/api/v4/leads/{lead_id}", WireLead)
        return found.to_domain() if found else None

    async def leads(
        self,
        *,
        ids: Sequence[int] | None = None,
        updated_since: int | None = None,
        responsible_user_ids: Sequence[int] | None = None,
        statuses: Sequence[tuple[int, int]] | None = None,
        closed_between: tuple[int, int] | None = None,
    ) -> list[Deal]:
        """``statuses``: (pipeline id, status id) pairs; ``closed_between``: the close date
        (``closed_at``, which an open deal may carry as its planned date) in [from, to]."""
        scope = _Scope(ids, updated_since, responsible_user_ids)
        base = scope.filters()
        if base is None:
            return []
        if statuses is not None:
            if not statuses:
                return []
            base["statuses"] = [{"pipeline_id": p, "status_id": s} for p, s in statuses]
        if closed_between is not None:
            base["closed_at"] = {"from": closed_between[0], "to": closed_between[1]}
        wanted = set(statuses or ())
        wire = await self._scoped("/api/v4/leads", "leads", WireLead, base, ids)
        return [
            d
            for d in (w.to_domain() for w in wire)
            if scope.holds(d)
            and (statuses is None or (d.pipeline_id, d.status_id) in wanted)
            and (closed_between is None or _closes_within(d, closed_between))
        ]

    async def loss_reasons(self) -> list[LossReason]:
        """The account's loss reasons (an account without any answers 204: none)."""
        params: dict[str, QueryValue] = {}
        wire = await self._list("/api/v4/leads/loss_reasons", params, "loss_reasons",
                                WireLossReason)  # fmt: skip
        return [w.to_domain() for w in wire]

    async def task(self, task_id: int) -> Task | None:
        found = await self._one("/api/v4/tasks/{id}", f"/api/v4/tasks/{task_id}", WireTask)
        return found.to_domain() if found else None

    async def tasks(
        self,
        *,
        ids: Sequence[int] | None = None,
        updated_since: int | None = None,
        responsible_user_ids: Sequence[int] | None = None,
        is_completed: bool | None = None,
        complete_till_to: int | None = None,
        deal_id: int | None = None,
    ) -> list[Task]:
        scope = _Scope(ids, updated_since, responsible_user_ids)
        base = scope.filters()
        if base is None:
            return []
        if is_completed is not None:
            base["is_completed"] = is_completed
        if deal_id is not None:
            base["entity_type"] = "leads"
            base["entity_id"] = deal_id
        if complete_till_to is not None:
            base["complete_till"] = {"to": complete_till_to}  # undocumented; checked below
        wire = await self._scoped("/api/v4/tasks", "tasks", WireTask, base, ids)
        return [
            t
            for t in (w.to_domain() for w in wire)
            if scope.holds(t)
            and (is_completed is None or t.is_completed == is_completed)
            and (complete_till_to is None or t.complete_till <= complete_till_to)
            and (deal_id is None or t.deal_id == deal_id)
        ]

    async def events(
        self,
        *,
        created_since: int,
        types: Sequence[str] = (),
        entities: Sequence[str] = (),
        entity_ids: Sequence[int] = (),
    ) -> list[AmoEvent]:
        """``entity_ids`` need exactly one entity type; amoCRM takes 10 per request, so more
        are asked for in several."""
        if entity_ids and len(entities) != 1:
            raise ValueError("events of given entity ids need exactly one entity type")
        filters: dict[str, QueryValue] = {"created_at": {"from": created_since}}
        if types:
            filters["type"] = list(types)
        if entities:
            filters["entity"] = list(entities)
        wire: list[WireEvent] = []
        ids = list(dict.fromkeys(entity_ids))
        for chunk in _chunks(ids, EVENT_IDS_PER_QUERY) if ids else [()]:
            scoped = {**filters, "entity_id": list(chunk)} if chunk else filters
            params: dict[str, QueryValue] = {"limit": EVENTS_PAGE_LIMIT, "filter": scoped}
            wire += await self._list("/api/v4/events", params, "events", WireEvent)
        wanted = set(entity_ids)
        return [
            e.to_domain()
            for e in wire
            if e.created_at >= created_since
            and (not types or e.type in types)
            and (not entities or e.entity_type in entities)
            and (not wanted or e.entity_id in wanted)
        ]

    async def list_webhooks(self, destination: str | None = None) -> list[Webhook]:
        params: dict[str, QueryValue] = {"filter": {"destination": destination}}
        wire = await self._list("/api/v4/webhooks", params, "webhooks", WireWebhook)
        return [w.to_domain() for w in wire]

    # --- writes ------------------------------------------------------------------------------

    async def update_task(self, patch: TaskPatch) -> int:
        """Apply one partial edit; returns the task's new ``updated_at``."""
        body = task_patch_body(patch)
        if not body:
            raise ValueError(f"TaskPatch for task {patch.id} sets no field")
        template = "/api/v4/tasks/{id}"
        response = await self._requester.request(
            "PATCH", template, f"/api/v4/tasks/{patch.id}", body
        )
        return self._parse(response, WireWritten, "PATCH", template).updated_at or 0

    async def update_lead_responsible(self, lead_id: int, user_id: int) -> int:
        """Make ``user_id`` responsible for the lead; returns its new ``updated_at``."""
        template = "/api/v4/leads/{id}"
        response = await self._requester.request(
            "PATCH", template, f"/api/v4/leads/{lead_id}", {"responsible_user_id": user_id}
        )
        return self._parse(response, WireWritten, "PATCH", template).updated_at or 0

    async def update_tasks(self, patches: Sequence[TaskPatch]) -> list[int]:
        """Apply edits in batches of 50; returns each task's new ``updated_at``, in order.

        A failure in a later batch leaves the earlier batches applied.
        """
        path = "/api/v4/tasks"
        updated: dict[int, int] = {}
        for chunk in _chunks(patches, WRITE_BATCH):
            body = [task_patch_body(p, with_id=True) for p in chunk]
            response = await self._requester.request("PATCH", path, path, body)
            for item in self._written(response, "tasks", "PATCH", path):
                updated[item.id] = item.updated_at or 0
        return [updated.get(p.id, 0) for p in patches]

    async def create_task(self, task: NewTask) -> int:
        path = "/api/v4/tasks"
        response = await self._requester.request("POST", path, path, [new_task_body(task)])
        return self._first_id(self._written(response, "tasks", "POST", path), "POST", path)

    async def add_lead_note(self, lead_id: int, text: str, *, note_type: str = "common") -> int:
        template = "/api/v4/leads/{id}/notes"
        body = [{"note_type": note_type, "params": {"text": text}}]
        response = await self._requester.request(
            "POST", template, f"/api/v4/leads/{lead_id}/notes", body
        )
        written = self._written(response, "notes", "POST", template)
        return self._first_id(written, "POST", template)

    async def register_webhook(self, destination: str, settings: Sequence[str]) -> Webhook:
        """Subscribe ``destination``; amoCRM updates the hook if it is already registered."""
        path = "/api/v4/webhooks"
        body = {
            "destination": destination,
            "settings": list(settings),
            "sort": DEFAULT_WEBHOOK_SORT,
        }
        response = await self._requester.request("POST", path, path, body)
        return self._parse(response, WireWebhook, "POST", path).to_domain()

    async def delete_webhook(self, destination: str) -> bool:
        """Unsubscribe ``destination``; False if it was not registered."""
        path = "/api/v4/webhooks"
        try:
            await self._requester.request("DELETE", path, path, {"destination": destination})
        except AmoNotFound:
            return False
        return True

    # --- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _id_chunks(
        base: dict[str, QueryValue], ids: Sequence[int] | None
    ) -> Iterable[dict[str, QueryValue]]:
        if ids is None:
            yield base
            return
        for chunk in _chunks(list(dict.fromkeys(ids)), IDS_PER_QUERY):
            yield {"id": list(chunk), **base}

    async def _scoped(
        self,
        path: str,
        key: str,
        model: type[M],
        base: dict[str, QueryValue],
        ids: Sequence[int] | None,
    ) -> list[M]:
        """Every item of a list under the filters ``base`` and, when given, of ``ids`` (asked
        for ``IDS_PER_QUERY`` at a time, one page each: a chunk fits a page, and where amoCRM
        ignores the filter, lead filtering being a paid add-on, a next page would start a walk
        through the whole account, which amoCRM names as abuse; the caller reads what is missing
        one by one)."""
        items: list[M] = []
        for filters in self._id_chunks(base, ids):
            params: dict[str, QueryValue] = {"limit": PAGE_LIMIT, "filter": filters or None}
            items += await self._list(path, params, key, model, one_page=ids is not None)
        return items

    async def _one(self, template: str, path: str, model: type[M]) -> M | None:
        """A single entity, or None for an unknown id (amoCRM answers 204, or 404)."""
        try:
            response = await self._requester.request("GET", template, path)
        except AmoNotFound:
            return None
        if response.status_code == 204:
            return None
        return self._parse(response, model, "GET", template)

    async def _list(
        self,
        path: str,
        params: dict[str, QueryValue],
        key: str,
        model: type[M],
        *,
        one_page: bool = False,
    ) -> list[M]:
        """Every page of a list, following ``_links.next`` unless ``one_page``; 204 ends it
        (an empty page)."""
        query = encode_query(params)
        target: str | None = f"{path}?{query}" if query else path
        seen: set[str] = set()
        items: list[M] = []
        while target is not None and target not in seen:
            seen.add(target)  # a link loop ends the walk rather than spinning
            response = await self._requester.request("GET", path, target)
            if response.status_code == 204:
                break
            page = self._parse(response, WirePage, "GET", path)
            try:
                items.extend(model.model_validate(raw) for raw in page.items(key))
            except ValidationError:
                raise AmoBadResponse(
                    f"GET {path}: unexpected {key} item shape", status=response.status_code
                ) from None
            target = _api_target(page.next_href) if page.next_href and not one_page else None
        return items

    def _written(
        self, response: httpx.Response, key: str, method: str, path: str
    ) -> list[WireWritten]:
        page = self._parse(response, WirePage, method, path)
        try:
            return [WireWritten.model_validate(raw) for raw in page.items(key)]
        except ValidationError:
            raise AmoBadResponse(
                f"{method} {path}: unexpected answer shape", status=response.status_code
            ) from None

    @staticmethod
    def _first_id(written: list[WireWritten], method: str, path: str) -> int:
        if not written:
            raise AmoBadResponse(f"{method} {path}: the answer names no created id")
        return written[0].id

    @staticmethod
    def _parse(response: httpx.Response, model: type[M], method: str, path: str) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise AmoBadResponse(
                f"{method} {path}: unexpected answer shape",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from None
