"""Webhook delivery: each pending update is POSTed as JSON, one at a time and in order.

A non-2xx answer or a transport failure is retried after the next of `retry_delays_s`; the
update after it waits meanwhile. Once the delays run out the update is dropped, as Telegram
gives up "after a reasonable amount of attempts". A 2xx answer may carry a method call in its
body (the webhook reply), which is then carried out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from sandbox.telegram.errors import ApiError
from sandbox.telegram.params import Params, read_params
from sandbox.telegram.records import WebhookDelivery
from sandbox.telegram.state import WebhookConfig
from sandbox.telegram.updates import PendingUpdate, UpdateQueue

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)

ReplyHandler = Callable[[Params], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int | None
    error: str | None
    reply: Params | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status <= 299


class WebhookDeliverer:
    def __init__(self, queue: UpdateQueue, clock: Callable[[], float]) -> None:
        self._queue = queue
        self._clock = clock
        self.retry_delays_s: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S
        self.timeout_s = 60.0
        self.deliveries: list[WebhookDelivery] = []
        self.last_error: tuple[int, str] | None = None  # (unix date, message) for getWebhookInfo
        self._task: asyncio.Task[None] | None = None
        # Carries out a method returned in a webhook's answer (set by the emulator).
        self.on_reply: ReplyHandler | None = None

    def start(self, config: WebhookConfig) -> None:
        """Deliver to `config` from now on (replacing any earlier webhook's delivery)."""
        self.cancel()
        self.last_error = None
        self._task = asyncio.get_running_loop().create_task(self._run(config))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, config: WebhookConfig) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                update = await self._next_update()
                await self._deliver(session, config, update)

    async def _next_update(self) -> PendingUpdate:
        while True:
            head = self._queue.head(1)
            if head:
                return head[0]
            arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

            def wake(arrived: asyncio.Future[None] = arrived) -> None:
                if not arrived.done():
                    arrived.set_result(None)

            unsubscribe = self._queue.subscribe(wake)
            try:
                await arrived
            finally:
                unsubscribe()

    async def _deliver(
        self,
        session: aiohttp.ClientSession,
        config: WebhookConfig,
        update: PendingUpdate,
    ) -> None:
        attempt = 0
        while True:
            attempt += 1
            outcome = await self._post(session, config, update)
            self.deliveries.append(
                WebhookDelivery(
                    update_id=update.update_id,
                    url=config.url,
                    attempt=attempt,
                    status=outcome.status,
                    error=outcome.error,
                    at=self._clock(),
                )
            )
            if outcome.ok:
                self._queue.drop(update.update_id)
                if outcome.reply is not None and self.on_reply is not None:
                    await self.on_reply(outcome.reply)
                return
            self.last_error = (max(1, int(self._clock())), outcome.error or "")
            if attempt > len(self.retry_delays_s):
                self._queue.drop(update.update_id)  # given up on
                return
            await asyncio.sleep(self.retry_delays_s[attempt - 1])

    async def _post(
        self, session: aiohttp.ClientSession, config: WebhookConfig, update: PendingUpdate
    ) -> _Outcome:
        headers = {"Content-Type": "application/json"}
        if config.secret_token:
            headers[SECRET_HEADER] = config.secret_token
        body = json.dumps(update.to_json(), ensure_ascii=False).encode("utf-8")
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with session.post(
                config.url, data=body, headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status <= 299:
                    await response.read()
                    return _Outcome(
                        response.status,
                        f"Wrong response from the webhook: {response.status} {response.reason}",
                    )
                try:
                    params = await read_params(response.headers, response.content, {})
                except ApiError:
                    return _Outcome(response.status, None)  # delivered; the reply is ignored
                has_method = params.given("method")
                return _Outcome(response.status, None, params if has_method else None)
        except TimeoutError:
            return _Outcome(None, "Read timeout expired")
        except (aiohttp.ClientError, OSError) as exc:
            return _Outcome(None, f"Connection failed: {type(exc).__name__}")
