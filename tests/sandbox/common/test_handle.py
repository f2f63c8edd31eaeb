from __future__ import annotations

import pytest

from sandbox.common.handle import Forward, Knob, Shown


class _Part:
    def __init__(self) -> None:
        self.name = "part"
        self.delays: tuple[float, ...] = ()

    def greet(self, who: str, *, loud: bool = False) -> str:
        """Say hello."""
        text = f"hello {who} from {self.name}"
        return text.upper() if loud else text


class _Handle:
    name = Shown[str]("_part", "name", "The part's name.")
    delays = Knob[tuple[float, ...]]("_part", "delays", coerce=tuple)
    greet = Forward("_part", _Part.greet)

    def __init__(self) -> None:
        self._part = _Part()


def test_an_attribute_is_read_from_the_part() -> None:
    handle = _Handle()
    handle._part.name = "changed"
    assert handle.name == "changed"
    assert _Handle.name.__doc__ == "The part's name."


def test_a_read_only_attribute_cannot_be_set() -> None:
    with pytest.raises(AttributeError):
        _Handle().name = "x"  # type: ignore[assignment]


def test_a_knob_sets_the_part_coerced() -> None:
    handle = _Handle()
    handle.delays = [0.1, 0.2]  # type: ignore[assignment]
    assert handle._part.delays == (0.1, 0.2)


def test_a_forwarded_method_runs_on_the_part() -> None:
    handle = _Handle()
    assert handle.greet("ann", loud=True) == "HELLO ANN FROM PART"
    assert _Handle.greet.__doc__ == "Say hello."
