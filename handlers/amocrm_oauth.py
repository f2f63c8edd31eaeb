"""``GET /amocrm/oauth``: the redirect URI amoCRM sends the installing admin back to.

It carries ``code``, ``referer`` (the account's host) and ``state``; the installer checks and
exchanges them once. The answer is a short page, in the browser's language, saying what happens
next; nothing in it comes from the request but the account host, escaped.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.core import Catalogue, Lang, as_lang
from integrations.amocrm import InstallError, InstallProblem, OAuthInstaller

log = logging.getLogger(__name__)

OAUTH_PATH = "/amocrm/oauth"
DISCONNECT_PATH = "/amocrm/disconnect"

_STATUS = {
    InstallProblem.MISSING: 400,
    InstallProblem.DENIED: 400,
    InstallProblem.STATE: 400,
    InstallProblem.ACCOUNT: 400,
    InstallProblem.USED: 409,
    InstallProblem.REFUSED: 400,
    InstallProblem.UNREACHABLE: 502,
}


def _lang(request: web.Request) -> Lang:
    accept = request.headers.get("Accept-Language", "")
    first = accept.split(",", 1)[0].strip()
    return as_lang(first)


def _page(lang: Lang, title: str, body: str, status: int) -> web.Response:
    text = (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>\n"
    )
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
        # The URL held a single-use code: no caching, no referrer to third parties.
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def amocrm_oauth_routes(installer: OAuthInstaller, t: Catalogue) -> list[web.RouteDef]:
    async def redirect(request: web.Request) -> web.StreamResponse:
        lang = _lang(request)
        query = request.query
        try:
            if query.get("error"):
                raise InstallError(InstallProblem.DENIED)
            installed = await installer.install(
                query.get("code"), state=query.get("state"), referer=query.get("referer")
            )
        except InstallError as exc:
            log.warning("amoCRM install refused: %s", exc.problem.value)
            return _page(
                lang,
                t(lang, "oauth_failed_title"),
                t(lang, f"oauth_{exc.problem.value}"),
                _STATUS[exc.problem],
            )
        log.info("amoCRM account %s authorised by OAuth", installed.account_host)
        return _page(
            lang,
            t(lang, "oauth_done_title"),
            t(lang, "oauth_done", account=installed.account_host),
            200,
        )

    return [web.get(OAUTH_PATH, redirect)]


def amocrm_disconnect_routes(
    client_id: str, client_secret: str, on_disconnect: Callable[[], Awaitable[None]]
) -> list[web.RouteDef]:
    """amoCRM's "integration disabled" hook: a GET signed with the client secret (hex
    HMAC-SHA256 of "{client_id}|{account_id}"), the only signed amoCRM hook."""

    async def disconnect(request: web.Request) -> web.StreamResponse:
        account_id = request.query.get("account_id", "")
        signature = request.query.get("signature", "")
        expected = hmac.new(
            client_secret.encode(), f"{client_id}|{account_id}".encode(), hashlib.sha256
        ).hexdigest()
        if request.query.get("client_uuid") != client_id or not hmac.compare_digest(
            signature.encode(), expected.encode()
        ):
            log.warning("amoCRM disconnect hook refused: bad signature")
            raise web.HTTPUnauthorized()
        await on_disconnect()
        return web.Response(text="ok")

    return [web.get(DISCONNECT_PATH, disconnect)]
