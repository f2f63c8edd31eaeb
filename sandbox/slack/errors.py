"""Web API errors as Slack answers them: HTTP 200 with ``{"ok": false, "error": code}``, plus
what Slack adds for some codes (``needed``/``provided`` for ``missing_scope``, the offending
field in ``response_metadata.messages`` for ``invalid_blocks``)."""

from __future__ import annotations

from typing import Any

from sandbox.slack.blockkit import BlockError
from sandbox.slack.records import JsonDict


class ApiError(Exception):
    """A refused call; ``extra`` goes into the answer next to ``error``. Nothing was done."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def error_body(error: ApiError) -> JsonDict:
    return {"ok": False, "error": error.code, **error.extra}


def blocks_refused(code: str, error: BlockError) -> ApiError:
    """``invalid_blocks`` (messages) or ``invalid_arguments`` (views), naming the field."""
    return ApiError(code, response_metadata={"messages": [f"[ERROR] {error}"]})


def missing_scope(needed: str, granted: tuple[str, ...]) -> ApiError:
    return ApiError("missing_scope", needed=needed, provided=",".join(granted))
