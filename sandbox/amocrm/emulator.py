"""`AmoEmulator`: the Python handle on one emulated amoCRM account and its HTTP server."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.amocrm.actions import AccountActions, TaskEdit
from sandbox.amocrm.api import api_routes
from sandbox.amocrm.context import CONTEXT, EmulatorContext, OAuthClient, RequestRecord
from sandbox.amocrm.control import control_routes
from sandbox.amocrm.faults import Faults
from sandbox.amocrm.middleware import gate
from sandbox.amocrm.oauth import oauth_routes
from sandbox.amocrm.pace import PaceWindow
from sandbox.amocrm.records import JsonDict, Right
from sandbox.amocrm.state import AccountState
from sandbox.amocrm.tokens import TokenStore
from sandbox.amocrm.webhooks import WebhookDelivery, WebhookDispatcher
from sandbox.amocrm.wire import Wire
from sandbox.serving import serve_app


class AmoEmulator:
    """A stateful amoCRM v4 account speaking the reference's wire format.

    Changes made through these methods behave like a person's changes in the amoCRM UI: they
    log /api/v4/events and send webhooks. `by_user` is the acting user (default: the admin).
    """

    def __init__(
        self,
        subdomain: str = "demo",
        clock: Callable[[], float] = time.time,
        rate_limit_per_s: float | None = 7.0,
        *,
        account_id: int = 31_000_001,
        oauth_redirect_uri: str = "http://127.0.0.1:8080/amocrm/oauth/callback",
    ) -> None:
        self._clock = clock
        self._state = AccountState(account_id=account_id, subdomain=subdomain, clock=clock)
        self._served_url: str | None = None
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

    @property
    def account_id(self) -> int:
        return self._state.account_id

    @property
    def subdomain(self) -> str:
        return self._state.subdomain

    @property
    def account_name(self) -> str:
        return self._state.name

    @account_name.setter
    def account_name(self, value: str) -> None:
        self._state.name = value

    @property
    def timezone(self) -> str:
        return self._state.timezone

    @timezone.setter
    def timezone(self, value: str) -> None:
        self._state.timezone = value

    @property
    def api_user_id(self) -> int:
        """The admin user that the long-lived token and the default `by_user` act as."""
        return self._state.admin_user_id

    @api_user_id.setter
    def api_user_id(self, user_id: int) -> None:
        self._state.user(user_id)
        self._state.admin_user_id = user_id

    # -- serving --

    @property
    def base_url(self) -> str:
        if self._served_url is None:
            raise RuntimeError("the emulator is not serving: use `async with emu.serve()`")
        return self._served_url

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
        app.add_routes([*api_routes(), *oauth_routes(), *control_routes()])
        return app

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        async with serve_app(self.make_app(), host, port) as url:
            self._served_url = url
            self._wire.base_url = url
            self._hooks.attach()
            try:
                yield url
            finally:
                await self._hooks.aclose()
                self._served_url = None

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

    # -- the account, changed as in the UI --

    def add_group(self, name: str) -> int:
        return self._actions.add_group(name)

    def add_user(
        self,
        name: str,
        email: str,
        *,
        group_id: int = 0,
        is_admin: bool = False,
        lang: str = "ru",
        is_active: bool = True,
        leads_view: Right = "A",
        leads_edit: Right = "A",
        tasks_edit: Right = "A",
        tasks_delete: Right = "A",
    ) -> int:
        return self._actions.add_user(
            name,
            email,
            group_id=group_id,
            is_admin=is_admin,
            lang=lang,
            is_active=is_active,
            leads_view=leads_view,
            leads_edit=leads_edit,
            tasks_edit=tasks_edit,
            tasks_delete=tasks_delete,
        )

    def deactivate_user(self, user_id: int) -> None:
        """An admin switches the user off (they left the company): their token stops working."""
        self._state.users[user_id] = replace(self._state.users[user_id], is_active=False)

    def add_pipeline(
        self, name: str, statuses: Sequence[str], *, is_main: bool = False
    ) -> tuple[int, list[int]]:
        return self._actions.add_pipeline(name, statuses, is_main=is_main)

    def add_lead(
        self,
        name: str,
        *,
        status_id: int,
        pipeline_id: int,
        responsible_user_id: int,
        price: int = 0,
        closed_at: int | None = None,
        by_user: int | None = None,
    ) -> int:
        return self._actions.add_lead(
            name,
            status_id=status_id,
            pipeline_id=pipeline_id,
            responsible_user_id=responsible_user_id,
            price=price,
            closed_at=closed_at,
            by_user=by_user,
        )

    def move_lead(
        self,
        lead_id: int,
        status_id: int,
        *,
        pipeline_id: int | None = None,
        loss_reason_id: int | None = None,
        by_user: int | None = None,
    ) -> None:
        self._actions.move_lead(lead_id, status_id, pipeline_id=pipeline_id,
                                loss_reason_id=loss_reason_id, by_user=by_user)  # fmt: skip

    def add_loss_reason(self, name: str) -> int:
        return self._actions.add_loss_reason(name)

    def set_lead_responsible(
        self, lead_id: int, user_id: int, *, by_user: int | None = None
    ) -> None:
        self._actions.set_lead_responsible(lead_id, user_id, by_user=by_user)

    def delete_lead(self, lead_id: int, *, by_user: int | None = None) -> None:
        self._actions.delete_lead(lead_id, by_user=by_user)

    def add_task(
        self,
        text: str,
        *,
        responsible_user_id: int,
        complete_till: int,
        entity_type: str = "leads",
        entity_id: int | None = None,
        task_type_id: int = 1,
        by_user: int | None = None,
    ) -> int:
        return self._actions.add_task(
            text,
            responsible_user_id=responsible_user_id,
            complete_till=complete_till,
            entity_type=entity_type,
            entity_id=entity_id,
            task_type_id=task_type_id,
            by_user=by_user,
        )

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

    def delete_task(self, task_id: int, *, by_user: int | None = None) -> None:
        self._actions.delete_task(task_id, by_user=by_user)

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

    @property
    def webhooks_enabled(self) -> bool:
        return self._hooks.enabled

    @webhooks_enabled.setter
    def webhooks_enabled(self, enabled: bool) -> None:
        self._hooks.enabled = enabled

    @property
    def webhook_retry_delays_s(self) -> tuple[float, ...]:
        return self._hooks.retry_delays_s

    @webhook_retry_delays_s.setter
    def webhook_retry_delays_s(self, delays: tuple[float, ...]) -> None:
        self._hooks.retry_delays_s = tuple(delays)

    @property
    def webhook_timeout_s(self) -> float:
        """How long a delivery waits for the receiver (amoCRM: 2 s)."""
        return self._hooks.timeout_s

    @webhook_timeout_s.setter
    def webhook_timeout_s(self, seconds: float) -> None:
        self._hooks.timeout_s = seconds

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return list(self._hooks.deliveries)

    async def drain_webhooks(self) -> None:
        await self._hooks.drain()

    # -- observation and pace --

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._request_log)

    @property
    def rate_limit_per_s(self) -> float | None:
        return self._pace.limit_per_s

    @rate_limit_per_s.setter
    def rate_limit_per_s(self, limit: float | None) -> None:
        self._pace.limit_per_s = limit
