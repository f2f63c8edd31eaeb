"""amoCRM (Kommo) v4 API client: paced, typed errors, no blind retries of writes."""

from integrations.amocrm.auth import AmoAuth, LongLivedTokenAuth, OAuthTokenManager
from integrations.amocrm.client import AmoClient, OnRequest
from integrations.amocrm.errors import (
    AmoAuthError,
    AmoBadResponse,
    AmoError,
    AmoForbidden,
    AmoNotFound,
    AmoOAuthError,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoServerError,
    AmoTransportError,
    AmoValidationError,
    ValidationIssue,
)
from integrations.amocrm.pacing import NoPacing, Pacer, StorePacer
from integrations.amocrm.values import NewTask, TaskPatch, Webhook

__all__ = [
    "AmoAuth",
    "AmoAuthError",
    "AmoBadResponse",
    "AmoClient",
    "AmoError",
    "AmoForbidden",
    "AmoNotFound",
    "AmoOAuthError",
    "AmoPaymentRequired",
    "AmoRateLimited",
    "AmoServerError",
    "AmoTransportError",
    "AmoValidationError",
    "LongLivedTokenAuth",
    "NewTask",
    "NoPacing",
    "OAuthTokenManager",
    "OnRequest",
    "Pacer",
    "StorePacer",
    "TaskPatch",
    "ValidationIssue",
    "Webhook",
]
