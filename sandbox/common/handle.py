"""An emulator handle's attributes and methods that one of its parts keeps: declared once, as
``timeout_s = Knob[float]("_hooks", "timeout_s")``, instead of a property (or a method) a line
of which only passes the call on."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Concatenate, Generic, Never, ParamSpec, Self, TypeVar, cast, overload

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
V = TypeVar("V")


class OfHandle(Generic[V]):
    """A descriptor whose value on a handle ``_of`` works out (on the class: the descriptor)."""

    @overload
    def __get__(self, handle: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, handle: object, owner: type[Any]) -> V: ...
    def __get__(self, handle: object | None, owner: type[Any]) -> Self | V:
        return self if handle is None else self._of(handle)

    def _of(self, handle: object) -> V:
        raise NotImplementedError


class Shown(OfHandle[T]):
    """A read-only attribute: ``part`` names the handle's attribute that holds the part,
    ``name`` the part's attribute."""

    def __init__(self, part: str, name: str, doc: str | None = None) -> None:
        self._part = part
        self._name = name
        self.__doc__ = doc

    def _of(self, handle: object) -> T:
        return cast(T, getattr(getattr(handle, self._part), self._name))

    def __set__(self, handle: object, value: Never) -> None:
        # Without it, setting would quietly hide the part's value behind the handle's own.
        raise AttributeError(f"{self._name} is read-only")


class Knob(Shown[T]):
    """A read-write attribute (a setting a test may change while the emulator runs);
    ``coerce`` makes what is set into what the part keeps (``tuple``: a list given is copied)."""

    def __init__(
        self, part: str, name: str, doc: str | None = None, coerce: Callable[[T], T] | None = None
    ) -> None:
        super().__init__(part, name, doc)
        self._coerce = coerce

    def __set__(self, handle: object, value: T) -> None:
        kept = value if self._coerce is None else self._coerce(value)
        setattr(getattr(handle, self._part), self._name, kept)


class Forward(OfHandle[Callable[P, R]], Generic[P, R]):
    """A method the part carries out as it is, arguments and answer unchanged."""

    def __init__(self, part: str, method: Callable[Concatenate[Any, P], R]) -> None:
        self._part = part
        self._method = method
        self.__doc__ = method.__doc__

    def _of(self, handle: object) -> Callable[P, R]:
        return partial(self._method, getattr(handle, self._part))
