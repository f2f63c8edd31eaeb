from __future__ import annotations

import random

import pytest

from integrations.amocrm.errors import (
    AmoError,
    AmoNotFound,
    AmoRateLimited,
    AmoServerError,
    AmoTransportError,
    AmoValidationError,
)
from integrations.amocrm.transport import RetryPolicy

POLICY = RetryPolicy(max_attempts=5, backoff_base_s=0.5, backoff_max_s=4.0)


@pytest.mark.parametrize(
    ("error", "read", "write"),
    [
        (AmoRateLimited("429"), True, True),
        (AmoServerError("500", status=500), True, False),
        (AmoTransportError("connect", maybe_applied=False), True, True),
        (AmoTransportError("read timeout", maybe_applied=True), True, False),
        (AmoNotFound("404", status=404), False, False),
        (AmoValidationError("400", status=400), False, False),
    ],
)
def test_it_retries_reads_freely_and_writes_only_when_nothing_happened(
    error: AmoError, read: bool, write: bool
) -> None:
    assert POLICY.retryable(error, is_read=True) is read
    assert POLICY.retryable(error, is_read=False) is write


def test_it_backs_off_exponentially_with_jitter_up_to_a_ceiling() -> None:
    rng = random.Random(7)
    err = AmoServerError("500")
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)]:
        delays = [POLICY.delay(err, attempt, rng) for _ in range(50)]
        assert all(d is not None and ceiling / 2 <= d <= ceiling for d in delays)
    many = RetryPolicy(max_attempts=20, backoff_base_s=0.5, backoff_max_s=4.0)
    late = many.delay(err, 12, rng)
    assert late is not None
    assert late <= 4.0


def test_it_honours_retry_after_unless_it_is_too_long() -> None:
    rng = random.Random(1)
    assert POLICY.delay(AmoRateLimited("429", retry_after=1.5), 1, rng) == 1.5
    assert POLICY.delay(AmoRateLimited("429", retry_after=60), 1, rng) is None


def test_it_stops_after_max_attempts() -> None:
    assert POLICY.delay(AmoServerError("500"), 5, random.Random()) is None


def test_it_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetryPolicy(max_attempts=0)
