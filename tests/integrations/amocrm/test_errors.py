from __future__ import annotations

import httpx
import pytest

from integrations.amocrm.errors import (
    AmoAuthError,
    AmoError,
    AmoForbidden,
    AmoNotFound,
    AmoOAuthError,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoServerError,
    AmoTransportError,
    AmoValidationError,
    error_from_response,
    oauth_error_from_response,
    parse_retry_after,
    transport_error,
)
from tests.integrations.amocrm.fakes import invalid, problem, text

NGINX_403 = "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>nginx</body></html>"


def _map(response: httpx.Response) -> AmoError:
    return error_from_response(response, "GET", "/api/v4/tasks/{id}")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AmoAuthError),
        (402, AmoPaymentRequired),
        (403, AmoForbidden),
        (404, AmoNotFound),
        (400, AmoValidationError),
        (422, AmoValidationError),
        (429, AmoRateLimited),
        (500, AmoServerError),
        (503, AmoServerError),
        (405, AmoError),
    ],
)
def test_it_maps_problem_json_by_status(status: int, kind: type[AmoError]) -> None:
    err = _map(problem(status, "Title", "Some detail"))
    assert type(err) is kind
    assert err.status == status
    assert err.title == "Title"
    assert err.detail == "Some detail"
    assert err.request_id == "req-1"
    assert "/api/v4/tasks/{id}" in str(err)
    assert "Some detail" in str(err)


@pytest.mark.parametrize("status", [401, 402, 403, 404, 400, 429, 500, 502])
def test_it_maps_non_json_bodies_by_status_alone(status: int) -> None:
    err = _map(text(status, "oops, not json"))
    assert err.status == status
    assert err.title is None


def test_it_marks_an_html_403_as_a_flood_block() -> None:
    err = _map(text(403, NGINX_403, **{"content-type": "text/html"}))
    assert isinstance(err, AmoForbidden)
    assert err.blocked
    assert "blocked" in str(err)


def test_it_sees_html_without_a_content_type() -> None:
    err = _map(text(403, "<!DOCTYPE html><html><body>403</body></html>"))
    assert isinstance(err, AmoForbidden)
    assert err.blocked


def test_it_does_not_mark_a_rights_403_as_blocked() -> None:
    err = _map(problem(403, "Forbidden", "Access denied"))
    assert isinstance(err, AmoForbidden)
    assert not err.blocked


def test_it_reads_validation_issues() -> None:
    response = invalid(
        {
            "request_id": "0",
            "errors": [
                {
                    "code": "NotSupportedChoice",
                    "path": "custom_fields_values.0.field_id",
                    "detail": "The value you selected is not a valid choice.",
                },
                {"code": "InvalidType", "path": "complete_till", "detail": "int"},
            ],
        },
        {"request_id": 1, "errors": [{"code": "Missing", "path": "text"}]},
    )
    err = _map(response)
    assert isinstance(err, AmoValidationError)
    assert [(i.request_id, i.code, i.path) for i in err.issues] == [
        ("0", "NotSupportedChoice", "custom_fields_values.0.field_id"),
        ("0", "InvalidType", "complete_till"),
        ("1", "Missing", "text"),
    ]
    assert err.issues[0].detail == "The value you selected is not a valid choice."
    assert err.issues[2].detail is None
    assert "complete_till" in str(err)


def test_it_reads_retry_after_on_a_non_json_429() -> None:
    err = _map(text(429, "Too Many Requests", **{"retry-after": "2"}))
    assert isinstance(err, AmoRateLimited)
    assert err.retry_after == 2.0


def test_it_leaves_retry_after_unset_when_absent() -> None:
    err = _map(text(429, ""))
    assert isinstance(err, AmoRateLimited)
    assert err.retry_after is None


def test_it_parses_retry_after_forms() -> None:
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_it_tells_whether_a_transport_failure_may_have_applied() -> None:
    request = httpx.Request("PATCH", "https://demo.amocrm.ru/api/v4/tasks/1")
    refused = transport_error(httpx.ConnectError("refused", request=request), "PATCH", "/x")
    timed_out = transport_error(httpx.ReadTimeout("slow", request=request), "PATCH", "/x")
    assert isinstance(refused, AmoTransportError)
    assert not refused.maybe_applied
    assert timed_out.maybe_applied
    assert refused.status is None


def test_it_never_puts_the_token_in_a_message() -> None:
    request = httpx.Request(
        "GET", "https://demo.amocrm.ru/api/v4/tasks", headers={"Authorization": "Bearer s3cret"}
    )
    response = problem(401, "Unauthorized", "Неверный логин или пароль")
    response.request = request
    err = _map(response)
    lost = transport_error(httpx.ReadTimeout("timed out", request=request), "GET", "/api/v4/tasks")
    for e in (err, lost):
        assert "s3cret" not in str(e)
        assert "s3cret" not in repr(e)


def test_it_maps_an_oauth_refusal_with_its_hint() -> None:
    response = httpx.Response(
        400,
        json={
            "hint": "Token has been revoked",
            "title": "Некорректный запрос",
            "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
            "status": 400,
            "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
        },
    )
    err = oauth_error_from_response(response, "refresh_token")
    assert isinstance(err, AmoOAuthError)
    assert isinstance(err, AmoAuthError)
    assert err.hint == "Token has been revoked"
    assert err.status == 400
    assert "Token has been revoked" in str(err)


def test_it_maps_a_token_endpoint_5xx_as_a_server_error() -> None:
    err = oauth_error_from_response(text(502, "bad gateway"), "refresh_token")
    assert isinstance(err, AmoServerError)


@pytest.mark.parametrize(
    ("status", "maybe_applied", "in_flight"),
    [(500, True, False), (502, True, True), (503, True, True), (504, True, True),
     (429, False, False), (400, False, False)],
)  # fmt: skip
def test_it_tells_whether_an_answer_leaves_a_write_in_doubt(
    status: int, maybe_applied: bool, in_flight: bool
) -> None:
    """A 5xx may hide an applied write; only amoCRM's own 500 says it is done with it."""
    err = error_from_response(problem(status, "Error", "x"), "PATCH", "/api/v4/tasks/{id}")
    assert (err.maybe_applied, err.in_flight) == (maybe_applied, in_flight)


def test_a_write_sent_and_unanswered_may_still_be_under_way() -> None:
    request = httpx.Request("PATCH", "https://demo.amocrm.ru/api/v4/tasks/1")
    dropped = transport_error(httpx.RemoteProtocolError("gone", request=request), "PATCH", "/x")
    refused = transport_error(httpx.ConnectError("refused", request=request), "PATCH", "/x")
    assert (dropped.maybe_applied, dropped.in_flight) == (True, True)
    assert (refused.maybe_applied, refused.in_flight) == (False, False)
