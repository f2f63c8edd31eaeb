"""A scripted amoCRM for unit tests: an ``httpx.MockTransport`` handler with canned replies."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import httpx

BASE_URL = "https://demo.amocrm.ru"
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    authorization: str | None
    body: object

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)


@dataclass
class FakeAmo:
    """Replies queued per ``(method, path)``; the last reply of a queue repeats."""

    routes: dict[tuple[str, str], deque[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.routes.setdefault((method, path), deque()).extend(replies)

    def calls(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    async def handler(self, request: httpx.Request) -> httpx.Response:
        content = request.content
        self.seen.append(
            Seen(
                method=request.method,
                path=request.url.path,
                query=tuple(parse_qsl(request.url.query.decode(), keep_blank_values=True)),
                authorization=request.headers.get("authorization"),
                body=json.loads(content) if content else None,
            )
        )
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return problem(404, "Not Found", f"no fake route {request.method} {request.url.path}")
        reply = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


def ok(body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/hal+json"}
    )


def no_content() -> httpx.Response:
    return httpx.Response(204)


def problem(status: int, title: str, detail: str, **extra: object) -> httpx.Response:
    body = {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
        **extra,
    }
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/problem+json", "x-request-id": "req-1"},
    )


def invalid(*requests: dict[str, object]) -> httpx.Response:
    """amoCRM's 400 for a write that failed validation: ``requests`` are the entries of its
    ``validation-errors``, one per failed request of the batch."""
    return problem(
        400, "Bad Request", "Request validation failed", **{"validation-errors": list(requests)}
    )


def text(status: int, body: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers=headers)


def page(key: str, items: list[dict[str, object]], next_href: str | None = None) -> httpx.Response:
    links: dict[str, object] = {"self": {"href": f"{BASE_URL}/api/v4/{key}?page=1"}}
    if next_href is not None:
        links["next"] = {"href": next_href}
    return ok({"_page": 1, "_links": links, "_embedded": {key: items}})


def wire_task(task_id: int, **over: object) -> dict[str, object]:
    task: dict[str, object] = {
        "id": task_id,
        "created_by": 54224,
        "updated_by": 3987910,
        "created_at": 1575910123,
        "updated_at": 1576767989,
        "responsible_user_id": 123123,
        "group_id": 0,
        "entity_id": 180765,
        "entity_type": "leads",
        "duration": 0,
        "is_completed": False,
        "task_type_id": 2,
        "text": "Call the client",
        "result": [],
        "complete_till": 1575910423,
        "account_id": 321312,
        "_links": {"self": {"href": f"{BASE_URL}/api/v4/tasks/{task_id}"}},
    }
    task.update(over)
    return task


def wire_lead(lead_id: int, **over: object) -> dict[str, object]:
    lead: dict[str, object] = {
        "id": lead_id,
        "name": "Big deal",
        "price": 150000,
        "responsible_user_id": 504329,
        "group_id": 0,
        "status_id": 142,
        "pipeline_id": 437642,
        "loss_reason_id": None,
        "created_by": 504329,
        "updated_by": 504329,
        "created_at": 1700000000,
        "updated_at": 1700000500,
        "closed_at": None,
        "closest_task_at": None,
        "is_deleted": False,
        "custom_fields_values": None,
        "score": None,
        "account_id": 17079858,
        "labor_cost": None,
        "_links": {"self": {"href": f"{BASE_URL}/api/v4/leads/{lead_id}"}},
        "_embedded": {"tags": [{"id": 1, "name": "vip", "color": None}], "companies": []},
    }
    lead.update(over)
    return lead
