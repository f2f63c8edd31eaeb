"""sendPhoto and sendDocument: multipart uploads keep their bytes and names."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import FakeClock, api_error, png

XLSX_BYTES = b"PK\x03\x04" + bytes(range(256)) * 4


async def test_a_document_keeps_its_bytes_name_and_caption(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    sent = await bot.send_document(
        ivan,
        BufferedInputFile(XLSX_BYTES, filename="export-2026-01.xlsx"),
        caption="<b>Export</b> for January",
    )
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.file_size) == (
        "export-2026-01.xlsx",
        len(XLSX_BYTES),
    )
    assert sent.document.mime_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert sent.caption == "Export for January"
    stored = tg.message(ivan, sent.message_id)
    assert stored.document is not None
    assert stored.document.data == XLSX_BYTES
    assert (stored.document_name, stored.text, stored.html) == (
        "export-2026-01.xlsx",
        "Export for January",
        "<b>Export</b> for January",
    )
    assert tg.file(sent.document.file_id).data == XLSX_BYTES


async def test_a_photo_keeps_its_bytes_and_reports_its_size(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    image = png(64, 32)
    sent = await bot.send_photo(ivan, BufferedInputFile(image, filename="report.png"))
    assert sent.photo is not None
    (size,) = sent.photo
    assert (size.width, size.height, size.file_size) == (64, 32, len(image))
    stored = tg.message(ivan, sent.message_id)
    assert stored.photo is not None
    assert stored.photo.data == image
    assert stored.photo_name == "report.png"
    assert stored.text == ""


async def test_a_sent_file_can_be_sent_again_by_file_id(
    tg: TelegramEmulator, bot: Bot, ivan: int, clock: FakeClock
) -> None:
    first = await bot.send_document(ivan, BufferedInputFile(b"data", filename="a.csv"))
    assert first.document is not None
    clock.advance(1)
    again = await bot.send_document(ivan, first.document.file_id)
    assert again.document is not None
    assert again.document.file_id == first.document.file_id
    clock.advance(1)
    error = await api_error(TelegramBadRequest, bot.send_photo(ivan, first.document.file_id))
    assert error.message == "Bad Request: can't use file of type Document as Photo"


async def test_bytes_that_are_no_image_are_not_a_photo(bot: Bot, ivan: int) -> None:
    error = await api_error(
        TelegramBadRequest, bot.send_photo(ivan, BufferedInputFile(b"not a png", filename="x"))
    )
    assert error.message == "Bad Request: IMAGE_PROCESS_FAILED"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("https://example.com/chart.png", "Bad Request: failed to get HTTP URL content"),
        ("AgACAgIAAxkBAAIBunknown", "Bad Request: wrong file identifier/HTTP URL specified"),
    ],
)
async def test_unknown_references_are_refused(
    bot: Bot, ivan: int, reference: str, message: str
) -> None:
    error = await api_error(TelegramBadRequest, bot.send_document(ivan, reference))
    assert error.message == message


async def test_a_long_caption_is_refused(bot: Bot, ivan: int) -> None:
    error = await api_error(
        TelegramBadRequest,
        bot.send_document(ivan, BufferedInputFile(b"x", filename="x.txt"), caption="я" * 1025),
    )
    assert error.message == "Bad Request: message caption is too long"


async def test_a_person_sends_a_document_and_the_bot_downloads_it(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await tg.send_document(ivan, "set-up.yaml", b"version: 1\n", caption="/config import",
                           mime_type="application/x-yaml")  # fmt: skip
    [update] = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.document is not None
    assert message.document.file_name == "set-up.yaml"
    assert message.caption == "/config import"
    assert message.caption_entities is not None
    assert message.caption_entities[0].type == "bot_command"

    downloaded = await bot.download(message.document)

    assert downloaded is not None
    assert downloaded.read() == b"version: 1\n"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file")


async def test_a_file_over_20_mb_cannot_be_downloaded(
    tg: TelegramEmulator, bot: Bot, ivan: int
) -> None:
    await tg.send_document(ivan, "huge.bin", b"\0" * (20 * 1024 * 1024 + 1))
    [update] = await bot.get_updates()
    assert update.message is not None
    assert update.message.document is not None

    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.get_file(update.message.document.file_id)
