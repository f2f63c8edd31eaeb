"""Shared pieces of the property-based tests (hypothesis): bounded settings and the inputs an
attacker tries at every parser: Unicode digits, signs doubled, numbers past 2^63 or of thousands
of digits, very long words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import settings
from hypothesis import strategies as st

from bot.core import load_catalogue

R = TypeVar("R")
T = load_catalogue()

# Bounded so that the suite stays fast; no example database written into the work tree.
FUZZ = settings(max_examples=200, deadline=None, database=None)

UNICODE_DIGITS = ("¹", "²", "³", "٣", "۵", "߅", "১", "௬", "๗", "１", "𝟘")

numberish = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**63 - 2, max_value=2**64).map(str),
    st.integers(min_value=-(2**64), max_value=-1).map(str),
    st.sampled_from(["--5", "-", "+5", " 5 ", "0", "00", "9" * 5000, "1e3", "0x10", "5.0", ""]),
    st.lists(st.sampled_from(UNICODE_DIGITS + tuple("0123456789-")), min_size=1, max_size=6).map(
        "".join
    ),
    st.text(max_size=12),
)
"""Text that looks like a number, or almost: what ``int()``/``isdigit()`` disagree on."""

words = st.one_of(numberish, st.text(max_size=40), st.just("A" * 300))


def read_or_explained(parse: Callable[[], R], refusal: type[Exception]) -> R | None:
    """What ``parse`` reads, or None when it refuses with ``refusal`` whose message (and example,
    if it has one) the catalogue holds in both languages; any other exception fails the test."""
    try:
        return parse()
    except refusal as exc:
        # The parsers' errors share these attributes by convention, not by a base class.
        code: str = getattr(exc, "code")  # noqa: B009 (no type declares it)
        params: dict[str, object] = getattr(exc, "params", {})
        usage: str | None = getattr(exc, "usage", None)
        for lang in ("ru", "en"):
            assert T(lang, code, **params)
            if usage is not None:
                assert T(lang, usage)
        return None
