"""How a loop that runs every tick logs its failures: an expected answer (amoCRM refusing the
token, a rate limit, an outage; the store full) is one line without a traceback, said once and
then not again until the failure changes or the work succeeds; anything else is a bug and keeps
its traceback.

A long outage would otherwise log a traceback per tick (or per item) for hours, burying what
matters; the operator needs to know that it started, what it is, and when it ended.
"""

from __future__ import annotations

import logging

from bot.core.ports import CrmError


def is_expected(exc: BaseException) -> bool:
    """An answer amoCRM documents (401, 402, 403, 429, 5xx, no answer), or another error that
    marks itself ``expected`` (the store full): a condition to wait out, not a bug of ours."""
    if isinstance(exc, CrmError):
        return exc.expected
    return getattr(exc, "expected", False) is True


def log_failure(log: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log a failure of one request or update: an expected amoCRM answer as a warning line
    (what amoCRM said, no traceback), anything else as an error with its traceback."""
    if is_expected(exc):
        log.warning(message + ": %s", *args, exc)
    else:
        log.error(message, *args, exc_info=exc)


class FailureNote:
    """The failures of one loop (``what``: "reminders", "job amocrm-events-poll"): mutable, one
    per loop, kept by whoever runs the loop."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._kind: str | None = None

    def failed(self, exc: BaseException, item: str | None = None) -> None:
        """Log ``exc`` met by the loop (on ``item``, if it works item by item)."""
        on = f" on {item}" if item is not None else ""
        if not is_expected(exc):
            self._log.error("%s failed%s", self._what, on, exc_info=exc)
            return
        kind = type(exc).__name__
        if kind == self._kind:
            return  # said already: quiet until it changes
        self._kind = kind
        by = "amoCRM's answer " if isinstance(exc, CrmError) else ""
        self._log.warning("%s: held up by %s%s (%s); said once until it changes",
                          self._what, by, exc, kind)  # fmt: skip

    def worked(self) -> None:
        """The loop did its work: if it was failing for an expected reason, say it is over."""
        if self._kind is not None:
            self._kind = None
            self._log.info("%s: working again", self._what)
