"""The line to the app: one signed POST to its Request URL, timed against Slack's
acknowledgement limit (3 s). Slack does not wait longer, and does not send the request again:
the person sees an error and that is all."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from sandbox.slack.records import Signing
from sandbox.slack.signing import sign

ACK_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Delivery:
    status: int  # 0: no answer
    body: str
    ack_ms: float
    failure: str | None  # why the person saw an error; None: the app acknowledged in time
    at: float


class AppLink:
    def __init__(self, signing_secret: str) -> None:
        self.signing_secret = signing_secret
        self.signing = Signing()
        self.request_url: str | None = None
        self.ack_timeout_s = ACK_TIMEOUT_S
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, body: bytes, content_type: str) -> Delivery:
        if self.request_url is None:
            raise RuntimeError("no request_url: set the app's Request URL first")
        sent, headers = sign(body, self.signing_secret, self.signing)
        headers["Content-Type"] = content_type
        if self._session is None:  # proxies in the environment must not carry loopback calls
            self._session = aiohttp.ClientSession(trust_env=False)
        at = time.time()
        started = time.perf_counter()
        status, text, failure = 0, "", None
        try:
            async with (
                asyncio.timeout(self.ack_timeout_s),
                self._session.post(self.request_url, data=sent, headers=headers) as answer,
            ):
                status, text = answer.status, await answer.text()
        except TimeoutError:
            failure = f"no answer within {self.ack_timeout_s:g} s"
        except aiohttp.ClientError as exc:
            failure = f"the app could not be reached: {exc}"
        ack_ms = (time.perf_counter() - started) * 1000
        if failure is None and status != 200:
            failure = f"the app answered HTTP {status}"
        return Delivery(status, text, ack_ms, failure, at)
