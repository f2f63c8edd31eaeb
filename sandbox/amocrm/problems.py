"""Response bodies in amoCRM's content types: hal+json, problem+json, validation errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from aiohttp import web

from sandbox.amocrm.records import JsonDict

HAL = "application/hal+json"
PROBLEM = "application/problem+json"

_TITLES: Mapping[int, str] = MappingProxyType(
    {
        400: "Bad Request",
        401: "Unauthorized",
        402: "Payment Required",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
        504: "Gateway Time-out",
    }
)


def title_of(status: int) -> str:
    return _TITLES.get(status, "Error")


def _dumps(body: Any) -> bytes:
    # Bytes, so aiohttp sends the bare media type as amoCRM does (no "; charset=").
    return json.dumps(body, ensure_ascii=False).encode()


def hal(body: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=_dumps(body), content_type=HAL)


def no_content() -> web.Response:
    """amoCRM's answer to an empty list or a page past the end (error code 2002)."""
    return web.Response(status=204)


def problem(status: int, detail: str, *, title: str | None = None) -> web.Response:
    body = {
        "title": title or title_of(status),
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }
    return web.Response(status=status, body=_dumps(body), content_type=PROBLEM)


def unauthorized() -> web.Response:
    # The exact body seen on real 401s (amocrm-api-php #333).
    return problem(401, "Неверный логин или пароль")


@dataclass(frozen=True, slots=True)
class FieldError:
    code: str
    path: str
    detail: str

    def as_json(self) -> JsonDict:
        return asdict(self)  # the wire's keys are the fields' names


def validation_failed(items: Sequence[tuple[str, Sequence[FieldError]]]) -> web.Response:
    """400 with one entry per failing batch item: (its request_id or index, its errors)."""
    body = {
        "validation-errors": [
            {"request_id": request_id, "errors": [e.as_json() for e in errors]}
            for request_id, errors in items
        ],
        "title": "Bad Request",
        "type": "https://httpstatus.es/400",
        "status": 400,
        "detail": "Request validation failed",
    }
    return web.Response(status=400, body=_dumps(body), content_type=PROBLEM)


def oauth_problem(hint: str, status: int = 400) -> web.Response:
    body = {
        "hint": hint,
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": status,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }
    return web.Response(status=status, body=_dumps(body), content_type=PROBLEM)
