"""One logical amoCRM request: pacing, the bearer token, the retry policy, metrics.

Retry policy. Every attempt waits its turn at the pacer first.
- GET is retried on 429 (after ``Retry-After`` if given), 5xx and transport errors, with
  jittered exponential backoff, up to ``max_attempts`` attempts; then the typed error.
- POST/PATCH/DELETE are retried only where amoCRM surely did nothing: a 429 (the limiter
  refused it before processing) and a failed connect (the request never left). A 5xx or a read
  timeout on a write raises at once (``AmoServerError``, ``AmoTransportError(maybe_applied=True)``)
  so that the caller re-reads and decides; a blind retry could complete or create twice.
- A 401 asks the auth for a new token once and repeats the request once with it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from integrations.amocrm.auth import AmoAuth
from integrations.amocrm.errors import (
    AmoError,
    AmoRateLimited,
    AmoServerError,
    AmoTransportError,
    error_from_response,
    transport_error,
)
from integrations.amocrm.pacing import Pacer

log = logging.getLogger(__name__)

OnRequest = Callable[[str, str, int], None]
"""``(method, path_template, status)`` after every attempt; status 0 when no answer came."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_base_s: float = 0.5
    # Also the longest Retry-After waited out; a longer one is raised to the caller.
    backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def retryable(self, error: AmoError, is_read: bool) -> bool:
        if isinstance(error, AmoRateLimited):
            return True  # refused before processing: safe for writes too
        if isinstance(error, AmoTransportError):
            return is_read or not error.maybe_applied
        return is_read and isinstance(error, AmoServerError)

    def delay(self, error: AmoError, attempt: int, rng: random.Random) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if attempt >= self.max_attempts:
            return None
        retry_after = error.retry_after if isinstance(error, AmoRateLimited) else None
        if retry_after is not None:
            return retry_after if retry_after <= self.backoff_max_s else None
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)  # jitter spreads the retriers


class Requester:
    def __init__(
        self,
        base_url: str,
        *,
        auth: AmoAuth,
        pacer: Pacer,
        http: httpx.AsyncClient,
        policy: RetryPolicy,
        on_request: OnRequest | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._auth = auth
        self._pacer = pacer
        self._http = http
        self._policy = policy
        self._on_request = on_request
        self._rng = random.Random()

    async def request(
        self, method: str, template: str, target: str, body: object = None
    ) -> httpx.Response:
        """A 2xx answer to ``method target`` (path and query), or the typed error.

        ``template`` (``/api/v4/tasks/{id}``) names the endpoint in errors, logs and metrics.
        """
        is_read = method == "GET"
        token = await self._auth.access_token()
        reauthorized = False
        attempt = 0
        while True:
            attempt += 1
            await self._pacer.wait_turn()
            try:
                response = await self._http.request(
                    method,
                    self._base + target,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/hal+json, application/json",
                    },
                    json=body,
                )
            except httpx.TransportError as exc:
                self._report(method, template, 0)
                error: AmoError = transport_error(exc, method, template)
                cause: BaseException | None = exc
            else:
                self._report(method, template, response.status_code)
                if response.is_success:
                    return response
                if response.status_code == 401 and not reauthorized:
                    reauthorized = True
                    fresh = await self._auth.on_unauthorized(token)
                    if fresh is not None:
                        token = fresh
                        attempt -= 1  # a retry with a new token is not a failure of amoCRM
                        continue
                error, cause = error_from_response(response, method, template), None
            delay = self._policy.delay(error, attempt, self._rng)
            if delay is None or not self._policy.retryable(error, is_read):
                raise error from cause
            log.info("amoCRM: %s; attempt %d, retrying in %.2fs", error, attempt, delay)
            await asyncio.sleep(delay)

    def _report(self, method: str, template: str, status: int) -> None:
        if self._on_request is None:
            return
        try:
            self._on_request(method, template, status)
        except Exception:  # a metrics bug must not turn an applied write into a failure
            log.exception("amoCRM on_request callback failed")
