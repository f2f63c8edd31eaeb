"""``amobridge sandbox``: the emulators alone on loopback, and what a client needs to use them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sandbox.amocrm import AmoEmulator, seed_demo_account

CONTROL_ENDPOINTS = (
    ("GET", "/_control/state", "users, deals and tasks"),
    ("POST", "/_control/leads/{id}/move", '{"status_id": 142}'),
    ("POST", "/_control/tasks", '{"text", "responsible_user_id", "complete_till", "entity_id"?}'),
    ("POST", "/_control/tasks/{id}/complete", '{"result_text"?}'),
    ("PATCH", "/_control/tasks/{id}", '{"complete_till"?, "responsible_user_id"?, "text"?}'),
    ("POST", "/_control/faults", '{"kind": "429|500|503|slow|timeout|html403", "count": 3}'),
    ("POST", "/_control/tokens/revoke", "every token stops working"),
    ("POST", "/_control/oauth/code", '{"user_id"?} -> {"code"}'),
    ("POST", "/_control/webhooks", '{"enabled": false}'),
    ("GET", "/_control/requests", "the API request log"),
)


async def serve_sandbox(
    host: str,
    amocrm_port: int,
    echo: Callable[[str], object],
    until_stopped: Callable[[], Awaitable[None]],
) -> None:
    amo = AmoEmulator(subdomain="demo")
    seed_demo_account(amo)
    async with amo.serve(host=host, port=amocrm_port) as amo_url:
        echo(f"amoCRM emulator  {amo_url}  (seeded account 'Demo Sales', Europe/Moscow)")
        echo(f"  long-lived token    {amo.long_lived_token}")
        echo(
            f"  OAuth client        id={amo.oauth_client_id} secret={amo.oauth_client_secret}"
            f" redirect={amo.oauth_redirect_uri}"
        )
        echo("  control endpoints (no auth):")
        for method, path, what in CONTROL_ENDPOINTS:
            echo(f"    {method:<5} {amo_url}{path}  {what}")
        echo("")
        echo("Point amobridge at it (another terminal):")
        echo(f"  export AMOBRIDGE_AMOCRM__BASE_URL={amo_url}")
        echo(f"  export AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN={amo.long_lived_token}")
        echo("  export AMOBRIDGE_AMOCRM__WEBHOOK_SECRET=sandbox-secret")
        echo("  export AMOBRIDGE_PUBLIC_URL=http://127.0.0.1:8080")
        echo("  amobridge setup   # registers the webhook with the emulator")
        echo("  amobridge run")
        echo("Ctrl-C stops it.")
        await until_stopped()
