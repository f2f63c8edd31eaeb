"""Bearer auth on the API, and the OAuth code exchange and refresh rotation."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import Amo, FakeClock

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "https://httpstatus.es/401",
    "status": 401,
    "detail": "Неверный логин или пароль",
}


def _grant(amo: Amo, **fields: str) -> dict[str, str]:
    return {
        "client_id": amo.emu.oauth_client_id,
        "client_secret": amo.emu.oauth_client_secret,
        "redirect_uri": amo.emu.oauth_redirect_uri,
        **fields,
    }


async def _token(amo: Amo, body: dict[str, str], *, form: bool = False) -> httpx.Response:
    async with httpx.AsyncClient(base_url=amo.base_url) as raw:
        if form:
            return await raw.post("/oauth2/access_token", data=body)
        return await raw.post("/oauth2/access_token", json=body)


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert isinstance(claims, dict)
    return claims


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer"])
async def test_it_answers_401_problem_without_a_valid_token(amo: Amo, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with httpx.AsyncClient(base_url=amo.base_url) as raw:
        answer = await raw.get("/api/v4/account", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == UNAUTHORIZED


async def test_it_kills_every_token_on_revoke(amo: Amo, api: httpx.AsyncClient) -> None:
    oauth_token = await amo.token_for(amo.ids.maria)
    assert (await api.get("/api/v4/account")).status_code == 200
    amo.emu.revoke_tokens()
    assert (await api.get("/api/v4/account")).json() == UNAUTHORIZED
    async with amo.client(oauth_token) as maria:
        assert (await maria.get("/api/v4/account")).status_code == 401
    fresh = amo.emu.new_long_lived_token()
    assert amo.emu.long_lived_token == fresh
    async with amo.client(fresh) as again:
        assert (await again.get("/api/v4/account")).status_code == 200
    after_revoke = await amo.token_for(amo.ids.ivan)  # codes keep working
    async with amo.client(after_revoke) as ivan:
        assert (await ivan.get("/api/v4/account")).status_code == 200


@pytest.mark.parametrize("form", [False, True])
async def test_it_exchanges_a_code_for_a_token_pair(amo: Amo, form: bool) -> None:
    code = amo.emu.issue_auth_code(amo.ids.ivan)
    answer = await _token(amo, _grant(amo, grant_type="authorization_code", code=code), form=form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {
        "token_type",
        "expires_in",
        "server_time",
        "access_token",
        "refresh_token",
    }
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86400
    claims = _claims(body["access_token"])
    assert claims["exp"] == claims["iat"] + 86400
    assert claims["sub"] == str(amo.ids.ivan)
    assert claims["api_domain"]
    async with amo.client(body["access_token"]) as ivan:
        account = (await ivan.get("/api/v4/account")).json()
    assert account["current_user_id"] == amo.ids.ivan


async def test_it_refuses_a_code_twice_and_unknown_codes(amo: Amo) -> None:
    code = amo.emu.issue_auth_code()
    assert (await _token(amo, _grant(amo, grant_type="authorization_code", code=code))).is_success
    again = await _token(amo, _grant(amo, grant_type="authorization_code", code=code))
    assert again.status_code == 400
    body = again.json()
    assert body["hint"] == "Authorization code has been revoked"
    assert body["type"] == "https://developers.amocrm.ru/v3/errors/OAuthProblemJson"
    assert set(body) == {"hint", "title", "type", "status", "detail"}
    unknown = await _token(amo, _grant(amo, grant_type="authorization_code", code="garbage"))
    assert unknown.status_code == 400
    assert unknown.json()["hint"] == "Cannot decrypt the authorization code"


async def test_it_checks_redirect_uri_and_client_secret(amo: Amo) -> None:
    wrong_uri = _grant(amo, grant_type="authorization_code", code=amo.emu.issue_auth_code())
    wrong_uri["redirect_uri"] = "https://elsewhere.example/cb"
    assert (await _token(amo, wrong_uri)).status_code == 400
    wrong_secret = _grant(amo, grant_type="authorization_code", code=amo.emu.issue_auth_code())
    wrong_secret["client_secret"] = "guess"
    answer = await _token(amo, wrong_secret)
    assert answer.status_code == 401
    assert answer.json()["hint"]


async def test_it_rotates_refresh_tokens_once(amo: Amo) -> None:
    code = amo.emu.issue_auth_code(amo.ids.maria)
    first = (await _token(amo, _grant(amo, grant_type="authorization_code", code=code))).json()
    refreshed = await _token(
        amo, _grant(amo, grant_type="refresh_token", refresh_token=first["refresh_token"])
    )
    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reuse = await _token(
        amo, _grant(amo, grant_type="refresh_token", refresh_token=first["refresh_token"])
    )
    assert reuse.status_code == 400
    assert reuse.json()["hint"] == "Token has been revoked"
    # The previous access token lives on until it expires, as on amoCRM.
    for token in (first["access_token"], second["access_token"]):
        async with amo.client(token) as client:
            assert (await client.get("/api/v4/account")).status_code == 200
    third = await _token(
        amo, _grant(amo, grant_type="refresh_token", refresh_token=second["refresh_token"])
    )
    assert third.status_code == 200


async def test_it_revokes_refresh_tokens_too(amo: Amo) -> None:
    code = amo.emu.issue_auth_code()
    pair = (await _token(amo, _grant(amo, grant_type="authorization_code", code=code))).json()
    amo.emu.revoke_tokens()
    answer = await _token(
        amo, _grant(amo, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    )
    assert answer.json()["hint"] == "Token has been revoked"


async def test_it_expires_codes_and_access_tokens_by_the_clock() -> None:
    clock = FakeClock()
    emu = AmoEmulator(clock=clock, rate_limit_per_s=None)
    seed_demo_account(emu)
    async with emu.serve() as base_url, httpx.AsyncClient(base_url=base_url) as raw:
        grant = {
            "client_id": emu.oauth_client_id,
            "client_secret": emu.oauth_client_secret,
            "redirect_uri": emu.oauth_redirect_uri,
            "grant_type": "authorization_code",
        }
        stale = emu.issue_auth_code()
        fresh = emu.issue_auth_code()
        clock.now += 10 * 60
        pair = (await raw.post("/oauth2/access_token", json={**grant, "code": fresh})).json()
        clock.now += 11 * 60
        expired = await raw.post("/oauth2/access_token", json={**grant, "code": stale})
        assert expired.json()["hint"] == "Authorization code has expired"
        auth = {"Authorization": f"Bearer {pair['access_token']}"}
        assert (await raw.get("/api/v4/account", headers=auth)).status_code == 200
        clock.now += 86400
        assert (await raw.get("/api/v4/account", headers=auth)).status_code == 401


async def test_it_refuses_an_unsupported_grant(amo: Amo) -> None:
    answer = await _token(amo, _grant(amo, grant_type="password"))
    assert answer.status_code == 400
    assert "grant type" in answer.json()["hint"]


async def test_it_redirects_the_install_popup_with_a_code(amo: Amo) -> None:
    async with httpx.AsyncClient(base_url=amo.base_url) as raw:
        answer = await raw.get(
            "/oauth", params={"client_id": amo.emu.oauth_client_id, "state": "xyz"}
        )
    assert answer.status_code == 302
    target = httpx.URL(answer.headers["location"])
    assert str(target).startswith(amo.emu.oauth_redirect_uri)
    assert target.params["state"] == "xyz"
    assert target.params["referer"] == httpx.URL(amo.base_url).netloc.decode()
    code = target.params["code"]
    exchanged = await _token(amo, _grant(amo, grant_type="authorization_code", code=code))
    assert exchanged.status_code == 200


async def test_a_revoked_refresh_token_leaves_the_access_token_its_day(amo: Amo) -> None:
    code = amo.emu.issue_auth_code()
    pair = (await _token(amo, _grant(amo, grant_type="authorization_code", code=code))).json()
    async with httpx.AsyncClient(base_url=f"{amo.base_url}/_control") as control:
        assert (await control.post("/tokens/refresh/revoke")).status_code == 200
        async with amo.client(pair["access_token"]) as api:
            assert (await api.get("/api/v4/account")).status_code == 200
            # Its day ends: only a refresh would help, and the refresh token is dead.
            assert (await control.post("/tokens/expire")).status_code == 200
            assert (await api.get("/api/v4/account")).status_code == 401
    answer = await _token(
        amo, _grant(amo, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    )
    assert answer.status_code == 400
    assert answer.json()["hint"] == "Token has been revoked"
    # The long-lived token is not an OAuth pair: expiring access tokens leaves it alone.
    async with amo.client() as api:
        assert (await api.get("/api/v4/account")).status_code == 200
