"""A loop's failures: amoCRM's documented answers said once, as a line; bugs keep a traceback."""

from __future__ import annotations

import logging

import pytest

from bot.core import CrmError, FailureNote, log_failure

log = logging.getLogger("tests.failures")


class Refused(CrmError):
    access_lost = True
    expected = True


class Down(CrmError):
    expected = True


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, bool]]:
    return [(r.getMessage(), r.exc_info is not None) for r in caplog.records]


def test_it_says_an_expected_failure_once_until_it_changes_or_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    note = FailureNote(log, "reminders")
    for tick in range(5):
        note.failed(Refused("GET /api/v4/account -> 401"), item=f"item-{tick}")
    note.failed(Down("GET /api/v4/account -> 503"))
    note.failed(Down("GET /api/v4/account -> 503"))
    note.worked()
    note.worked()
    note.failed(Down("GET /api/v4/account -> 503"))
    assert lines(caplog) == [
        ("reminders: held up by amoCRM's answer GET /api/v4/account -> 401 (Refused); "
         "said once until it changes", False),
        ("reminders: held up by amoCRM's answer GET /api/v4/account -> 503 (Down); "
         "said once until it changes", False),
        ("reminders: working again", False),
        ("reminders: held up by amoCRM's answer GET /api/v4/account -> 503 (Down); "
         "said once until it changes", False),
    ]  # fmt: skip


def test_a_bug_keeps_its_traceback_every_time(caplog: pytest.LogCaptureFixture) -> None:
    note = FailureNote(log, "reminders")
    note.failed(KeyError("task"), item="a")
    note.failed(KeyError("task"), item="b")
    note.failed(CrmError("400: a field amobridge got wrong"), item="c")
    assert lines(caplog) == [
        ("reminders failed on a", True),
        ("reminders failed on b", True),
        ("reminders failed on c", True),
    ]


def test_a_request_failing_on_an_expected_answer_is_a_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log_failure(log, Refused("token refused"), "update %s failed", 7)
    log_failure(log, ValueError("bug"), "update %s failed", 8)
    assert [(r.levelname, r.getMessage(), r.exc_info is not None) for r in caplog.records] == [
        ("WARNING", "update 7 failed: token refused", False),
        ("ERROR", "update 8 failed", True),
    ]
