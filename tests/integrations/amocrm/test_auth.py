from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bot.core.domain import OAuthTokens
from bot.store.sqlite import SqliteStore
from integrations.amocrm import (
    AmoError,
    AmoOAuthError,
    AmoServerError,
    LongLivedTokenAuth,
    OAuthTokenManager,
)
from tests.integrations.amocrm.fakes import BASE_URL


@dataclass
class FakeClock:
    at: float = field(default_factory=time.time)

    def now(self) -> float:
        return self.at


@dataclass
class FakeTokenEndpoint:
    """``/oauth2/access_token`` with single-use refresh tokens, as amoCRM has them."""

    delay_s: float = 0.0
    fail_with: int | None = None
    live_refresh: set[str] = field(default_factory=lambda: {"r0"})
    codes: set[str] = field(default_factory=lambda: {"code-1"})
    grants: list[dict[str, str]] = field(default_factory=list)
    issued: int = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/oauth2/access_token"
        body = json.loads(request.content)
        self.grants.append(body)
        await asyncio.sleep(self.delay_s)
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, text="upstream trouble")
        if body["grant_type"] == "authorization_code":
            if body["code"] not in self.codes:
                return self._refuse("Authorization code has been revoked")
            self.codes.discard(body["code"])
        elif body["refresh_token"] in self.live_refresh:
            self.live_refresh.discard(body["refresh_token"])  # single use
        else:
            return self._refuse("Token has been revoked")
        self.issued += 1
        refresh = f"r{self.issued}"
        self.live_refresh.add(refresh)
        return httpx.Response(
            200,
            json={
                "token_type": "Bearer",
                "expires_in": 86400,
                "server_time": 1,
                "access_token": f"a{self.issued}",
                "refresh_token": refresh,
            },
        )

    @staticmethod
    def _refuse(hint: str) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "hint": hint,
                "title": "Некорректный запрос",
                "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
                "status": 400,
                "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
            },
        )

    @property
    def refreshes(self) -> int:
        return sum(g["grant_type"] == "refresh_token" for g in self.grants)


@pytest.fixture
def endpoint() -> FakeTokenEndpoint:
    return FakeTokenEndpoint()


@pytest.fixture
async def oauth_http(endpoint: FakeTokenEndpoint) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint.handler)) as client:
        yield client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def manager(
    store: SqliteStore,
    http: httpx.AsyncClient,
    clock: FakeClock,
    owner: str = "p1",
    lease_wait_s: float = 30.0,
) -> OAuthTokenManager:
    return OAuthTokenManager(
        store,
        base_url=BASE_URL,
        client_id="cid",
        client_secret="csecret",
        redirect_uri="https://bot.example/amocrm/oauth/callback",
        http=http,
        clock=clock,
        owner=owner,
        lease_wait_s=lease_wait_s,
    )


@pytest.fixture
def amo(store: SqliteStore, oauth_http: httpx.AsyncClient, clock: FakeClock) -> OAuthTokenManager:
    """The manager of this process (owner "p1"), on the fake token endpoint."""
    return manager(store, oauth_http, clock)


async def _seed(store: SqliteStore, clock: FakeClock, expires_in: float) -> None:
    tokens = OAuthTokens(
        access_token="a0", refresh_token="r0", expires_at=int(clock.now() + expires_in)
    )
    await store.save_tokens("amocrm", tokens)


