"""Failures injected on cue: each added fault answers the next `count` matching calls."""

from __future__ import annotations

from typing import Literal, get_args

from sandbox.common.faults import MethodFaults, checked_kind

FaultKind = Literal["500", "502", "timeout", "429"]


class Faults(MethodFaults):
    """ "500"/"502" answer that status, "429" a flood wait of `retry_after` seconds, "timeout"
    hangs for `delay_s` (1 s) and then drops the connection unanswered."""

    fold_case = True  # the Bot API takes method names in any case

    def check(self, kind: str, count: int, retry_after: int, delay_s: float) -> None:
        checked_kind(kind, get_args(FaultKind))
        if count < 1 or retry_after < 1 or delay_s < 0:
            raise ValueError("count and retry_after must be >= 1, delay_s >= 0")
