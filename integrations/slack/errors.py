"""Slack's answers as typed errors, and what each means for a message in the outbox.

Slack answers most failures with HTTP 200 and ``{"ok": false, "error": "<code>"}``; slack_sdk
raises ``SlackApiError`` for them, and for a 429 after its retry handler gave up.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError

from bot.delivery import DeliveryError

log = logging.getLogger(__name__)

# The person can no longer be reached at this chat: pause their link.
GONE = frozenset({
    "account_inactive", "user_disabled", "user_not_found", "channel_not_found", "is_archived",
    "not_in_channel", "cannot_dm_bot", "messages_tab_disabled", "user_is_restricted",
})  # fmt: skip
# This message will never go through, however often it is sent again.
REFUSED = frozenset({
    "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "message_not_found",
    "cant_update_message", "edit_window_closed", "invalid_arguments", "too_many_attachments",
    "restricted_action",
})  # fmt: skip
# The app itself is refused (token revoked, scopes): not about any one recipient.
APP_REFUSED = frozenset({
    "invalid_auth", "not_authed", "token_revoked", "token_expired", "missing_scope",
    "account_inactive_token", "no_permission", "team_access_not_granted",
})  # fmt: skip


class SlackError(Exception):
    """A Slack Web API call failed. ``code`` is Slack's error code ("ratelimited", "http_500",
    "network" for a transport failure); ``retry_after`` comes with a 429."""

    def __init__(self, method: str, code: str, retry_after: float | None = None) -> None:
        super().__init__(f"{method}: {code}")
        self.method = method
        self.code = code
        self.retry_after = retry_after


def slack_error(method: str, exc: SlackClientError) -> SlackError:
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        error = response.get("error") if isinstance(response.data, dict) else None
        retry_after = None
        if status == 429:
            header = response.headers.get("retry-after") or response.headers.get("Retry-After")
            retry_after = float(header) if header and str(header).isdigit() else 1.0
            return SlackError(method, "ratelimited", retry_after)
        return SlackError(method, str(error or f"http_{status}"))
    if isinstance(exc, SlackRequestError):
        return SlackError(method, "bad_request")
    return SlackError(method, "network")


def delivery_error(exc: SlackError, chat_id: str) -> DeliveryError:
    """How the outbox should treat ``exc``, raised for a call to ``chat_id``."""
    reason = f"slack {exc}"
    if exc.retry_after is not None:
        return DeliveryError(reason, retry_after=exc.retry_after)
    if exc.code in GONE:
        return DeliveryError(reason, gone=True)
    if exc.code in REFUSED:
        log.warning("slack: refused for %s: %s", chat_id, exc.code)
        return DeliveryError(reason, permanent=True)
    if exc.code in APP_REFUSED:
        log.error("slack: the app was refused (%s): check the bot token and its scopes", exc.code)
    return DeliveryError(reason)
