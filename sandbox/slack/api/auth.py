"""auth.test: who the token is (bolt asks once, on its first request)."""

from __future__ import annotations

from sandbox.slack.context import Context
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict


async def test(ctx: Context, params: Params) -> JsonDict:
    ws = ctx.ws
    return {
        "url": f"https://{ws.team_domain}.slack.com/", "team": ws.team_domain,
        "user": ws.bot.name, "team_id": ws.team_id, "user_id": ws.bot.id, "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }  # fmt: skip
