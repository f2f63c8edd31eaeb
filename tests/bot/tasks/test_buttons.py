"""Button payloads: what we pack unpacks to the same; anything else, forged or edited, is
``BadPayload``, never another exception (a Slack action's value may be any JSON)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.tasks import Action, BadPayload, DealPayload, Payload, unpack, unpack_deal
from bot.tasks.buttons import MAX_ID, DealAction, packed
from tests.properties import FUZZ, numberish

ids = st.integers(min_value=1, max_value=MAX_ID)
args = {
    Action.SNOOZE: st.sampled_from(["15", "60", "tm", "cu"]),
    Action.REASSIGN_MENU: st.integers(min_value=0, max_value=99).map(str),
    Action.REASSIGN: ids.map(str),
}
payloads = st.sampled_from(list(Action)).flatmap(
    lambda action: st.builds(
        Payload, action=st.just(action), task_id=ids, arg=args.get(action, st.just(""))
    )
)
forged = st.one_of(
    st.text(max_size=80),
    st.tuples(
        st.sampled_from(["t", "d", "x"]),
        st.sampled_from([*"czmsrab", "f", "q", ""]),
        numberish,
        numberish,
    ).map(":".join),
    st.tuples(st.sampled_from(["t", "d"]), st.sampled_from([*"czmsrabf"]), numberish).map(
        ":".join
    ),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)


@FUZZ
@given(payloads)
def test_what_we_pack_unpacks_to_the_same(payload: Payload) -> None:
    assert unpack(payload.pack()) == payload


@FUZZ
@given(payloads)
def test_a_card_packs_what_the_payload_packs(payload: Payload) -> None:
    assert packed(payload.action, payload.task_id, payload.arg) == payload.pack()


@FUZZ
@given(st.sampled_from(list(DealAction)), ids)
def test_a_deal_payload_unpacks_to_the_same(action: DealAction, deal_id: int) -> None:
    payload = DealPayload(action=action, deal_id=deal_id)
    assert unpack_deal(payload.pack()) == payload


@FUZZ
@given(forged)
def test_anything_else_is_a_payload_in_range_or_bad(data: object) -> None:
    for decode in (unpack, unpack_deal):
        try:
            payload = decode(data)
        except BadPayload:
            continue
        assert isinstance(data, str)
        assert decode(payload.pack()) == payload  # one we could have written ourselves
        number = payload.task_id if isinstance(payload, Payload) else payload.deal_id
        assert 0 < number <= MAX_ID


@pytest.mark.parametrize(
    "data",
    ["t:c:²", "t:c:--5", "t:c:-5", "t:c:0", f"t:c:{2**63}", "t:c:" + "9" * 5000, "t:c",
     "t:r:5:²", "t:a:5:x", "t:a:5", "d:t:¹", "d:t:5:6", 5, None, ["t:c:5"], {"v": "t:c:5"}],
)  # fmt: skip
def test_the_corpus_values_are_bad_payloads(data: object) -> None:
    with pytest.raises(BadPayload):
        unpack(data) if not (isinstance(data, str) and data.startswith("d")) else unpack_deal(data)
