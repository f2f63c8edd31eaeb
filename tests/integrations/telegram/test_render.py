"""Snapshots of the Telegram HTML and keyboards, checked with the emulator's port of tdlib's
HTML parser (what Telegram would count and show)."""

from __future__ import annotations

import pytest

from bot.core.views import Button, TaskCard, TextMessage
from integrations.telegram import MESSAGE_LIMIT, render_card
from sandbox.telegram.formatting import FormattedText, format_text

DEAL_URL = "https://demo.amocrm.ru/leads/detail/5001"
BUTTONS = (
    (
        Button(label="✔ Complete", payload="t:c:7", primary=True),
        Button(label="Snooze", payload="t:s:7"),
    ),
    (Button(label="Open in amoCRM", url=DEAL_URL),),
)


def card(**changes: object) -> TaskCard:
    base = TaskCard(
        task_id=7,
        heading="⏰ Due in 15 min",
        type_name="Call",
        text="Call back about the invoice",
        due_text="today 15:00",
        deal_name="ACME — 50 chairs",
        deal_url=DEAL_URL,
        rows=BUTTONS,
    )
    return base.model_copy(update=changes)


def parsed(html: str) -> FormattedText:
    return format_text(html, "HTML", None)


def test_it_renders_a_normal_card() -> None:
    rendered = render_card(card())

    assert rendered.html == (
        "<b>⏰ Due in 15 min</b>\n"
        "Call: Call back about the invoice\n"
        f'💼 <a href="{DEAL_URL}">ACME — 50 chairs</a>\n'
        "🕒 today 15:00"
    )
    assert rendered.keyboard is not None
    assert rendered.keyboard.model_dump(exclude_none=True) == {
        "inline_keyboard": [
            [
                {"text": "✔ Complete", "callback_data": "t:c:7", "style": "primary"},
                {"text": "Snooze", "callback_data": "t:s:7"},
            ],
            [{"text": "Open in amoCRM", "url": DEAL_URL}],
        ]
    }
    assert parsed(rendered.html).text == (
        "⏰ Due in 15 min\nCall: Call back about the invoice\n💼 ACME — 50 chairs\n🕒 today 15:00"
    )


def test_it_renders_a_cyrillic_card() -> None:
    rendered = render_card(
        card(heading="❗ Просрочено на 2 ч", type_name="Звонок", text="Перезвонить «Ромашке»",
             due_text="сегодня 15:00", deal_name="Ромашка, 50 стульев", overdue=True, rows=())
    )  # fmt: skip

    assert rendered.html == (
        "<b>❗ Просрочено на 2 ч</b>\n"
        "Звонок: Перезвонить «Ромашке»\n"
        f'💼 <a href="{DEAL_URL}">Ромашка, 50 стульев</a>\n'
        "<b>🕒 сегодня 15:00</b>"
    )
    assert rendered.keyboard is None


def test_it_renders_an_outcome_in_italics_and_no_keyboard() -> None:
    rendered = render_card(
        card(heading="✔ Completed", outcome="✔ Completed by Ivan Petrov in Telegram", rows=())
    )

    assert rendered.html == (
        "<b>✔ Completed</b>\n"
        "Call: Call back about the invoice\n"
        f'💼 <a href="{DEAL_URL}">ACME — 50 chairs</a>\n'
        "🕒 today 15:00\n"
        "<i>✔ Completed by Ivan Petrov in Telegram</i>"
    )
    assert rendered.keyboard is None
    assert [e["type"] for e in parsed(rendered.html).entities] == ["bold", "text_link", "italic"]


