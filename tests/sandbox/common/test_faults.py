from __future__ import annotations

import pytest

from sandbox.common.faults import FaultQueue, checked_kind


def test_a_fault_answers_its_count_of_matching_calls_oldest_first() -> None:
    queue: FaultQueue[str] = FaultQueue()
    queue.push("a", 2)
    queue.push("b", 1)
    assert queue.pending == 3
    assert queue.take_first(lambda f: f == "b") == "b"
    assert [queue.take_first(lambda f: True) for _ in range(3)] == ["a", "a", None]
    assert (queue.pending, queue.injected) == (0, 3)


def test_clear_drops_the_pending_faults() -> None:
    queue: FaultQueue[str] = FaultQueue()
    queue.push("a", 5)
    queue.clear()
    assert queue.pending == 0
    assert queue.take_first(lambda f: True) is None


def test_an_unknown_kind_is_refused_naming_the_known_ones() -> None:
    assert checked_kind("500", ("500", "503")) == "500"
    with pytest.raises(ValueError, match=r"unknown fault kind 'x'; one of \('500', '503'\)"):
        checked_kind("x", ("500", "503"))
