"""Outbox item ids: unique, 32 hex characters (as uuid4's were: a Slack message's metadata and
the attempt records carry them), and in the order they were made, so that SQLite's outbox key
grows at its right edge."""

from __future__ import annotations

import string

from bot.delivery import OutboxItem
from bot.delivery.outbox import ordered_id


def test_ids_come_in_the_order_they_were_made_and_never_twice() -> None:
    ids = [ordered_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(len(i) == 32 and set(i) <= set(string.hexdigits.lower()) for i in ids)


def test_an_item_takes_one_unless_given() -> None:
    card = OutboxItem.model_fields["card"]
    assert card.is_required()
    first = OutboxItem.model_validate({"channel": "telegram", "chat_id": "1",
                                       "card": {"text": "hi"}})  # fmt: skip
    second = OutboxItem.model_validate({"channel": "telegram", "chat_id": "1",
                                        "card": {"text": "hi"}})  # fmt: skip
    assert first.id < second.id
    kept = OutboxItem.model_validate_json(first.model_dump_json())
    assert kept.id == first.id  # read back from the store: the same item
