"""Faults injected on cue: each added fault answers the next `count` matching requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal, cast, get_args

from aiohttp import web

from sandbox.amocrm.problems import problem, title_of
from sandbox.common.faults import FaultQueue, checked_kind

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
    delay_s: float
    path_prefix: str
    non_json: bool
    method: str | None = None  # None: any method


class Faults(FaultQueue[Fault]):
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
        fault_kind = cast(FaultKind, checked_kind(kind, get_args(FaultKind)))
        if count < 1 or delay_s < 0:
            raise ValueError("count must be >= 1 and delay_s >= 0")
        self.push(Fault(fault_kind, delay_s, path_prefix, non_json, method), count)

    def take(self, path: str, method: str = "GET") -> Fault | None:
        """Consume one use of the oldest fault matching `path` (and its method, if it has one)."""
        return self.take_first(
            lambda fault: path.startswith(fault.path_prefix) and fault.method in (None, method)
        )


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
