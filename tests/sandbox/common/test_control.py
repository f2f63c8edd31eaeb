from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from sandbox.common.control import (
    ControlBody,
    ControlRoutes,
    answers_errors,
    read_body,
    records_json,
)


class _Echo(ControlBody):
    name: str
    count: int = 1


@dataclass(frozen=True)
class _Record:
    method: str
    status: int


def _unknown(exc: KeyError) -> str:
    return f"unknown {exc.args[0]}"


_answers = answers_errors(_unknown)


@_answers
async def _echo(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, _Echo)
    if body.name == "missing":
        raise KeyError("U1")
    if body.name == "bad":
        raise ValueError("no such thing")
    return web.json_response(body.model_dump())


async def _records(request: web.Request) -> web.StreamResponse:
    return records_json([_Record("GET", 200)])


@pytest.fixture
async def client() -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    app.add_routes([web.post("/echo", _echo), web.get("/records", _records)])
    opened = TestClient(TestServer(app))
    await opened.start_server()
    yield opened
    await opened.close()


async def test_a_body_is_read_into_its_model(
    client: TestClient[web.Request, web.Application],
) -> None:
    answer = await client.post("/echo", data='{"name": "a"}')
    assert (answer.status, await answer.json()) == (200, {"name": "a", "count": 1})


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ('{"name": 1}', 400, "name: Input should be a valid string"),
        ('{"name": "a", "x": 1}', 400, "x: Extra inputs are not permitted"),
        ("", 400, "name: Field required"),
        ('{"name": "missing"}', 404, "unknown U1"),
        ('{"name": "bad"}', 400, "no such thing"),
    ],
)
async def test_errors_are_answered_as_json(
    client: TestClient[web.Request, web.Application], body: str, status: int, error: str
) -> None:
    answer = await client.post("/echo", data=body)
    assert (answer.status, await answer.json()) == (status, {"error": error})


async def test_records_are_listed_as_json(
    client: TestClient[web.Request, web.Application],
) -> None:
    answer = await client.get("/records")
    assert await answer.json() == [{"method": "GET", "status": 200}]


class _Faults:
    def __init__(self) -> None:
        self.added: list[dict[str, object]] = []
        self.pending = 0

    def add(self, kind: str, count: int = 1, *, method: str | None = None) -> None:
        if kind == "nope":
            raise ValueError("unknown fault kind 'nope'")
        self.added.append({"kind": kind, "count": count, "method": method})
        self.pending += count

    def clear(self) -> None:
        self.pending = 0


class _Order(ControlBody):
    kind: str
    count: int = 1
    method: str | None = None


@dataclass(frozen=True)
class _Context:
    faults: _Faults
    request_log: list[_Record]


async def test_faults_are_ordered_and_dropped_and_the_log_read_over_http() -> None:
    faults = _Faults()
    context = _Context(faults, [_Record("GET", 200)])
    control = ControlRoutes(
        lambda request: context, _Order, not_found=_unknown, log="the log", faults='{"kind"}'
    )
    app = web.Application()
    app.add_routes(control.routes)
    async with TestClient(TestServer(app)) as http:
        logged = await http.get("/_control/requests")
        assert await logged.json() == [{"method": "GET", "status": 200}]
        added = await http.post("/_control/faults", data='{"kind": "500", "count": 2}')
        assert await added.json() == {"pending": 2}
        refused = await http.post("/_control/faults", data='{"kind": "nope"}')
        assert (refused.status, await refused.json()) == (
            400,
            {"error": "unknown fault kind 'nope'"},
        )
        dropped = await http.delete("/_control/faults")
        assert await dropped.json() == {"pending": 0}
    assert faults.added == [{"kind": "500", "count": 2, "method": None}]


async def test_each_declared_endpoint_is_routed_and_listed_with_its_canonical_path() -> None:
    context = _Context(_Faults(), [])
    control = ControlRoutes(
        lambda request: context, _Order, not_found=_unknown, log="log", faults="kind"
    )

    @control.get(r"/_control/things/{id:\d+}", "one thing")
    async def thing(request: web.Request) -> web.StreamResponse:
        return web.json_response({"id": {"7": 7}[request.match_info["id"]]})

    assert control.endpoints[0] == ("GET", "/_control/things/{id}", "one thing")
    # What every emulator has comes after its own endpoints.
    assert [(method, path) for method, path, _ in control.endpoints[1:]] == [
        ("GET", "/_control/requests"),
        ("POST", "/_control/faults"),
        ("DELETE", "/_control/faults"),
    ]
    app = web.Application()
    app.add_routes(control.routes)
    async with TestClient(TestServer(app)) as http:
        found = await http.get("/_control/things/7")
        assert await found.json() == {"id": 7}
        assert (await http.get("/_control/things/seven")).status == 404
        unknown = await http.get("/_control/things/8")
        assert (unknown.status, await unknown.json()) == (404, {"error": "unknown 8"})
