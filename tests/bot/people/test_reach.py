"""Where a person's messages go: the messenger they chose while it works, else every one."""

from __future__ import annotations

from bot.core.domain import Channel
from bot.people.links import ChannelLink
from bot.people.reach import reachable


def linked(channel: Channel, *, paused: bool = False) -> ChannelLink:
    return ChannelLink(channel=channel, amo_user_id=7, account_id="a", chat_id="c", paused=paused)


def channels(links: list[ChannelLink]) -> list[str]:
    return [x.channel for x in links]


def test_no_choice_means_every_working_messenger() -> None:
    both = [linked("telegram"), linked("slack")]
    assert channels(reachable(both, None)) == ["telegram", "slack"]
    assert channels(reachable([linked("telegram", paused=True), linked("slack")], None)) == [
        "slack"
    ]


def test_the_chosen_messenger_alone_while_it_works_then_the_others() -> None:
    assert channels(reachable([linked("telegram"), linked("slack")], "slack")) == ["slack"]
    dropped = [linked("telegram"), linked("slack", paused=True)]
    assert channels(reachable(dropped, "slack")) == ["telegram"]
    # A choice of a messenger no longer linked (unlinked since) leaves nobody unreachable.
    assert channels(reachable([linked("telegram")], "slack")) == ["telegram"]


def test_nobody_to_send_to_when_every_messenger_is_paused() -> None:
    assert reachable([linked("telegram", paused=True)], "telegram") == []