def test_it_escapes_hostile_crm_text() -> None:
    rendered = render_card(
        card(
            type_name="<b>Call</b>",
            text="<script>alert('x')</script> & &amp; </b>",
            deal_name='A&B "big" <deal>',
            deal_url='https://demo.amocrm.ru/leads/detail/5001?a=1&b="2"<',
            outcome="<i>by Ivan</i>",
            rows=(),
        )
    )

    assert rendered.html == (
        "<b>⏰ Due in 15 min</b>\n"
        "&lt;b&gt;Call&lt;/b&gt;: "
        "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &amp;amp; &lt;/b&gt;\n"
        '💼 <a href="https://demo.amocrm.ru/leads/detail/5001?a=1&amp;b=&quot;2&quot;&lt;">'
        'A&amp;B "big" &lt;deal&gt;</a>\n'
        "🕒 today 15:00\n"
        "<i>&lt;i&gt;by Ivan&lt;/i&gt;</i>"
    )
    shown = parsed(rendered.html)
    assert "<script>alert('x')</script> & &amp; </b>" in shown.text
    link = next(e for e in shown.entities if e["type"] == "text_link")
    assert link["url"] == 'https://demo.amocrm.ru/leads/detail/5001?a=1&b="2"<'


def test_it_clips_a_long_task_text_first_and_keeps_the_markup() -> None:
    text = "<script>&" + "Ж" * 5000
    rendered = render_card(card(text=text, outcome="✔ Done", rows=()))

    shown = parsed(rendered.html)
    assert len(shown.text) == MESSAGE_LIMIT
    assert rendered.html.startswith("<b>⏰ Due in 15 min</b>\nCall: &lt;script&gt;&amp;ЖЖЖ")
    assert rendered.html.endswith(
        f'ЖЖЖ…\n💼 <a href="{DEAL_URL}">ACME — 50 chairs</a>\n🕒 today 15:00\n<i>✔ Done</i>'
    )
    assert [e["type"] for e in shown.entities] == ["bold", "text_link", "italic"]


def test_it_caps_the_short_fields_so_the_task_text_keeps_its_room() -> None:
    rendered = render_card(
        card(text="T" * 5000, deal_name="&" * 5000, outcome="<" * 5000, heading="H" * 5000,
             type_name="y" * 5000, due_text="d" * 5000)
    )  # fmt: skip

    shown = parsed(rendered.html)  # valid HTML, whatever was cut
    assert len(shown.text) == MESSAGE_LIMIT
    heading, task, deal, due, outcome = shown.text.split("\n")
    assert (len(heading), len(deal), len(due), len(outcome)) == (300, 302, 302, 300)
    assert len(task) == MESSAGE_LIMIT - 1204 - 4  # the other lines and the four newlines
    assert task == "y" * 299 + "…: " + "T" * (len(task) - 303) + "…"
    assert rendered.html.startswith("<b>HHH")
    assert "&amp;…</a>" in rendered.html
    assert rendered.html.endswith("&lt;&lt;…</i>")
    assert [e["type"] for e in shown.entities] == ["bold", "text_link", "italic"]


def test_it_shows_a_deal_without_a_url_as_text() -> None:
    rendered = render_card(card(deal_name="<ACME>", deal_url=None, rows=()))

    assert "💼 &lt;ACME&gt;\n" in rendered.html
    assert "<a " not in rendered.html


def test_it_escapes_a_text_message_and_keeps_its_rows() -> None:
    message = TextMessage(
        text="Не понял «<b>60x</b> & co». Пример: /remind 60m,15m",
        rows=((Button(label="Help", payload="h"),),),
    )

    rendered = render_card(message)

    assert rendered.html == "Не понял «&lt;b&gt;60x&lt;/b&gt; &amp; co». Пример: /remind 60m,15m"
    assert parsed(rendered.html).entities == ()
    assert rendered.keyboard is not None
    assert rendered.keyboard.model_dump(exclude_none=True) == {
        "inline_keyboard": [[{"text": "Help", "callback_data": "h"}]]
    }


def test_it_clips_a_long_text_message() -> None:
    rendered = render_card(TextMessage(text="&" * 5000))

    assert len(parsed(rendered.html).text) == MESSAGE_LIMIT
    assert rendered.html.endswith("&amp;…")


def test_it_refuses_a_payload_over_64_bytes() -> None:
    too_long = "t:z:7:" + "ж" * 30  # 66 bytes in UTF-8, 36 characters
    with pytest.raises(ValueError, match="64 bytes"):
        render_card(card(rows=((Button(label="x", payload=too_long),),)))


def test_it_refuses_a_button_that_does_nothing() -> None:
    with pytest.raises(ValueError, match="neither"):
        render_card(card(rows=((Button(label="x"),),)))
