from __future__ import annotations

from sandbox.common.ratelimit import SlidingWindow, TokenBucket, limits_from, retry_after_s


def test_a_bucket_starts_full_and_refills_at_its_rate() -> None:
    bucket = TokenBucket(2, 1.0, now=0.0)
    assert [bucket.try_take(0.0), bucket.try_take(0.0)] == [0.0, 0.0]
    assert bucket.try_take(0.0) == 1.0  # refused, nothing taken
    assert bucket.wait_s(0.5) == 0.5
    assert bucket.try_take(1.0) == 0.0


def test_a_clock_set_back_mints_no_tokens() -> None:
    bucket = TokenBucket(1, 1.0, now=10.0)
    bucket.take(10.0)
    assert bucket.wait_s(5.0) == 1.0


def test_a_window_counts_takes_within_its_span() -> None:
    window = SlidingWindow(2, 60.0)
    window.take(0.0)
    window.take(10.0)
    assert window.wait_s(30.0) == 30.0
    assert window.wait_s(60.0) == 0.0


def test_limits_from_reads_true_false_and_given_limits() -> None:
    assert limits_from(True, lambda: "default") == "default"
    assert limits_from(False, lambda: "default") is None
    assert limits_from(None, lambda: "default") is None
    assert limits_from("mine", lambda: "default") == "mine"


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after_s(0.1), retry_after_s(1.0), retry_after_s(1.2)] == [1, 1, 2]
