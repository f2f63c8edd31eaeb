"""Failures injected on cue: each added fault answers the next ``count`` matching calls."""

from __future__ import annotations

from dataclasses import dataclass, replace

HTTP_KINDS = ("429", "500", "503", "timeout")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # "429", "500", "503", "timeout", or a Slack error code answered as ok:false
    remaining: int
    method: str | None  # None matches every method
    retry_after: int
    delay_s: float


class Faults:
    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self.injected = 0

    def add(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        *,
        retry_after: int = 1,
        delay_s: float = 20.0,
    ) -> None:
        """Queue a fault: "429" (with ``retry_after``), "500", "503", "timeout" (hang for
        ``delay_s``, then drop the connection), or any other word: an ``ok: false`` answer with
        that error code ("account_inactive", "invalid_auth"). The call is not carried out."""
        if count < 1 or retry_after < 0 or delay_s < 0 or not kind:
            raise ValueError("count must be >= 1, retry_after and delay_s >= 0, kind given")
        self._pending.append(Fault(kind, count, method, retry_after, delay_s))

    def clear(self) -> None:
        self._pending.clear()

    def take(self, method: str) -> Fault | None:
        for index, fault in enumerate(self._pending):
            if fault.method is None or fault.method == method:
                if fault.remaining == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = replace(fault, remaining=fault.remaining - 1)
                self.injected += 1
                return fault
        return None
