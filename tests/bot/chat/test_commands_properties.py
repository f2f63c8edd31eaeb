"""Property-based: any command text is a command or a ``CommandError`` whose message and example
exist in both languages; ``/tz`` gives only a zone ZoneInfo can load."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.admin import ADMIN_NAMES
from bot.chat.commands import CommandError, SetTimezone, parse_command
from tests.properties import FUZZ, numberish, read_or_explained, words

NAMES = ("start", "help", "tasks", "remind", "tz", "lang", "messenger", "quiet", "mute",
         "digest", "unlink", "link", "invite", *ADMIN_NAMES)  # fmt: skip
arguments = st.one_of(
    words,
    st.lists(
        st.one_of(words, numberish, st.sampled_from(["-", ":", ",", "daily", "off"])), max_size=5
    ).map(" ".join),
)
command_text = st.tuples(st.sampled_from(["/", ""]), st.sampled_from(NAMES) | st.text(max_size=8),
                         arguments).map(lambda p: f"{p[0]}{p[1]} {p[2]}")  # fmt: skip
zoneish = st.one_of(
    words,
    st.sampled_from(
        [
            "Europe",
            "Europe/",
            "../../etc/passwd",
            "/etc/localtime",
            "a\x00b",
            ".",
            "europe/moscow",
            "Europe/Moscow/",
            "Etc/GMT+5",
            "right/UTC",
        ]
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_.", max_size=300),
)


@FUZZ
@given(command_text)
def test_any_command_text_is_a_command_or_an_explained_mistake(text: str) -> None:
    read_or_explained(lambda: parse_command(text), CommandError)


@FUZZ
@given(zoneish)
def test_tz_gives_a_zone_that_loads_or_bad_timezone_with_an_example(name: str) -> None:
    refused: tuple[str, str | None] | None = None
    try:
        command = parse_command(f"/tz {name}")
    except CommandError as exc:
        refused = (exc.code, exc.usage)
    if refused is not None:
        assert refused == ("bad_timezone", "usage_tz")
        return
    assert isinstance(command, SetTimezone)
    if command.timezone is not None:
        ZoneInfo(command.timezone)


@pytest.mark.parametrize(
    "name", ["Europe/" + "A" * 293, "A" * 5000, "Europe", "Europe/Moscow\x00"]
)
def test_the_corpus_zones_are_bad_timezones(name: str) -> None:
    with pytest.raises(CommandError, match="bad_timezone"):
        parse_command(f"/tz {name}")
