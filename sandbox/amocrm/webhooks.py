"""Background delivery of account webhooks, with amoCRM's timeout, retries and auto-disable."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field, replace

import aiohttp

from sandbox.amocrm.records import HookChange
from sandbox.amocrm.state import AccountState
from sandbox.amocrm.webhook_form import encode_hook

DEFAULT_RETRY_DELAYS_S: tuple[float, ...] = (300.0, 900.0, 900.0, 3600.0)
# Attempts from this number on are only made after a 499 or a 5xx (reference §6 table).
_SERVER_ERROR_ONLY_FROM = 4
_DISABLE_AFTER_FAILURES = 100
_DISABLE_WINDOW_S = 2 * 3600


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    destination: str
    body: str
    status: int | None  # None: timed out or could not connect
    attempt: int
    at: float


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: int | None
    timed_out: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 100 <= self.status <= 299

    @property
    def server_side(self) -> bool:
        # A timeout is amoCRM giving up on the receiver, which it logs like a 499.
        return self.timed_out or (
            self.status is not None and (self.status == 499 or self.status >= 500)
        )


@dataclass(eq=False)
class WebhookDispatcher:
    """Turns changes into POSTs to every registered, enabled hook that subscribes to them.

    Deliveries run as tasks on the serving loop so an API answer never waits for them; a change
    made while no loop runs waits for `attach` (or `drain`). The knobs a test may turn are the
    fields with defaults.
    """

    state: AccountState
    _: KW_ONLY
    clock: Callable[[], float]
    account_url: Callable[[], str]
    enabled: bool = True
    retry_delays_s: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S
    timeout_s: float = 2.0
    deliveries: list[WebhookDelivery] = field(init=False, default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(init=False, default_factory=set)
    _waiting: list[tuple[int, str, str]] = field(init=False, default_factory=list)
    _loop: asyncio.AbstractEventLoop | None = field(init=False, default=None)
    _session: aiohttp.ClientSession | None = field(init=False, default=None)
    _failures: dict[int, deque[float]] = field(init=False, default_factory=dict)

    # -- scheduling --

    def on_change(self, change: HookChange) -> None:
        if not self.enabled:
            return
        state = self.state
        for hook in sorted(state.webhooks.values(), key=lambda h: (h.sort, h.id)):
            actions = {
                action: fields
                for action, fields in change.actions.items()
                if change.setting(action) in hook.settings
            }
            if hook.disabled or not actions:
                continue
            body = encode_hook(
                subdomain=state.subdomain,
                account_id=state.account_id,
                account_url=self.account_url(),
                entity=change.entity,
                actions=actions,
            )
            self._schedule(hook.id, hook.destination, body)

    def _schedule(self, hook_id: int, destination: str, body: str) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        job = (hook_id, destination, body)
        if running is not None and running is self._loop:
            self._spawn(job)
        elif self._loop is not None and self._loop.is_running():
            # A change made from another thread than the serving one.
            self._loop.call_soon_threadsafe(self._spawn, job)
        else:
            self._waiting.append(job)

    def _spawn(self, job: tuple[int, str, str]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(*job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def attach(self) -> None:
        """Deliver on the running loop from now on (called when the emulator starts serving)."""
        self._loop = asyncio.get_running_loop()
        waiting, self._waiting = self._waiting, []
        for job in waiting:
            self._spawn(job)

    async def drain(self) -> None:
        """Return once every queued attempt, retries included, has finished."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop and self._loop.is_running():
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.drain(), self._loop))
            return
        waiting, self._waiting = self._waiting, []
        for job in waiting:
            self._spawn(job)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._loop is None:
            await self._close_session()

    async def aclose(self) -> None:
        """Stop: pending retries are cancelled, the HTTP session closed."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None
        await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- delivering --

    async def _deliver(self, hook_id: int, destination: str, body: str) -> None:
        attempt = 1
        while True:
            outcome = await self._post(destination, body)
            self.deliveries.append(
                WebhookDelivery(destination, body, outcome.status, attempt, self.clock())
            )
            self._note(hook_id, outcome)
            delay = self._retry_delay(attempt, outcome)
            if delay is None:
                return
            await asyncio.sleep(delay)
            hook = self.state.webhooks.get(hook_id)
            if not self.enabled or hook is None or hook.disabled:
                return
            attempt += 1

    def _retry_delay(self, attempt: int, outcome: _Outcome) -> float | None:
        if outcome.ok or attempt > len(self.retry_delays_s):
            return None
        if attempt + 1 >= _SERVER_ERROR_ONLY_FROM and not outcome.server_side:
            return None
        return self.retry_delays_s[attempt - 1]

    async def _post(self, destination: str, body: str) -> _Outcome:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "amoCRM-Webhooks/3.0",
            # A fresh id per attempt: whether amoCRM reuses it on retries is unknown, and a
            # receiver must not rely on it to dedupe.
            "X-Amocrm-Requestid": str(uuid.uuid4()),
            "Accept-Encoding": "gzip",
        }
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with self._session.post(
                destination, data=body.encode(), headers=headers, timeout=timeout
            ) as response:
                await response.read()
                return _Outcome(response.status, timed_out=False)
        except TimeoutError:
            return _Outcome(None, timed_out=True)
        except (aiohttp.ClientError, OSError):
            return _Outcome(None, timed_out=False)

    def _note(self, hook_id: int, outcome: _Outcome) -> None:
        """Disable a hook after more than 100 failures within 2 h, the latest one included."""
        if outcome.ok:
            return
        now = self.clock()
        failures = self._failures.setdefault(hook_id, deque())
        failures.append(now)
        while failures and failures[0] < now - _DISABLE_WINDOW_S:
            failures.popleft()
        hook = self.state.webhooks.get(hook_id)
        if hook is not None and len(failures) > _DISABLE_AFTER_FAILURES:
            self.state.webhooks[hook_id] = replace(hook, disabled=True)
