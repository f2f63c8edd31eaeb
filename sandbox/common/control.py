"""Helpers for the emulators' HTTP control APIs under ``/_control/``: each endpoint declared once
on its handler (``ControlRoutes``), JSON bodies read into frozen pydantic models, and errors
answered as ``{"error": ...}`` (400, or 404 for an unknown id).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any, Protocol, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlBody(BaseModel):
    """A control request's body: unknown fields refused, types not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


async def read_body(request: web.Request, model: type[Model]) -> Model:
    """The body as ``model``; an empty body is ``{}`` (so ``curl -X POST`` works)."""
    return model.model_validate_json(await request.text() or "{}")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())


def answers_errors(
    not_found: Callable[[KeyError], str],
    bad: tuple[type[Exception], ...] = (ValueError,),
) -> Callable[[Handler], Handler]:
    """A decorator: a bad body or a ``bad`` exception answers 400 with its message, a KeyError
    (an unknown id) 404 with ``not_found(exc)``, each emulator wording it as it always has."""

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapped(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ValidationError as exc:
                return json_error(400, _problems(exc))
            except KeyError as exc:
                return json_error(404, not_found(exc))
            except bad as exc:
                return json_error(400, str(exc))

        return wrapped

    return decorate


def records_json(items: Iterable[Any]) -> web.Response:
    """A list of dataclass records (a request log, deliveries, answers) as JSON."""
    return web.json_response([dataclasses.asdict(item) for item in items])


class Injects(Protocol):
    """An emulator's faults, as the control API adds them: the order's fields are ``add``'s
    keyword arguments."""

    @property
    def pending(self) -> int: ...

    def add(self, *args: Any, **kwargs: Any) -> None: ...

    def clear(self) -> None: ...


class Served(Protocol):
    """An emulator's context, as its control API sees it."""

    @property
    def request_log(self) -> Iterable[Any]: ...

    @property
    def faults(self) -> Injects: ...


class MethodFaultOrder(ControlBody):
    """``POST /_control/faults`` of an API called by method name (Telegram's, Slack's)."""

    kind: str
    count: int = 1
    method: str | None = None
    retry_after: int = 1
    delay_s: float = 1.0


# ``{id:\\d+}`` as listed: ``{id}`` (aiohttp's canonical form of the path).
_PATTERN = re.compile(r"\{(\w+):[^}]*\}")

# (HTTP method, path, body or meaning): what `amobridge sandbox` and the README list.
Endpoint = tuple[str, str, str]


class ControlRoutes:
    """An emulator's control endpoints, each declared once, on its handler, with what it takes
    or does: the app's routes and the listing shown to people come from that one declaration,
    so they cannot drift apart."""

    def __init__(
        self,
        context_of: Callable[[web.Request], Served],
        fault_order: type[BaseModel],
        *,
        not_found: Callable[[KeyError], str],
        bad: tuple[type[Exception], ...] = (ValueError,),
        log: str,
        faults: str,
    ) -> None:
        """Every declared handler answers errors as `answers_errors` (``not_found``, ``bad``)
        does. What every emulator has is declared here: ``GET /_control/requests`` (its
        request log, ``log`` says which), ``POST /_control/faults`` (the body a
        ``fault_order``, ``faults`` says which) and ``DELETE`` (the pending faults dropped)."""
        self._answering = answers_errors(not_found, bad)
        self._routes: list[web.RouteDef] = []
        self._listed: list[Endpoint] = []
        self.records("/_control/requests", log, lambda request: context_of(request).request_log)
        self._fault_routes(context_of, fault_order, faults)
        self._common = len(self._routes)  # listed after the emulator's own, as people read them

    def add(self, method: str, path: str, what: str, handler: Handler) -> None:
        self._routes.append(web.route(method, path, self._answering(handler)))
        self._listed.append((method, _PATTERN.sub(r"{\1}", path), what))

    def _declaring(self, method: str, path: str, what: str) -> Callable[[Handler], Handler]:
        def declare(handler: Handler) -> Handler:
            self.add(method, path, what, handler)
            return handler

        return declare

    def get(self, path: str, what: str) -> Callable[[Handler], Handler]:
        return self._declaring("GET", path, what)

    def post(self, path: str, what: str) -> Callable[[Handler], Handler]:
        return self._declaring("POST", path, what)

    def patch(self, path: str, what: str) -> Callable[[Handler], Handler]:
        return self._declaring("PATCH", path, what)

    def records(
        self, path: str, what: str, records_of: Callable[[web.Request], Iterable[Any]]
    ) -> None:
        """``GET path``: a list of dataclass records (a request log, deliveries, answers)."""

        async def listing(request: web.Request) -> web.StreamResponse:
            return records_json(records_of(request))

        self.add("GET", path, what, listing)

    def _fault_routes(
        self, context_of: Callable[[web.Request], Served], order: type[BaseModel], what: str
    ) -> None:
        """Both answer ``{"pending": n}``."""

        async def add_fault(request: web.Request) -> web.StreamResponse:
            injects = context_of(request).faults
            injects.add(**(await read_body(request, order)).model_dump())
            return web.json_response({"pending": injects.pending})

        async def clear_faults(request: web.Request) -> web.StreamResponse:
            context_of(request).faults.clear()
            return web.json_response({"pending": 0})

        self.add("POST", "/_control/faults", what, add_fault)
        self.add("DELETE", "/_control/faults", "drop the pending faults", clear_faults)

    @property
    def routes(self) -> list[web.RouteDef]:
        return self._routes[self._common :] + self._routes[: self._common]

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return (*self._listed[self._common :], *self._listed[: self._common])
