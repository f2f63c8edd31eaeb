"""Bot API errors and the response envelope.

aiogram picks its exception class from the HTTP status, so every error answers with the status
equal to its `error_code`; descriptions carry Telegram's prefixes ("Bad Request: ...").
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.telegram.records import JsonDict


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> ApiError:
    return ApiError(409, f"Conflict: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)


def ok_body(result: Any, description: str | None = None) -> JsonDict:
    body: JsonDict = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return body


def error_body(error: ApiError) -> JsonDict:
    body: JsonDict = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = dict(error.parameters)
    return body


def error_response(error: ApiError) -> web.Response:
    return web.json_response(error_body(error), status=error.code)
