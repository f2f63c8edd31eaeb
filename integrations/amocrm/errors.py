"""Typed errors of the amoCRM client, mapped from the HTTP status and the problem+json body.

A message names the method, the path template, the status and amoCRM's title/detail, never a
request header or body, so a token can never leak into a log line or a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypedDict

import httpx
from typing_extensions import Unpack

from bot.core import CrmError


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationIssue:
    """One entry of ``validation-errors``: which item (``request_id``) and which field failed."""

    request_id: str | None
    code: str | None
    path: str | None
    detail: str | None


class ErrorMeta(TypedDict, total=False):
    """What an answer says about itself: HTTP status, problem title/detail, X-Request-Id."""

    status: int | None
    title: str | None
    detail: str | None
    request_id: str | None


class AmoError(CrmError):
    """Anything that went wrong talking to amoCRM."""

    def __init__(self, message: str, **meta: Unpack[ErrorMeta]) -> None:
        super().__init__(message)
        self.status = meta.get("status")
        self.title = meta.get("title")
        self.detail = meta.get("detail")
        self.request_id = meta.get("request_id")


class AmoAuthError(AmoError):
    """401: the token was refused (and, for OAuth, one refresh did not help)."""

    access_lost = True
    expected = True


class AmoOAuthError(AmoAuthError):
    """The token endpoint refused a grant: the integration must be authorized again.

    ``hint`` is amoCRM's own reason, e.g. "Token has been revoked".
    """

    def __init__(
        self, message: str, *, hint: str | None = None, **meta: Unpack[ErrorMeta]
    ) -> None:
        super().__init__(message, **meta)
        self.hint = hint


class AmoPaymentRequired(AmoError):
    """402: the account is not paid."""

    expected = True


class AmoForbidden(AmoError):
    """403: missing rights, IP whitelist, or (``blocked``) the nginx page of a flood block."""

    expected = True

    def __init__(self, message: str, *, blocked: bool = False, **meta: Unpack[ErrorMeta]) -> None:
        super().__init__(message, **meta)
        self.blocked = blocked


class AmoNotFound(AmoError):
    """404."""


class AmoValidationError(AmoError):
    """400 (or 422): amoCRM rejected the request; ``issues`` says which field of which item."""

    def __init__(
        self,
        message: str,
        *,
        issues: tuple[ValidationIssue, ...] = (),
        **meta: Unpack[ErrorMeta],
    ) -> None:
        super().__init__(message, **meta)
        self.issues = issues


class AmoRateLimited(AmoError):
    """429: over the per-second limit; rejected before processing, so safe to send again."""

    expected = True

    def __init__(
        self, message: str, *, retry_after: float | None = None, **meta: Unpack[ErrorMeta]
    ) -> None:
        super().__init__(message, **meta)
        self.retry_after = retry_after


class AmoServerError(AmoError):
    """5xx. On a write it may or may not have been applied: re-read before deciding.

    A 500 is amoCRM's own answer: it has finished with the request, so a re-read tells what
    happened. Any other 5xx (502, 503, 504) may come from a gateway in front of amoCRM while
    amoCRM is still working on it.
    """

    maybe_applied = True
    expected = True

    def __init__(self, message: str, **meta: Unpack[ErrorMeta]) -> None:
        super().__init__(message, **meta)
        self.in_flight = self.status != 500


class AmoBadResponse(AmoError):
    """A success status whose body is not what the API reference describes."""


class AmoTransportError(AmoError):
    """No HTTP answer: connection refused, reset, timed out.

    ``maybe_applied`` is False only when the request surely never reached amoCRM (the
    connection was never made); a read timeout on a write may have been applied.
    """

    expected = True

    def __init__(self, message: str, *, maybe_applied: bool, **meta: Unpack[ErrorMeta]) -> None:
        super().__init__(message, **meta)
        self.maybe_applied = maybe_applied
        self.in_flight = maybe_applied  # sent, and no answer: it may still be under way


# Failures that happen before a byte of the request is sent.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


def transport_error(exc: httpx.TransportError, method: str, path: str) -> AmoTransportError:
    maybe_applied = not isinstance(exc, _NOT_SENT)
    kind = type(exc).__name__
    return AmoTransportError(f"{method} {path}: {kind}", maybe_applied=maybe_applied)


def _problem(response: httpx.Response) -> dict[str, object] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _is_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    head = response.content[:256].lstrip().lower()
    return "html" in ctype or head.startswith((b"<!doctype html", b"<html"))


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _issues(problem: dict[str, object]) -> tuple[ValidationIssue, ...]:
    blocks = problem.get("validation-errors")
    if not isinstance(blocks, list):
        return ()
    out: list[ValidationIssue] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        errors = block.get("errors")
        for err in errors if isinstance(errors, list) else []:
            if isinstance(err, dict):
                out.append(
                    ValidationIssue(
                        request_id=_str(block.get("request_id")),
                        code=_str(err.get("code")),
                        path=_str(err.get("path")),
                        detail=_str(err.get("detail")),
                    )
                )
    return tuple(out)


def error_from_response(response: httpx.Response, method: str, path: str) -> AmoError:
    """The typed error for a non-success answer of the API (not of the token endpoint)."""
    status = response.status_code
    problem = _problem(response) or {}
    title = _str(problem.get("title"))
    detail = _str(problem.get("detail"))
    kw: ErrorMeta = {
        "status": status,
        "title": title,
        "detail": detail,
        "request_id": response.headers.get("x-request-id"),
    }
    said = ": ".join(part for part in (title, detail) if part)
    message = f"{method} {path} -> {status}" + (f" ({said})" if said else "")
    if status == 401:
        return AmoAuthError(message, **kw)
    if status == 402:
        return AmoPaymentRequired(message, **kw)
    if status == 403:
        blocked = not problem and _is_html(response)
        if blocked:
            message += " (blocked: amoCRM's flood block page; unblocking needs their support)"
        return AmoForbidden(message, blocked=blocked, **kw)
    if status == 404:
        return AmoNotFound(message, **kw)
    if status in (400, 422):
        issues = _issues(problem)
        if issues:
            message += "; " + "; ".join(f"[{i.request_id}] {i.path}: {i.code}" for i in issues[:5])
        return AmoValidationError(message, issues=issues, **kw)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return AmoRateLimited(message, retry_after=retry_after, **kw)
    if status >= 500:
        return AmoServerError(message, **kw)
    return AmoError(message, **kw)


def oauth_error_from_response(response: httpx.Response, grant: str) -> AmoError:
    """The typed error for a refused grant at ``/oauth2/access_token``."""
    status = response.status_code
    if status >= 500:
        return error_from_response(response, "POST", "/oauth2/access_token")
    problem = _problem(response) or {}
    hint = _str(problem.get("hint"))
    title = _str(problem.get("title"))
    detail = _str(problem.get("detail"))
    reason = hint or detail or title or f"HTTP {status}"
    return AmoOAuthError(
        f"amoCRM refused the {grant} grant ({status}: {reason}); authorize the integration again",
        hint=hint,
        status=status,
        title=title,
        detail=detail,
        request_id=response.headers.get("x-request-id"),
    )
