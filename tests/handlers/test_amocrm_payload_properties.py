"""Property-based: whatever the body, the webhook parser gives hints in amoCRM's range or refuses
it with ``MalformedWebhook``, never another exception."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from bot.core import EntityHint
from handlers.amocrm_payload import MAX_ID, MalformedWebhook, WebhookParser, parse_webhook
from tests.properties import FUZZ, numberish

ACCOUNT = "account[subdomain]=demo&account[id]=1"
FIELDS = ("id", "old_status_id", "old_pipeline_id", "old_responsible_user_id", "modified_user_id",
          "created_user_id", "last_modified", "updated_at", "action_close")  # fmt: skip
SECTIONS = ("leads", "task", "contacts", "account")
ACTIONS = ("add", "update", "status", "responsible", "delete", "restore", "note", "complete")

pair = st.tuples(
    st.sampled_from(SECTIONS) | st.text(max_size=5),
    st.sampled_from(ACTIONS) | st.text(max_size=5),
    numberish,
    st.sampled_from(FIELDS) | st.text(max_size=5),
    numberish,
).map(lambda p: f"{quote(p[0])}[{quote(p[1])}][{quote(p[2])}][{quote(p[3])}]={quote(p[4])}")
webhook_body = st.lists(pair, max_size=8).map(lambda pairs: "&".join([ACCOUNT, *pairs]).encode())


def in_range(value: int | None) -> bool:
    return value is None or -MAX_ID <= value <= MAX_ID


def check(body: bytes) -> None:
    try:
        hints = parse_webhook(body)
    except MalformedWebhook:
        return
    for hint in hints:
        assert isinstance(hint, EntityHint)
        assert 0 < hint.id <= MAX_ID
        numbers = (hint.old_status_id, hint.old_pipeline_id, hint.old_responsible_user_id,
                   hint.actor_id, hint.at)  # fmt: skip
        assert all(in_range(n) for n in numbers)


@FUZZ
@given(webhook_body)
def test_a_webhook_shaped_body_gives_hints_in_range_or_is_refused(body: bytes) -> None:
    check(body)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_give_hints_or_are_refused(body: bytes) -> None:
    check(body)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_gives_hints_or_is_refused(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_in_amocrms_range_is_read(entity_id: int) -> None:
    [hint] = parse_webhook(f"{ACCOUNT}&leads[add][0][id]={entity_id}".encode())
    assert hint.id == entity_id


def reading(parse: Callable[[bytes], list[EntityHint]], body: bytes) -> object:
    try:
        return parse(body)
    except MalformedWebhook as exc:
        return str(exc)


@FUZZ
@given(webhook_body, st.lists(numberish, max_size=9))
def test_a_parser_reads_a_body_of_keys_it_has_seen_as_a_first_reading_does(
    body: bytes, values: list[str]
) -> None:
    # The parser remembers what a body's keys say; never anything of its values.
    fields = [pair.partition("=") for pair in body.decode().split("&")]
    other = "&".join(
        f"{key}={quote(values[i]) if i < len(values) else value}"
        for i, (key, _, value) in enumerate(fields)
    ).encode()
    parser = WebhookParser()
    assert reading(parser.parse, body) == reading(parse_webhook, body)
    assert reading(parser.parse, other) == reading(parse_webhook, other)
