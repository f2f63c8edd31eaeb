"""``amobridge sandbox``: the emulators alone on loopback, and what a client needs to use them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sandbox.amocrm import CONTROL_ENDPOINTS as AMOCRM_CONTROL
from sandbox.amocrm import AmoEmulator, seed_demo_account
from sandbox.slack import CONTROL_ENDPOINTS as SLACK_CONTROL
from sandbox.slack import SlackEmulator
from sandbox.telegram import CONTROL_ENDPOINTS as TELEGRAM_CONTROL
from sandbox.telegram import TelegramEmulator


async def serve_sandbox(
    host: str,
    amocrm_port: int,
    telegram_port: int,
    slack_port: int,
    echo: Callable[[str], object],
    until_stopped: Callable[[], Awaitable[None]],
) -> None:
    amo = AmoEmulator(subdomain="demo")
    seed_demo_account(amo)
    tg = TelegramEmulator()
    slack = SlackEmulator()
    # The seeded amoCRM people, in Slack with the same e-mails: `/amo link` finds them.
    for name, email in (("Anna Admin", "anna@demo.example"), ("Ivan Petrov", "ivan@demo.example"),
                        ("Maria Ivanova", "maria@demo.example")):  # fmt: skip
        slack.add_user(name, email=email, is_admin=name.startswith("Anna"))
    async with (
        amo.serve(host=host, port=amocrm_port) as amo_url,
        tg.serve(host=host, port=telegram_port) as tg_url,
        slack.serve(host=host, port=slack_port) as slack_url,
    ):
        echo(f"amoCRM emulator    {amo_url}  (seeded account 'Demo Sales', Europe/Moscow)")
        echo(f"  long-lived token  {amo.long_lived_token}")
        echo(f"  OAuth client      id={amo.oauth_client_id} secret={amo.oauth_client_secret}"
             f" redirect={amo.oauth_redirect_uri}")  # fmt: skip
        _endpoints(echo, amo_url, AMOCRM_CONTROL)
        echo(f"Telegram emulator  {tg_url}  (Bot API at {tg_url}/bot<token>/<method>)")
        echo(f"  bot token         {tg.token}  (@{tg.bot_username})")
        _endpoints(echo, tg_url, TELEGRAM_CONTROL)
        echo(f"Slack emulator     {slack_url}  (Web API at {slack.api_base})")
        echo(f"  bot token         {slack.bot_token}   signing secret {slack.signing_secret}")
        people = ", ".join(f"{u.real_name} {u.id}" for u in slack.people())
        echo(f"  people            {people}")
        _endpoints(echo, slack_url, SLACK_CONTROL)
        echo("")
        echo("Point amobridge at them (another terminal):")
        echo(f"  export AMOBRIDGE_AMOCRM__BASE_URL={amo_url}")
        echo(f"  export AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN={amo.long_lived_token}")
        echo("  export AMOBRIDGE_AMOCRM__WEBHOOK_SECRET=sandbox-secret")
        echo(f"  export AMOBRIDGE_TELEGRAM__TOKEN={tg.token}")
        echo(f"  export AMOBRIDGE_TELEGRAM__API_BASE={tg_url}")
        echo(f"  export AMOBRIDGE_SLACK__BOT_TOKEN={slack.bot_token}")
        echo(f"  export AMOBRIDGE_SLACK__SIGNING_SECRET={slack.signing_secret}")
        echo(f"  export AMOBRIDGE_SLACK__API_BASE={slack.api_base}")
        echo("  export AMOBRIDGE_PUBLIC_URL=http://127.0.0.1:8080")
        echo("  amobridge setup   # registers the webhook with the emulator")
        echo("  amobridge run")
        echo("Then be a manager in Telegram through the control endpoints, e.g.")
        echo(f'  curl -X POST {tg_url}/_control/users -d \'{{"first_name": "Ivan"}}\'')
        echo(f'  curl -X POST {tg_url}/_control/users/<id>/messages -d \'{{"text": "/start"}}\'')
        echo("or in Slack:")
        echo(f"  curl -X POST {slack_url}/_control/request-url"
             ' -d \'{"url": "http://127.0.0.1:8080/slack/events"}\'')  # fmt: skip
        echo(f"  curl -X POST {slack_url}/_control/slash"
             ' -d \'{"user": "<id>", "text": "link"}\'')  # fmt: skip
        echo("Ctrl-C stops it.")
        await until_stopped()


def _endpoints(
    echo: Callable[[str], object], base: str, endpoints: tuple[tuple[str, str, str], ...]
) -> None:
    echo("  control endpoints (no auth):")
    for method, path, what in endpoints:
        echo(f"    {method:<5} {base}{path}  {what}")
