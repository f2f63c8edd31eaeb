"""Failures injected on cue: each added fault answers the next ``count`` matching Web API calls,
and the call is not carried out ("drop-after" aside: it is carried out, then its answer lost)."""

from __future__ import annotations

from sandbox.common.faults import MethodFaults

# The faults that are not a Slack error code; any other kind is answered as ok: false.
HTTP_KINDS = ("429", "500", "503", "timeout", "drop-after")
# Longer than slack_sdk waits by default (30 s), so the client gives up first.
DEFAULT_HOLD_S = 35.0


class Faults(MethodFaults):
    """ "429" (with ``Retry-After: retry_after``), "500", "503", "timeout" (the call is held
    ``delay_s``, 35 s, then the connection drops unanswered), "drop-after" (the call is carried
    out, held ``delay_s``, then the connection drops unanswered: Slack took the message and
    the answer was lost), or any other word, answered as
    ``{"ok": false, "error": kind}`` ("account_inactive", "invalid_auth", ...)."""

    default_delay_s = DEFAULT_HOLD_S

    def check(self, kind: str, count: int, retry_after: int, delay_s: float) -> None:
        if not kind or count < 1 or retry_after < 0 or delay_s < 0:
            raise ValueError("a kind, count >= 1, retry_after >= 0 and delay_s >= 0 please")
