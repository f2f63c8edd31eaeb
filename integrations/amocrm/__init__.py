"""amoCRM (Kommo) v4 API client: paced, typed errors, no blind retries of writes."""

from integrations.amocrm.auth import (
    AmoAuth,
    LongLivedTokenAuth,
    OAuthTokenManager,
    TokenCipher,
    jwt_expiry,
)
from integrations.amocrm.client import AmoClient
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
from integrations.amocrm.install import (
    Installed,
    InstallError,
    InstallProblem,
    OAuthInstaller,
    code_from_paste,
    consent_url_base,
)
from integrations.amocrm.pacing import NoPacing, Pacer, StorePacer, in_background
from integrations.amocrm.transport import OnRequest, RetryPolicy
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
    "InstallError",
    "InstallProblem",
    "Installed",
    "LongLivedTokenAuth",
    "NewTask",
    "NoPacing",
    "OAuthInstaller",
    "OAuthTokenManager",
    "OnRequest",
    "Pacer",
    "RetryPolicy",
    "StorePacer",
    "TaskPatch",
    "TokenCipher",
    "ValidationIssue",
    "Webhook",
    "code_from_paste",
    "consent_url_base",
    "in_background",
    "jwt_expiry",
]
