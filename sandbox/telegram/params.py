"""Method parameters from any encoding the Bot API accepts, coerced per parameter.

Like the real server, every value is first reduced to a string (JSON bodies included: numbers
as text, booleans as "true"/"false", objects and arrays JSON-encoded), so a parameter reads the
same whether it came from the query string, a form, a multipart body or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import hdrs

from sandbox.common.jsonbody import NotAnObject, json_object
from sandbox.telegram.errors import bad_request

_ATTACH = "attach://"


@dataclass(frozen=True, slots=True)
class Upload:
    """A file part of a multipart body."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    def __init__(self, values: Mapping[str, str | Upload]) -> None:
        self._values = dict(values)

    def names(self) -> frozenset[str]:
        return frozenset(self._values)

    def text(self, name: str) -> str | None:
        """The parameter as a string; None when absent (an uploaded file is not text)."""
        value = self._values.get(name)
        return value if isinstance(value, str) else None

    def given(self, name: str) -> bool:
        """Present and non-empty: the real server treats an empty value as absent."""
        value = self._values.get(name)
        return isinstance(value, Upload) or bool(value)

    def integer(self, name: str) -> int | None:
        raw = self.text(name)
        if raw is None or not raw.strip():
            return None
        try:
            return int(raw.strip())
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        raw = self.text(name)
        return raw is not None and raw.strip().lower() in ("true", "1")

    def json(self, name: str, *, invalid: str) -> Any:
        """The decoded JSON value; None when absent. `invalid` is the 400 message on bad JSON."""
        raw = self.text(name)
        if raw is None or not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request(invalid) from None

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (directly or through "attach://<part>"), or a file_id/URL string."""
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith(_ATTACH):
            attached = self._values.get(value[len(_ATTACH) :])
            if not isinstance(attached, Upload):
                raise bad_request(f"file {value!r} not found in the request")
            return attached
        return value or None

    def chat_hint(self) -> int | None:
        """The chat a call is about, for the request log (never raises)."""
        raw = self.text("chat_id")
        try:
            return int(raw) if raw is not None else None
        except ValueError:
            return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("strings must be encoded in UTF-8") from None


async def _multipart(
    headers: Mapping[str, str], content: aiohttp.StreamReader
) -> dict[str, str | Upload]:
    values: dict[str, str | Upload] = {}
    reader = aiohttp.MultipartReader(headers, content)
    while True:
        part = await reader.next()
        if part is None:
            return values
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue  # nested multipart bodies carry nothing the Bot API reads
        data = bytes(await part.read(decode=True))
        if part.filename is not None:
            values[part.name] = Upload(
                part.name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), data
            )
        else:
            values[part.name] = _decode(data)


async def read_params(
    headers: Mapping[str, str], content: aiohttp.StreamReader, query: Mapping[str, str]
) -> Params:
    """Query-string parameters, overridden by those of the body (JSON, form or multipart)."""
    values: dict[str, str | Upload] = dict(query)
    content_type = headers.get(hdrs.CONTENT_TYPE, "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        values.update(await _multipart(headers, content))
    elif content_type == "application/x-www-form-urlencoded":
        body = _decode(await content.read())
        values.update(parse_qsl(body, keep_blank_values=True))
    elif content_type == "application/json":
        try:
            decoded = json_object(await content.read())
        except NotAnObject as exc:
            if exc.parsed:
                raise bad_request("JSON encoded request body must be an object") from None
            raise bad_request("can't parse JSON encoded request body") from None
        for name, value in decoded.items():
            text = _as_text(value)
            if text is not None:
                values[name] = text
    return Params(values)
