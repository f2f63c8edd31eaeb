"""`AmoEmulator`: the Python handle on one emulated amoCRM account and its HTTP server."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.amocrm.actions import AccountActions
from sandbox.amocrm.api import api_routes
from sandbox.amocrm.context import CONTEXT, EmulatorContext, OAuthClient, RequestRecord
from sandbox.amocrm.control import CONTROL
from sandbox.amocrm.faults import Faults
from sandbox.amocrm.middleware import gate
from sandbox.amocrm.oauth import oauth_routes, send_disconnect_hook
from sandbox.amocrm.pace import PaceWindow
from sandbox.amocrm.records import JsonDict
from sandbox.amocrm.state import AccountState
from sandbox.amocrm.task_actions import TaskEdit
from sandbox.amocrm.tokens import TokenStore
from sandbox.amocrm.webhooks import WebhookDelivery, WebhookDispatcher
from sandbox.amocrm.wire import Wire
from sandbox.common.handle import Forward, Knob, Shown
from sandbox.common.serving import Emulator


class AmoEmulator(Emulator):
    """A stateful amoCRM v4 account speaking the reference's wire format.

    Changes made through these methods behave like a person's changes in the amoCRM UI: they
    log /api/v4/events and send webhooks. `by_user` is the acting user (default: the admin).
    """

    handle_name = "emu"

    def __init__(
        self,
        subdomain: str = "demo",
        clock: Callable[[], float] = time.time,
        rate_limit_per_s: float | None = 7.0,
        *,
        account_id: int = 31_000_001,
        oauth_redirect_uri: str = "http://127.0.0.1:8080/amocrm/oauth",
    ) -> None:
        self._clock = clock
        self._state = AccountState(account_id=account_id, subdomain=subdomain, clock=clock)
        self._wire = Wire(self._state, f"https://{subdomain}.amocrm.ru")
        self._hooks = WebhookDispatcher(
            self._state, clock=clock, account_url=lambda: self._wire.base_url
        )
        self._actions = AccountActions(self._state, self._hooks.on_change)
        self.oauth_client_id = str(uuid.uuid4())
        self.oauth_client_secret = secrets.token_urlsafe(48)
        self.oauth_redirect_uri = oauth_redirect_uri
        self._tokens = TokenStore(
            clock=clock,
            client_id=self.oauth_client_id,
            account_id=account_id,
            api_domain=lambda: urlsplit(self._wire.base_url).netloc,
        )
        self.faults = Faults()
        self._pace = PaceWindow(rate_limit_per_s)
        self._request_log: list[RequestRecord] = []
        self._long_lived: str | None = None

    # -- account identity --

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    account_id = Shown[int]("_state", "account_id")
    subdomain = Shown[str]("_state", "subdomain")
    account_name = Knob[str]("_state", "name")
    timezone = Knob[str]("_state", "timezone")

    @property
    def api_user_id(self) -> int:
        """The admin user that the long-lived token and the default `by_user` act as."""
        return self._state.admin_user_id

    @api_user_id.setter
    def api_user_id(self, user_id: int) -> None:
        self._state.user(user_id)
        self._state.admin_user_id = user_id

    # -- serving --

    def make_app(self) -> web.Application:
        app = web.Application(middlewares=[gate])
        app[CONTEXT] = EmulatorContext(
            state=self._state,
            actions=self._actions,
            wire=self._wire,
            tokens=self._tokens,
            oauth=OAuthClient(
                self.oauth_client_id, self.oauth_client_secret, lambda: self.oauth_redirect_uri
            ),
            faults=self.faults,
            pace=self._pace,
            hooks=self._hooks,
            request_log=self._request_log,
            clock=self._clock,
        )
        app.add_routes([*api_routes(), *oauth_routes, *CONTROL.routes])
        return app

    async def _started(self, url: str) -> None:
        self._wire.base_url = url
        self._hooks.attach()

    async def _stopping(self) -> None:
        await self._hooks.aclose()

    # -- tokens --

    @property
    def long_lived_token(self) -> str:
        if self._long_lived is None:
            self._long_lived = self.new_long_lived_token()
        return self._long_lived

    def new_long_lived_token(self) -> str:
        """A fresh long-lived token for the admin; it also becomes `long_lived_token`."""
        if not self.api_user_id:
            raise RuntimeError("the account has no admin user yet (seed it first)")
        self._long_lived = self._tokens.new_long_lived(self.api_user_id)
        return self._long_lived

    def issue_auth_code(self, user_id: int | None = None) -> str:
        """A single-use code for /oauth2/access_token, valid 20 minutes."""
        user = self.api_user_id if user_id is None else user_id
        self._state.user(user)
        return self._tokens.issue_code(user)

    def revoke_tokens(self) -> None:
        self._tokens.revoke_all()

    def revoke_refresh_tokens(self) -> None:
        """The refresh tokens stop working; the access tokens live out their day."""
        self._tokens.revoke_refresh()

    def expire_access_tokens(self) -> None:
        """Every OAuth access token's day is over now: the next call needs a refresh."""
        self._tokens.expire_access()

    async def disable_integration(self, disconnect_url: str) -> int:
        """An admin disables the integration: every token dies and amoCRM calls the
        integration's disconnect hook (returns the hook's HTTP status)."""
        self.revoke_tokens()
        return await send_disconnect_hook(
            disconnect_url, client_id=self.oauth_client_id,
            client_secret=self.oauth_client_secret, account_id=self.account_id,
        )  # fmt: skip

    # -- the account, changed as in the UI --

    add_group = Forward("_actions", AccountActions.add_group)
    add_user = Forward("_actions", AccountActions.add_user)
    add_pipeline = Forward("_actions", AccountActions.add_pipeline)
    add_lead = Forward("_actions", AccountActions.add_lead)
    move_lead = Forward("_actions", AccountActions.move_lead)
    edit_lead = Forward("_actions", AccountActions.edit_lead)
    add_loss_reason = Forward("_actions", AccountActions.add_loss_reason)
    set_lead_responsible = Forward("_actions", AccountActions.set_lead_responsible)
    delete_lead = Forward("_actions", AccountActions.delete_lead)
    add_task = Forward("_actions", AccountActions.add_task)
    delete_task = Forward("_actions", AccountActions.delete_task)

    def deactivate_user(self, user_id: int) -> None:
        """An admin switches the user off (they left the company): their token stops working."""
        self._state.users[user_id] = replace(self._state.users[user_id], is_active=False)

    def complete_task(
        self, task_id: int, result_text: str | None = None, *, by_user: int | None = None
    ) -> None:
        edit = TaskEdit(is_completed=True, result_text=result_text)
        self._actions.edit_task(task_id, edit, by_user=by_user)

    def update_task(
        self,
        task_id: int,
        *,
        complete_till: int | None = None,
        responsible_user_id: int | None = None,
        text: str | None = None,
        by_user: int | None = None,
    ) -> None:
        edit = TaskEdit(
            complete_till=complete_till, responsible_user_id=responsible_user_id, text=text
        )
        self._actions.edit_task(task_id, edit, by_user=by_user)

    # -- reading, wire-shaped --

    def task(self, task_id: int) -> JsonDict:
        return self._wire.task(self._state.tasks[task_id])

    def lead(self, lead_id: int) -> JsonDict:
        return self._wire.lead(self._state.leads[lead_id])

    def notes(self, lead_id: int) -> list[JsonDict]:
        return [self._wire.note(n) for n in self._state.notes.values() if n.entity_id == lead_id]

    def events(self) -> list[JsonDict]:
        """Every event, oldest first."""
        return [self._wire.event(e) for e in self._state.events]

    # -- webhooks --

    webhooks_enabled = Knob[bool]("_hooks", "enabled")
    webhook_retry_delays_s = Knob[tuple[float, ...]]("_hooks", "retry_delays_s", coerce=tuple)
    webhook_timeout_s = Knob[float](
        "_hooks", "timeout_s", "How long a delivery waits for the receiver (amoCRM: 2 s)."
    )

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return list(self._hooks.deliveries)

    async def drain_webhooks(self) -> None:
        await self._hooks.drain()

    # -- observation and pace --

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._request_log)

    rate_limit_per_s = Knob[float | None]("_pace", "limit_per_s")
