"""Test helpers: a served emulator handle, a tiny webhook receiver, a fake clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import qs_codec
from aiohttp import web

from sandbox.amocrm import AmoEmulator, DemoIds


@dataclass(frozen=True)
class Amo:
    emu: AmoEmulator
    ids: DemoIds
    base_url: str

    def client(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token or self.emu.long_lived_token}"}
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10)

    async def exchange(self, code: str) -> httpx.Response:
        """The answer of /oauth2/access_token to a code exchange, as a real client asks."""
        async with httpx.AsyncClient(base_url=self.base_url) as raw:
            return await raw.post(
                "/oauth2/access_token",
                json={
                    "client_id": self.emu.oauth_client_id,
                    "client_secret": self.emu.oauth_client_secret,
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.emu.oauth_redirect_uri,
                },
            )

    async def token_for(self, user_id: int) -> str:
        """An OAuth access token for `user_id`, obtained through the real code exchange."""
        answer = await self.exchange(self.emu.issue_auth_code(user_id))
        answer.raise_for_status()
        token = answer.json()["access_token"]
        assert isinstance(token, str)
        return token


# The ways clients encode a list filter of one user (qs, PHP and amoCRM's docs use them all).
RESPONSIBLE_FILTERS = (
    "filter[responsible_user_id]={ivan}",
    "filter[responsible_user_id][]={ivan}",
    "filter[responsible_user_id][0]={ivan}",
    "filter[responsible_user_id]={ivan},{ivan}",
)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, Any]:
        decoded = qs_codec.decode(self.body, qs_codec.DecodeOptions(depth=10))
        assert isinstance(decoded, dict)
        return decoded


@dataclass
class Receiver:
    """Records every POST; answers with the queued statuses, then 200. `gate`, when set, holds
    each answer until it is opened."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    gate: asyncio.Event | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.text()))
        if self.gate is not None:
            await self.gate.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


ALL_HOOKS = [
    "add_lead",
    "update_lead",
    "status_lead",
    "responsible_lead",
    "delete_lead",
    "add_task",
    "update_task",
    "delete_task",
    "responsible_task",
]


async def register(api: httpx.AsyncClient, destination: str, settings: list[str]) -> None:
    answer = await api.post(
        "/api/v4/webhooks", json={"destination": destination, "settings": settings, "sort": 10}
    )
    assert answer.status_code == 200, answer.text


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now
