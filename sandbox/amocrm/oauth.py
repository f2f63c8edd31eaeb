"""POST /oauth2/access_token (code exchange and refresh) and the GET /oauth consent page."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import ClientSession, web

from sandbox.amocrm.context import context_of
from sandbox.amocrm.problems import oauth_problem
from sandbox.amocrm.tokens import OAuthError, TokenPair

oauth_routes = web.RouteTableDef()


async def _fields(request: web.Request) -> dict[str, str]:
    """The body as JSON (the docs) or form-encoded (league/oauth2-client in the PHP SDK)."""
    if request.content_type == "application/json":
        try:
            body: Any = json.loads(await request.text())
        except ValueError:
            raise OAuthError("The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise OAuthError("The request body must be an object")
        return {k: str(v) for k, v in body.items() if v is not None}
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _require(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "")
    if not value:
        raise OAuthError(f"Check the `{name}` parameter")
    return value


@oauth_routes.post("/oauth2/access_token")
async def access_token(request: web.Request) -> web.Response:
    ctx = context_of(request)
    try:
        fields = await _fields(request)
        grant_type = _require(fields, "grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError(
                "The authorization grant type is not supported by the authorization server."
            )
        client_ok = fields.get("client_id") == ctx.oauth.client_id and hmac.compare_digest(
            fields.get("client_secret", ""), ctx.oauth.client_secret
        )
        if not client_ok:
            raise OAuthError("Client authentication failed", status=401)
        redirect_uri = fields.get("redirect_uri")
        if grant_type == "authorization_code":
            code = _require(fields, "code")
            if _require(fields, "redirect_uri") != ctx.oauth.redirect_uri():
                raise OAuthError("Invalid redirect_uri")
            pair = ctx.tokens.exchange_code(code)
        else:
            refresh = _require(fields, "refresh_token")
            if redirect_uri is not None and redirect_uri != ctx.oauth.redirect_uri():
                raise OAuthError("Invalid redirect_uri")
            pair = ctx.tokens.refresh(refresh)
    except OAuthError as exc:
        return oauth_problem(exc.hint, exc.status)
    return web.json_response(_token_body(pair))


def _token_body(pair: TokenPair) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "server_time": pair.server_time,
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
    }


@oauth_routes.get("/oauth")
async def authorize(request: web.Request) -> web.StreamResponse:
    """The install popup, consented at once by the account admin: redirects with a code."""
    ctx = context_of(request)
    if request.query.get("client_id") != ctx.oauth.client_id:
        return web.Response(status=400, text="Unknown client_id")
    params = {
        "code": ctx.tokens.issue_code(ctx.state.admin_user_id),
        "state": request.query.get("state", ""),
        "referer": urlsplit(ctx.wire.base_url).netloc,
        "platform": "1",
        "client_id": ctx.oauth.client_id,
    }
    raise web.HTTPFound(f"{ctx.oauth.redirect_uri()}?{urlencode(params)}")


def disconnect_signature(client_id: str, client_secret: str, account_id: int) -> str:
    """The one signed amoCRM hook: hex HMAC-SHA256 of "{client_id}|{account_id}"."""
    message = f"{client_id}|{account_id}".encode()
    return hmac.new(client_secret.encode(), message, hashlib.sha256).hexdigest()


async def send_disconnect_hook(
    url: str, *, client_id: str, client_secret: str, account_id: int
) -> int:
    """What amoCRM does when an admin disables the integration: a GET to its disconnect URL."""
    params = {
        "account_id": str(account_id),
        "client_uuid": client_id,
        "signature": disconnect_signature(client_id, client_secret, account_id),
    }
    async with ClientSession() as session, session.get(url, params=params) as response:
        return response.status
