"""Failures injected on cue: each added fault answers the next ``count`` matching Web API calls,
and the call is not carried out."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.common.faults import FaultQueue

# The faults that are not a Slack error code; any other kind is answered as ok: false.
HTTP_KINDS = ("429", "500", "503", "timeout")
# Longer than slack_sdk waits by default (30 s), so the client gives up first.
DEFAULT_HOLD_S = 35.0


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str  # one of HTTP_KINDS, or a Slack error code
    method: str | None  # None matches every method
    retry_after: int  # for "429"
    delay_s: float  # for "timeout": how long the call is held before the connection drops


class Faults(FaultQueue[Fault]):
    def add(
        self,
        kind: str,
        count: int = 1,
        method: str | None = None,
        *,
        retry_after: int = 1,
        delay_s: float = DEFAULT_HOLD_S,
    ) -> None:
        """Queue a fault for the next ``count`` calls (of ``method``, or of any): "429" (with
        ``Retry-After: retry_after``), "500", "503", "timeout" (the call is held ``delay_s``,
        then the connection drops unanswered), or any other word, answered as
        ``{"ok": false, "error": kind}`` ("account_inactive", "invalid_auth", ...)."""
        if not kind or count < 1 or retry_after < 0 or delay_s < 0:
            raise ValueError("a kind, count >= 1, retry_after >= 0 and delay_s >= 0 please")
        self.push(Fault(kind, method, retry_after, delay_s), count)

    def take(self, method: str) -> Fault | None:
        """Use up one answer of the oldest fault matching ``method``."""
        return self.take_first(lambda fault: fault.method in (None, method))
