"""Failures injected on cue: each added fault answers the next `count` matching calls."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

FaultKind = Literal["500", "502", "timeout", "429"]


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    remaining: int
    method: str | None  # lower-cased Bot API method name; None matches every method
    retry_after: int  # for "429"
    delay_s: float  # for "timeout": how long the call hangs before the connection drops


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
        delay_s: float = 1.0,
    ) -> None:
        """Queue a fault: "500"/"502" answer that status, "429" a flood wait of `retry_after`
        seconds, "timeout" hangs for `delay_s` and then drops the connection unanswered.
        The faulted call is not carried out."""
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {kind!r}; one of {get_args(FaultKind)}")
        if count < 1 or retry_after < 1 or delay_s < 0:
            raise ValueError("count and retry_after must be >= 1, delay_s >= 0")
        fault_kind: FaultKind = kind  # type: ignore[assignment]  # checked just above
        name = method.lower() if method else None
        self._pending.append(Fault(fault_kind, count, name, retry_after, delay_s))

    def clear(self) -> None:
        self._pending.clear()

    @property
    def pending(self) -> int:
        return sum(f.remaining for f in self._pending)

    def take(self, method: str) -> Fault | None:
        """Consume one use of the oldest fault matching `method`."""
        name = method.lower()
        for index, fault in enumerate(self._pending):
            if fault.method is None or fault.method == name:
                if fault.remaining == 1:
                    del self._pending[index]
                else:
                    self._pending[index] = replace(fault, remaining=fault.remaining - 1)
                self.injected += 1
                return fault
        return None
