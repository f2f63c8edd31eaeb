"""Notices to the account's admins: linking, refusals and the like tell each of them once."""

from __future__ import annotations

from collections.abc import Callable

from bot.core import Channel, Lang, TextMessage
from bot.crm import Directory
from bot.delivery import OutboxItem
from bot.people.links import Links
from bot.people.prefs import Prefs, language


async def admin_notices(
    links: Links,
    directory: Directory,
    prefs: Prefs,
    text: Callable[[Lang], str],
    *,
    prefer: Channel | None = None,
) -> list[OutboxItem]:
    """One message to each linked, unpaused admin, written by ``text`` in their language, through
    their first link (``prefer``: in that messenger if they use it)."""
    all_links = await links.all()
    if prefer is not None:
        all_links = sorted(all_links, key=lambda x: x.channel != prefer)
    told: set[int] = set()
    notices = []
    for admin_link in all_links:
        if admin_link.paused or admin_link.amo_user_id in told:
            continue
        admin = await directory.user(admin_link.amo_user_id)
        if admin is None or not admin.rights.is_admin:
            continue
        told.add(admin.id)
        lang = language(await prefs.get(admin.id), admin)
        notices.append(OutboxItem(
            channel=admin_link.channel, chat_id=admin_link.chat_id, recipient=admin.id,
            card=TextMessage(text=text(lang)),
        ))  # fmt: skip
    return notices
