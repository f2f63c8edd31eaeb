"""What the HTTP handlers share, reached through the aiohttp app (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from sandbox.amocrm.actions import AccountActions
from sandbox.amocrm.faults import Faults
from sandbox.amocrm.pace import PaceWindow
from sandbox.amocrm.state import AccountState
from sandbox.amocrm.tokens import TokenStore
from sandbox.amocrm.webhooks import WebhookDispatcher
from sandbox.amocrm.wire import Wire


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    at: float
    body: str


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    client_secret: str
    redirect_uri: Callable[[], str]


@dataclass(frozen=True, slots=True)
class EmulatorContext:
    state: AccountState
    actions: AccountActions
    wire: Wire
    tokens: TokenStore
    oauth: OAuthClient
    faults: Faults
    pace: PaceWindow
    hooks: WebhookDispatcher
    request_log: list[RequestRecord]
    clock: Callable[[], float]


CONTEXT = web.AppKey("amocrm_context", EmulatorContext)
USER_ID = web.RequestKey("amocrm_user_id", int)


def context_of(request: web.Request) -> EmulatorContext:
    return request.app[CONTEXT]


def user_of(request: web.Request) -> int:
    """The user the request's Bearer token acts as (set by the auth middleware)."""
    return request[USER_ID]