async def test_it_exchanges_a_code_and_saves_the_pair(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    tokens = await amo.exchange_code("code-1")
    assert tokens.access_token == "a1"
    assert tokens.expires_at == int(clock.now()) + 86400
    assert await store.load_tokens("amocrm") == tokens
    assert endpoint.grants == [
        {
            "client_id": "cid",
            "client_secret": "csecret",
            "grant_type": "authorization_code",
            "redirect_uri": "https://bot.example/amocrm/oauth/callback",
            "code": "code-1",
        }
    ]


async def test_it_reports_a_used_code_with_amocrms_hint(
    store: SqliteStore, amo: OAuthTokenManager
) -> None:
    await amo.exchange_code("code-1")
    with pytest.raises(AmoOAuthError) as caught:
        await amo.exchange_code("code-1")
    assert caught.value.hint == "Authorization code has been revoked"


async def test_it_uses_a_fresh_stored_token_without_refreshing(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=3600)
    assert await amo.access_token() == "a0"
    assert endpoint.grants == []


async def test_it_refreshes_ahead_of_expiry_and_saves_first(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=240)  # inside the 5-minute margin
    assert await amo.access_token() == "a1"
    assert endpoint.grants[0]["grant_type"] == "refresh_token"
    assert endpoint.grants[0]["refresh_token"] == "r0"
    saved = await store.load_tokens("amocrm")
    assert saved is not None
    assert (saved.access_token, saved.refresh_token) == ("a1", "r1")


async def test_it_refreshes_again_when_the_clock_moves_on(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=3600)
    assert await amo.access_token() == "a0"
    clock.at += 3600
    assert await amo.access_token() == "a1"
    assert endpoint.refreshes == 1


async def test_it_refreshes_on_401(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=3600)
    assert await amo.on_unauthorized("a0") == "a1"
    assert endpoint.refreshes == 1


async def test_it_takes_a_pair_another_process_refreshed(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await store.save_tokens(
        "amocrm",
        OAuthTokens(access_token="a9", refresh_token="r9", expires_at=int(clock.now() + 86400)),
    )
    assert await amo.on_unauthorized("a0") == "a9"
    assert endpoint.grants == []


async def test_it_asks_for_reauthorization_when_the_refresh_token_is_revoked(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=3600)
    endpoint.live_refresh.clear()
    with pytest.raises(AmoOAuthError) as caught:
        await amo.on_unauthorized("a0")
    assert caught.value.hint == "Token has been revoked"
    assert "csecret" not in str(caught.value)
    assert "r0" not in str(caught.value)


async def test_it_needs_tokens_stored_first(store: SqliteStore, amo: OAuthTokenManager) -> None:
    with pytest.raises(AmoOAuthError, match="authorize"):
        await amo.access_token()


async def test_it_keeps_a_still_valid_token_when_an_early_refresh_fails(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=120)
    endpoint.fail_with = 503
    assert await amo.access_token() == "a0"
    clock.at += 200  # now really expired: the failure surfaces
    with pytest.raises(AmoServerError):
        await amo.access_token()


async def test_it_releases_the_lease_after_refreshing(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock
) -> None:
    await _seed(store, clock, expires_in=0)
    await amo.access_token()
    assert await store.acquire_lease("amocrm:refresh", "someone-else", 5)


async def test_coroutines_of_one_process_share_one_refresh(
    store: SqliteStore, amo: OAuthTokenManager, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    await _seed(store, clock, expires_in=-1)
    endpoint.delay_s = 0.05
    tokens = await asyncio.gather(*(amo.access_token() for _ in range(20)))
    assert set(tokens) == {"a1"}
    assert endpoint.refreshes == 1


async def test_two_processes_on_one_file_refresh_once(
    tmp_path: Path, oauth_http: httpx.AsyncClient, clock: FakeClock, endpoint: FakeTokenEndpoint
) -> None:
    path = str(tmp_path / "shared.db")
    first, second = await SqliteStore.open(path), await SqliteStore.open(path)
    try:
        await _seed(first, clock, expires_in=-1)
        endpoint.delay_s = 0.1
        a = manager(first, oauth_http, clock, owner="replica")
        b = manager(second, oauth_http, clock, owner="replica")  # same name: still apart
        got = await asyncio.gather(*(m.access_token() for m in (a, b, a, b)))
        assert set(got) == {"a1"}
        assert endpoint.refreshes == 1
        # Both keep working with the saved pair: a 401 on it refreshes exactly once more.
        again = await asyncio.gather(a.on_unauthorized("a1"), b.on_unauthorized("a1"))
        assert set(again) == {"a2"}
        assert endpoint.refreshes == 2
    finally:
        await first.close()
        await second.close()


async def test_it_gives_up_waiting_for_a_lease_held_elsewhere(
    store: SqliteStore, oauth_http: httpx.AsyncClient, clock: FakeClock
) -> None:
    await _seed(store, clock, expires_in=3600)
    assert await store.acquire_lease("amocrm:refresh", "stuck-process", 60)
    amo = manager(store, oauth_http, clock, owner="p", lease_wait_s=0.3)
    with pytest.raises(AmoError, match="timed out"):
        await amo.on_unauthorized("a0")


async def test_a_long_lived_token_has_nothing_to_refresh() -> None:
    auth = LongLivedTokenAuth("secret-token")
    assert await auth.access_token() == "secret-token"
    assert await auth.on_unauthorized("secret-token") is None
    assert "secret-token" not in repr(auth)
