"""The Web API methods the emulator serves, and the bot scope each one needs.

Each method takes the shared context and the merged parameters and returns the fields of a
successful answer (``ok: true`` is added by the endpoint), or raises ``ApiError``.
"""

from __future__ import annotations

from sandbox.slack.api import auth, chat, conversations, files, users, views
from sandbox.slack.api.common import Method

METHODS: dict[str, Method] = {
    "auth.test": auth.test,
    "chat.postMessage": chat.post_message,
    "chat.update": chat.update,
    "chat.postEphemeral": chat.post_ephemeral,
    "chat.delete": chat.delete,
    "conversations.open": conversations.open_dm,
    "conversations.info": conversations.info,
    "conversations.join": conversations.join,
    "conversations.history": conversations.history,
    "users.info": users.info,
    "users.lookupByEmail": users.lookup_by_email,
    "users.list": users.members,
    "views.open": views.open_modal,
    "views.push": views.push,
    "views.update": views.update,
    "views.publish": views.publish,
    "files.getUploadURLExternal": files.upload_url,
    "files.completeUploadExternal": files.complete_upload,
}

# The scope a bot token needs for each method (each method's reference page); auth.test and
# views.* need none, conversations.history checks its own (one per kind of channel).
SCOPES: dict[str, str] = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write", "chat.delete": "chat:write",
    "conversations.open": "im:write", "conversations.info": "channels:read",
    "conversations.join": "channels:join", "users.info": "users:read", "users.list": "users:read",
    "users.lookupByEmail": "users:read.email", "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}  # fmt: skip

# Methods whose reference pages list form and query inputs only (Slack reads JSON bodies for
# write methods; files.getUploadURLExternal refuses one, seen live).
FORM_ONLY = frozenset(
    {
        "users.info",
        "users.list",
        "users.lookupByEmail",
        "files.getUploadURLExternal",
        "conversations.info",
    }
)

__all__ = ["FORM_ONLY", "METHODS", "SCOPES", "Method"]
