"""Faults injected on cue: each added fault answers the next `count` matching requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Literal, cast, get_args

from aiohttp import web

from sandbox.amocrm.problems import problem, title_of

# "500-after": the request is carried out, then answered 500 (a write applied, its answer lost).
FaultKind = Literal["429", "500", "503", "slow", "timeout", "html403", "500-after"]

_NGINX_403 = (
    "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    remaining: int
    delay_s: float
    path_prefix: str
    non_json: bool
    method: str | None = None  # None: any method


class Faults:
    def __init__(self) -> None:
        self._pending: list[Fault] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        *,
        delay_s: float = 0.0,
        path_prefix: str = "/api/v4/",
        non_json: bool = False,
        method: str | None = None,
    ) -> None:
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}; one of {get_args(FaultKind)}")
        if count < 1 or delay_s < 0:
            raise ValueError("count must be >= 1 and delay_s >= 0")
        fault = Fault(cast(FaultKind, kind), count, delay_s, path_prefix, non_json, method)
        self._pending.append(fault)

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(f.remaining for f in self._pending)

    def take(self, path: str, method: str = "GET") -> Fault | None:
        """Consume one use of the oldest fault matching `path` (and its method, if it has one)."""
        for index, fault in enumerate(self._pending):
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                if fault.remaining == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = replace(fault, remaining=fault.remaining - 1)
                return fault
        return None


def _error(status: int, non_json: bool) -> web.Response:
    if non_json:
        text = f"<html><body><h1>{status} {title_of(status)}</h1></body></html>"
        return web.Response(status=status, text=text, content_type="text/html")
    return problem(status, title_of(status))


async def apply_fault(fault: Fault) -> web.Response | None:
    """The answer a fault forces, or None when the request should then be served normally."""
    if fault.kind == "500-after":
        return None
    if fault.kind in ("slow", "timeout"):
        await asyncio.sleep(fault.delay_s)
        return _error(504, fault.non_json) if fault.kind == "timeout" else None
    if fault.kind == "html403":
        return web.Response(status=403, text=_NGINX_403, content_type="text/html")
    return _error(int(fault.kind), fault.non_json)
