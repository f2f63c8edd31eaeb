"""A Web API call's inputs, merged from every place Slack reads them, and its token.

slack_sdk sends each method its own way (a JSON body for chat.postMessage and views.*, the
query string of an empty POST for conversations.open, chat.delete and the files steps, a GET for
users.*), and Slack accepts form and query inputs for any method and a JSON body for most write
methods (``api.FORM_ONLY`` lists those it does not take one for), so query, form (urlencoded or
multipart) and JSON inputs are merged, the body's over the query's. Unknown parameters (bolt adds
``team_id``) are kept and ignored. The token comes from ``Authorization: Bearer`` or a
``token`` parameter of the query or a form: Slack does not read a token from a JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from sandbox.common.jsonbody import NotAnObject, json_object
from sandbox.slack.errors import ApiError
from sandbox.slack.records import JsonDict


class Params:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def given(self, name: str) -> bool:
        """Present and not empty (Slack treats an empty value as absent)."""
        return self._values.get(name) not in (None, "")

    def text(self, name: str) -> str | None:
        """The parameter as a string (a JSON number as its digits, a boolean as "true" or
        "false", an object or array as JSON); None when absent or empty."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def string(self, name: str) -> str:
        return self.text(name) or ""

    def flag(self, name: str) -> bool:
        return (self.text(name) or "").strip().lower() in ("true", "1")

    def integer(self, name: str, *, invalid: str = "invalid_arguments") -> int | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return int(raw.strip())
        except ValueError:
            raise ApiError(invalid) from None

    def structured(self, name: str, *, invalid: str) -> Any:
        """A JSON argument (``blocks``, ``view``, ``files``): the value itself from a JSON body,
        decoded from its JSON text from a form or query; None when absent. ``invalid`` is the
        error code for text that is not JSON."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(invalid) from None

    def logged(self) -> JsonDict:
        """What the request log keeps: everything but the token."""
        return {k: v for k, v in self._values.items() if k != "token"}


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def read_params(
    request: web.Request, *, takes_json: bool = True
) -> tuple[Params, str | None]:
    """The merged inputs and the token (None: none was given). A method documented with form
    and query inputs only (``takes_json`` False) refuses a JSON body with invalid_arguments:
    Slack does not read it, so the arguments it carries are missing."""
    values: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        kind = request.content_type
        if kind == "application/json" and not takes_json:
            if (await request.read()).strip():
                raise ApiError("invalid_arguments")
        elif kind == "application/json":
            try:
                body = json_object(await request.read())
            except NotAnObject:
                raise ApiError("invalid_json") from None
            body.pop("token", None)
            values.update(body)
        elif kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            values.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = _bearer(request) or (str(values["token"]) if values.get("token") else None)
    return Params(values), token
