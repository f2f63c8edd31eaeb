"""The log's lines: stored as JSON arrays, and lines of the older JSON object form (written
before the arrays) read the same."""

from __future__ import annotations

from bot.reports.log import Activity, as_fact, decode, encode, parse_facts

REMINDER = Activity(id="r1", at=1000.5, kind="sent", person=7, channel="telegram",
                    subject="task:12", what="reminder", deadline=4600)  # fmt: skip
DONE = Activity(id="ev-9", at=2000.0, kind="task", person=7, subject="task:12",
                what="completed", deadline=4600, deal=3, text="Позвонить клиенту")  # fmt: skip


def test_a_line_is_an_array_and_reads_back_as_written() -> None:
    line = encode(DONE)

    assert line.startswith("[")
    assert "Позвонить" in line  # kept as text, not escaped
    assert decode(line) == DONE
    assert decode(encode(REMINDER)) == REMINDER


def test_lines_of_the_older_object_form_read_as_before() -> None:
    old = [entry.model_dump_json(exclude_none=True) for entry in (REMINDER, DONE)]
    mixed = [old[0], encode(DONE)]  # a day written across the upgrade

    assert [decode(line) for line in old] == [REMINDER, DONE]
    assert parse_facts(old) == parse_facts(mixed) == [as_fact(REMINDER), as_fact(DONE)]
