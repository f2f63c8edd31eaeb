"""Telegram's HTML parse mode: allowed tags, entities, errors with byte offsets, limits after
parsing. Expected texts are tdlib's (td/telegram/MessageEntity.cpp parse_html)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from sandbox.telegram import TelegramEmulator
from sandbox.telegram.htmlparse import HtmlError, parse_html
from tests.sandbox.telegram.helpers import FakeClock


def _entities(source: str) -> list[tuple[str, int, int]]:
    return [(e.type, e.offset, e.length) for e in parse_html(source)[1]]


def test_each_allowed_tag_becomes_its_entity() -> None:
    source = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">q</span><code>c</code><pre>r</pre>'
        "<blockquote>q</blockquote><blockquote expandable>x</blockquote>"
    )
    kinds = [kind for kind, _, _ in _entities(source)]
    assert kinds == [
        "bold",
        "bold",
        "italic",
        "italic",
        "underline",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
    ]


def test_links_languages_custom_emoji_and_time_carry_their_arguments() -> None:
    text, entities = parse_html(
        '<a href="https://x.example/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">print(1)</code></pre> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> '
        '<tg-time unix="1767225600" format="wDT">Thu</tg-time>'
    )
    assert text == "link print(1) 👍 Thu"
    by_type = {e.type: e for e in entities}
    assert by_type["text_link"].url == "https://x.example/?a=1&b=2"
    assert (by_type["pre"].language, by_type["pre"].offset) == ("python", 5)
    assert by_type["custom_emoji"].custom_emoji_id == "5368324170671202286"
    assert by_type["custom_emoji"].length == 2  # one emoji is two UTF-16 code units
    assert (by_type["date_time"].unix_time, by_type["date_time"].date_time_format) == (
        1767225600,
        "wDT",
    )


def test_only_four_named_entities_are_decoded_numeric_ones_always() -> None:
    text, _ = parse_html("&lt;&gt;&amp;&quot; &#1055;&#x440; &nbsp; &copy; a & b")
    assert text == '<>&" Пр &nbsp; &copy; a & b'


def test_offsets_count_utf16_units_after_cyrillic_and_emoji() -> None:
    assert _entities("Задача 🔥 <b>срочно</b>") == [("bold", 10, 6)]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("a <x>y</x>", 'Unsupported start tag "x" at byte offset 2'),
        ("Цена < 100", 'Unsupported start tag "" at byte offset 9'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
    ],
)
def test_bad_markup_is_refused_with_tdlib_text(source: str, message: str) -> None:
    with pytest.raises(HtmlError) as caught:
        parse_html(source)
    assert str(caught.value) == message


async def test_bad_markup_reaches_aiogram_as_bad_request(bot: Bot, ivan: int) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(ivan, "Сделка <Ромашка> закрыта")
    assert caught.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "Ромашка" at byte offset 13'
    )


async def test_raw_html_and_plain_text_with_entities_are_both_kept(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await bot.send_message(ivan, "<b>Задача</b> &amp; <i>сделка</i>")
    stored = tg.transcript(ivan)[-1]
    assert stored.html == "<b>Задача</b> &amp; <i>сделка</i>"
    assert stored.text == "Задача & сделка"
    assert [(e["type"], e["offset"], e["length"]) for e in stored.entities] == [
        ("bold", 0, 6),
        ("italic", 9, 6),
    ]


async def test_the_4096_limit_counts_text_after_parsing(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    body = "я" * 4096
    sent = await bot.send_message(ivan, f"<b>{body}</b>")  # 4103 characters of markup
    assert sent.text == body
    clock.advance(1)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ivan, f"<b>{body}</b>!")


async def test_empty_text_is_refused_before_and_after_parsing(bot: Bot, ivan: int) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ivan, "")
    with pytest.raises(TelegramBadRequest, match="Bad Request: text must be non-empty"):
        await bot.send_message(ivan, "<b> </b>\n")


async def test_surrounding_whitespace_is_trimmed_as_telegram_does(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_message(ivan, "\n  <b>x</b> y \n")
    assert sent.text == "x y"
    assert sent.entities is not None
    assert (sent.entities[0].offset, sent.entities[0].length) == (
        0,
        1,
    )


async def test_without_parse_mode_tags_are_plain_text(bot: Bot, ivan: int) -> None:
    sent = await bot.send_message(ivan, "<b>x</b>", parse_mode=None)
    assert sent.text == "<b>x</b>"
    assert sent.entities is None


async def test_an_unknown_parse_mode_is_refused(bot: Bot, ivan: int) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: unsupported parse_mode"):
        await bot.send_message(ivan, "x", parse_mode="BBCode")
