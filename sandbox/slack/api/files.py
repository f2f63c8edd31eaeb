"""The upload steps files_upload_v2 takes: files.getUploadURLExternal gives an upload URL on
the emulator, the bytes are POSTed there, and files.completeUploadExternal finishes the upload
and shares the files into a channel as one message (its text the ``initial_comment``)."""

from __future__ import annotations

from sandbox.slack.api.common import postable
from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict


async def upload_url(ctx: Context, params: Params) -> JsonDict:
    name = params.string("filename")
    length = params.integer("length")
    if not name or length is None or length < 1:
        raise ApiError("invalid_arguments")
    upload = ctx.ws.start_upload(name, length)
    return {"upload_url": f"{ctx.base_url()}/_upload/{upload.id}", "file_id": upload.id}


async def complete_upload(ctx: Context, params: Params) -> JsonDict:
    ws = ctx.ws
    items = params.structured("files", invalid="invalid_arguments")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ApiError("invalid_arguments")
    uploads = [ws.uploads.get(str(item.get("id"))) for item in items]
    targets = [params.string("channel_id")] if params.given("channel_id") else []
    targets += [c.strip() for c in params.string("channels").split(",") if c.strip()]
    channels = [postable(ws, ref) for ref in targets]
    ready = [u for u in uploads if u is not None and u.data is not None]
    if len(ready) != len(items):  # never issued, already completed, or no bytes came
        raise ApiError("file_not_found")
    done = [ws.complete_upload(upload, str(item.get("title") or upload.name))
            for item, upload in zip(items, ready, strict=True)]  # fmt: skip
    comment = params.string("initial_comment")
    for channel in channels:
        shared = [ws.share_file(f.id, channel.id).to_json() for f in done]
        ws.post(channel.id, comment, [], thread_ts=params.text("thread_ts"), files=tuple(shared))
    return {"files": [ws.files[f.id].to_json() for f in done]}
