"""Failures injected on cue: each added fault answers the next `count` matching calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

from sandbox.common.faults import FaultQueue, checked_kind

FaultKind = Literal["500", "502", "timeout", "429"]


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    method: str | None  # lower-cased Bot API method name; None matches every method
    retry_after: int  # for "429"
    delay_s: float  # for "timeout": how long the call hangs before the connection drops


class Faults(FaultQueue[Fault]):
    def add(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        *,
        retry_after: int = 1,
        delay_s: float = 1.0,
    ) -> None:
        """Queue a fault: "500"/"502" answer that status, "429" a flood wait of `retry_after`
        seconds, "timeout" hangs for `delay_s` and then drops the connection unanswered.
        The faulted call is not carried out."""
        fault_kind = cast(FaultKind, checked_kind(kind, get_args(FaultKind)))
        if count < 1 or retry_after < 1 or delay_s < 0:
            raise ValueError("count and retry_after must be >= 1, delay_s >= 0")
        name = method.lower() if method else None
        self.push(Fault(fault_kind, name, retry_after, delay_s), count)

    def take(self, method: str) -> Fault | None:
        """Consume one use of the oldest fault matching `method`."""
        name = method.lower()
        return self.take_first(lambda fault: fault.method in (None, name))
