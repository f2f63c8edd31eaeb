"""Slack as a ``bot.delivery.Notifier``: cards posted and updated as Block Kit messages."""

from __future__ import annotations

import logging

from bot.core import Card, ReplyFile
from bot.delivery import ChannelLimits, DeliveryError
from integrations.slack.api import SlackApi
from integrations.slack.errors import SlackError, delivery_error
from integrations.slack.render import render_card

# chat.postMessage allows about one message a second per channel (short bursts tolerated);
# the workspace-wide cap is far above what 1/s per channel reaches for a sales team.
log = logging.getLogger(__name__)

# A person's DM takes two at once, as in Telegram (bursts are tolerated).
SLACK_LIMITS = ChannelLimits(per_chat_s=1.0, per_group_s=1.0, global_s=1 / 100, per_chat_burst=2)


class SlackNotifier:
    """Sends and updates cards; the message id is the message's ``ts`` in its channel."""

    def __init__(self, api: SlackApi) -> None:
        self._api = api

    async def send(self, chat_id: str, card: Card, *, ref: str | None = None) -> str:
        message = render_card(card)
        try:
            return await self._api.post(chat_id, message.text, message.blocks, tag=ref)
        except SlackError as exc:
            raise delivery_error(exc, chat_id) from exc

    async def send_file(
        self, chat_id: str, caption: str, file: ReplyFile, *, ref: str | None = None
    ) -> str:
        """The file shared into the channel with the caption as its comment. An upload carries
        no message metadata, so ``find_sent`` cannot see it: after a lost answer it is shared
        again, as on Telegram (ARCHITECTURE.md, "the send window")."""
        try:
            await self._api.upload(chat_id, file.name, file.content, caption)
        except SlackError as exc:
            raise delivery_error(exc, chat_id) from exc
        return ""  # nothing refers to it later: a file is never edited

    async def find_sent(self, chat_id: str, ref: str, since: float) -> str | None:
        """The message tagged ``ref`` in the channel's history (its metadata), if it is there.
        Without a history scope (an app installed before amobridge asked for one) it cannot
        look: None, and the message is sent again as it was before."""
        try:
            return await self._api.find_tagged(chat_id, ref, since)
        except SlackError as exc:
            if exc.code in ("missing_scope", "not_in_channel"):
                log.warning("slack: cannot read %s back (%s); sending again", chat_id, exc.code)
                return None
            raise delivery_error(exc, chat_id) from exc

    async def edit(self, chat_id: str, message_id: str, card: Card) -> None:
        message = render_card(card)
        try:
            await self._api.update(chat_id, message_id, message.text, message.blocks)
        except SlackError as exc:
            if exc.code == "message_not_found":
                # Deleted in Slack: there is nothing left to keep up to date.
                raise DeliveryError(f"slack {exc}", permanent=True) from exc
            raise delivery_error(exc, chat_id) from exc
