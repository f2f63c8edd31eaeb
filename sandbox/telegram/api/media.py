"""sendPhoto and sendDocument: uploads (multipart, directly or via attach://) or a known file_id.

The bytes and the file name are kept, so a test can check what a report really contained.
"""

from __future__ import annotations

import mimetypes
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from sandbox.telegram.api.common import check_writable, post_bot_message, resolve_chat
from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import ApiError, bad_request
from sandbox.telegram.formatting import format_text
from sandbox.telegram.images import image_size
from sandbox.telegram.keyboard import read_reply_markup
from sandbox.telegram.params import Params, Upload
from sandbox.telegram.records import FileKind, FileRecord, JsonDict

_MAX_BYTES: Final = MappingProxyType({"photo": 10 * 1024 * 1024, "document": 50 * 1024 * 1024})


def _mime_type(upload: Upload, name: str) -> str:
    given = (upload.content_type or "").split(";")[0].strip().lower()
    if given and given != "application/octet-stream":
        return given
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _uploaded(ctx: BotContext, kind: FileKind, upload: Upload) -> FileRecord:
    if not upload.data:
        raise bad_request("file must be non-empty")
    if len(upload.data) > _MAX_BYTES[kind]:
        raise ApiError(413, "Request Entity Too Large")
    width = height = 0
    if kind == "photo":
        size = image_size(upload.data)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
    name = upload.filename or upload.field
    file_id, unique_id = ctx.state.new_file_ids()
    record = FileRecord(
        file_id=file_id,
        file_unique_id=unique_id,
        kind=kind,
        file_name=name,
        mime_type=_mime_type(upload, name),
        data=upload.data,
        width=width,
        height=height,
    )
    ctx.state.files[file_id] = record
    return record


def _by_reference(ctx: BotContext, kind: FileKind, reference: str) -> FileRecord:
    known = ctx.state.files.get(reference)
    if known is not None:
        if known.kind != kind:
            raise bad_request(
                f"can't use file of type {known.kind.capitalize()} as {kind.capitalize()}"
            )
        return known
    if urlsplit(reference).scheme in ("http", "https"):
        # The emulator has no way out to fetch a URL, as a sandbox should.
        raise bad_request("failed to get HTTP URL content")
    raise bad_request("wrong file identifier/HTTP URL specified")


async def _send_file(ctx: BotContext, params: Params, kind: FileKind) -> JsonDict:
    entities = params.json("caption_entities", invalid="can't parse entities JSON object")
    caption = format_text(
        params.text("caption"), params.text("parse_mode"), entities, kind="caption"
    )
    markup = read_reply_markup(params)
    chat = resolve_chat(ctx, params)
    check_writable(ctx, chat)
    source = params.file(kind)
    if source is None:
        raise bad_request(f"there is no {kind} in the request")
    record = (
        _uploaded(ctx, kind, source)
        if isinstance(source, Upload)
        else _by_reference(ctx, kind, source)
    )
    return post_bot_message(ctx, chat, caption, markup, record)


async def send_photo(ctx: BotContext, params: Params) -> JsonDict:
    return await _send_file(ctx, params, "photo")


async def send_document(ctx: BotContext, params: Params) -> JsonDict:
    return await _send_file(ctx, params, "document")


DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024  # the Bot API hands out files up to 20 MB


async def get_file(ctx: BotContext, params: Params) -> JsonDict:
    """getFile: where a file the bot received (or sent) can be downloaded."""
    record = ctx.state.files.get(params.text("file_id") or "")
    if record is None:
        raise bad_request("invalid file_id")
    if record.size > DOWNLOAD_LIMIT:
        raise bad_request("file is too big")
    return {
        "file_id": record.file_id,
        "file_unique_id": record.file_unique_id,
        "file_size": record.size,
        "file_path": record.file_path,
    }
