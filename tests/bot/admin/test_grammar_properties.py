"""Property-based: any admin command's arguments are a command or a ``GrammarError`` whose
message and example exist in both languages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.admin import ADMIN_NAMES, GrammarError, parse_admin
from bot.admin.grammar import EVENT_NAMES, FILTER_KEYS, TARGET_WORDS, SetThreshold
from tests.properties import FUZZ, numberish, read_or_explained, words

piece = st.one_of(
    words,
    st.sampled_from(
        [
            *EVENT_NAMES,
            *TARGET_WORDS,
            "to",
            "digest",
            "big",
            "off",
            "export",
            "import",
            "week",
            '"',
            "«",
            "group:Sales",
            "price>=",
            "price<",
        ]
    ),
    st.tuples(
        st.sampled_from([*FILTER_KEYS, "price>=", "price<", "user", "slack"]),
        st.sampled_from([":", ""]),
        numberish,
    ).map("".join),
)
arguments = st.lists(piece, max_size=6).map(" ".join)


@FUZZ
@given(st.sampled_from(ADMIN_NAMES), arguments)
def test_any_admin_arguments_are_a_command_or_an_explained_mistake(name: str, args: str) -> None:
    read_or_explained(lambda: parse_admin(name, args), GrammarError)


@pytest.mark.parametrize("amount", ["²", "1²", "9" * 5000, "--5", "-5", "٣٣"])
def test_the_corpus_amounts_are_refused_with_an_example(amount: str) -> None:
    with pytest.raises(GrammarError) as refused:
        parse_admin("threshold", f"big {amount}")
    assert refused.value.usage == "usage_threshold"
    with pytest.raises(GrammarError):
        parse_admin("subscribe", f"won price>={amount}")


def test_an_amount_in_ascii_digits_is_read() -> None:
    assert parse_admin("threshold", "big 500_000") == SetThreshold(amount=500_000)
