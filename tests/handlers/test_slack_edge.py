"""The Slack edge before bolt: the signature (and its timestamp) checked on the raw bytes, then a
signed body read as one of Slack's payloads or refused with ``MalformedSlackRequest``."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier

from handlers.slack_edge import MalformedSlackRequest, _signed, parse_request
from sandbox.slack.signing import signature
from tests.properties import FUZZ, UNICODE_DIGITS, numberish

SECRET = "test-signing-secret"
VERIFIER = SignatureVerifier(SECRET)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
KEYS = ("type", "event", "user", "actions", "view", "container", "command", "user_id",
        "response_url", "action_id", "id", "callback_id", "value", "team")  # fmt: skip
TYPES = ("event_callback", "block_actions", "view_submission", "view_closed", "url_verification",
         "shortcut", "message_action")  # fmt: skip
slackish = st.recursive(
    st.none() | st.integers() | st.sampled_from(TYPES) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=16,
)


def headers_for(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature(SECRET, stamp, body),
    }


def read(raw: bytes, headers: dict[str, str]) -> Any:
    try:
        return parse_request(raw, "", headers).body
    except MalformedSlackRequest:
        return None


@FUZZ
@given(st.binary(max_size=300), st.text(max_size=20), st.text(max_size=80))
def test_a_forged_request_is_never_signed_and_never_raises(
    body: bytes, timestamp: str, sig: str
) -> None:
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": sig}
    assert _signed(VERIFIER, body, headers) is False


@FUZZ
@given(st.sampled_from([*UNICODE_DIGITS, "-5", "1" * 40, "", "abc", str(int(time.time()) - 400)]))
def test_a_bad_or_old_timestamp_is_not_signed_even_with_the_right_key(timestamp: str) -> None:
    body = b"payload=%7B%7D"
    assert _signed(VERIFIER, body, headers_for(body, timestamp)) is False


def test_a_request_signed_now_is_signed_and_a_changed_body_is_not() -> None:
    body = b"command=%2Famo&text=help&user_id=U1&response_url=x"
    assert _signed(VERIFIER, body, headers_for(body)) is True
    assert _signed(VERIFIER, body + b" ", headers_for(body)) is False


@FUZZ
@given(st.binary(max_size=300))
def test_any_signed_bytes_are_a_payload_or_refused(body: bytes) -> None:
    read(body, FORM)
    read(body, JSON)


@FUZZ
@given(st.one_of(slackish, json_value))
def test_a_signed_json_body_is_an_object_bolt_can_route_or_refused(value: object) -> None:
    as_json = json.dumps(value).encode()
    body = read(as_json, JSON)
    form = read(b"payload=" + json.dumps(value).encode(), FORM)
    for parsed in (body, form):
        if parsed is None:
            continue
        assert isinstance(parsed, dict)
        if "event" in parsed:
            assert isinstance(parsed["event"], dict)
            assert isinstance(parsed["event"].get("type"), str)
        if parsed.get("type") == "block_actions":
            assert all(isinstance(a["action_id"], str) for a in parsed["actions"])


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), numberish, max_size=6))
def test_a_signed_form_body_is_read_or_refused(fields: dict[str, str]) -> None:
    read(urlencode(fields).encode(), FORM)


def test_the_corpus_shapes_are_refused() -> None:
    for body in (b"payload=not-json", b"payload=[]", b"payload=\xff\xfe{"):
        assert read(body, FORM) is None
    assert read(b"[" * 100_000, JSON) is None  # json.loads: RecursionError
    assert read(b'{"type":"event_callback","event":null}', JSON) is None
    no_id = {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"value": "t:c:5"}]}
    assert read(json.dumps(no_id).encode(), JSON) is None
