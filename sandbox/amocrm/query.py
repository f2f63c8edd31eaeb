"""PHP bracket query strings: `filter[x]=1`, `filter[x][]=1`, `filter[x][0]=1`, `a,b`, ranges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import qs_codec

from sandbox.amocrm.records import JsonDict


class QueryError(ValueError):
    """A query value the API would reject (answered as 400)."""


def parse_query(query_string: str) -> JsonDict:
    decoded = qs_codec.decode(query_string, qs_codec.DecodeOptions(depth=10))
    return decoded if isinstance(decoded, dict) else {}


def section(query: JsonDict, name: str) -> JsonDict:
    value = query.get(name)
    return value if isinstance(value, dict) else {}


def str_list(value: Any) -> list[str]:
    """Every encoding of a list: a scalar, `a,b`, `[]`, numbered (qs_codec turns big indexes
    into a dict, hence the dict case)."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [part for item in value for part in str_list(item)]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def to_int(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise QueryError(f"{name} must be an integer") from None


def int_list(value: Any, name: str) -> list[int] | None:
    """None when the filter is absent; a list (maybe empty) otherwise."""
    if value is None:
        return None
    return [to_int(item, name) for item in str_list(value)]


def flag(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    text = str(value).lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false"):
        return False
    raise QueryError(f"{name} must be 1 or 0")


@dataclass(frozen=True, slots=True)
class Range:
    """Inclusive bounds. A single timestamp means "at or after" it: amoCRM says "after", and
    inclusive bounds lose nothing at one-second granularity (callers dedupe anyway)."""

    low: int | None = None
    high: int | None = None

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        return (self.low is None or value >= self.low) and (
            self.high is None or value <= self.high
        )


def time_range(value: Any, name: str) -> Range | None:
    """`ts`, `[from]/[to]`, or `a,b`."""
    if value is None:
        return None
    if isinstance(value, dict):
        low, high = value.get("from"), value.get("to")
        return Range(
            None if low in (None, "") else to_int(low, name),
            None if high in (None, "") else to_int(high, name),
        )
    parts = str_list(value)
    if len(parts) == 1:
        return Range(to_int(parts[0], name), None)
    if len(parts) == 2:
        return Range(to_int(parts[0], name), to_int(parts[1], name))
    raise QueryError(f"{name} must be a timestamp, a from/to pair or 'a,b'")


def value_range(value: Any, name: str) -> Range | None:
    """Like `time_range`, except a single number means exactly that number."""
    if value is not None and not isinstance(value, dict) and len(str_list(value)) == 1:
        exact = to_int(str_list(value)[0], name)
        return Range(exact, exact)
    return time_range(value, name)


def status_pairs(value: Any, name: str) -> list[tuple[int, int | None]]:
    """`…[i][pipeline_id]` + `…[i][status_id]` items as (pipeline_id, status_id or None)."""
    items = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise QueryError(f"{name} must be a list of {{pipeline_id, status_id}}")
    pairs: list[tuple[int, int | None]] = []
    for item in items:
        status = item.get("status_id")
        pipeline = to_int(item.get("pipeline_id"), f"{name}[pipeline_id]")
        pairs.append((pipeline, None if status is None else to_int(status, f"{name}[status_id]")))
    return pairs


@dataclass(frozen=True, slots=True)
class Statuses:
    """A statuses filter: (pipeline_id, status_id) pairs, a None status_id meaning any status
    of the pipeline."""

    pairs: tuple[tuple[int, int | None], ...]

    def match(self, pipeline_id: int, status_id: int) -> bool:
        return any(pipeline_id == p and (s is None or status_id == s) for p, s in self.pairs)


@dataclass(frozen=True, slots=True)
class Filters:
    """A ``filter[...]`` section, each filter read by its name and, when it is bad, named as the
    query spells it (``label[name]``); an absent filter reads as None (or an empty list)."""

    values: JsonDict
    label: str = "filter"

    @classmethod
    def of(cls, query: JsonDict) -> Filters:
        return cls(section(query, "filter"))

    def _label(self, name: str) -> str:
        return f"{self.label}[{name}]"

    def __contains__(self, name: object) -> bool:
        return name in self.values

    def within(self, name: str) -> Filters:
        """A nested section (``filter[value_after][...]``); empty unless it is one."""
        return Filters(section(self.values, name), self._label(name))

    def strs(self, name: str) -> list[str]:
        return str_list(self.values.get(name))

    def ints(self, name: str, alias: str | None = None) -> list[int] | None:
        """``alias``: another name the same filter is sent under."""
        value = self.values.get(name, None if alias is None else self.values.get(alias))
        return int_list(value, self._label(name))

    def flag(self, name: str) -> bool | None:
        return flag(self.values.get(name), self._label(name))

    def times(self, name: str) -> Range | None:
        return time_range(self.values.get(name), self._label(name))

    def amounts(self, name: str) -> Range | None:
        return value_range(self.values.get(name), self._label(name))

    def statuses(self, name: str) -> Statuses | None:
        if name not in self.values:
            return None
        return Statuses(tuple(status_pairs(self.values[name], self._label(name))))


def with_set(query: JsonDict) -> set[str]:
    return set(str_list(query.get("with")))


def paging(query: JsonDict, *, max_limit: int, default_limit: int = 50) -> tuple[int, int]:
    """A page and a limit. A limit over the maximum is clamped to it, as seen in the wild
    (amocrm-api-php #210); a page below 1 is 1."""
    page = to_int(query.get("page") or 1, "page")
    limit = to_int(query.get("limit") or default_limit, "limit")
    return max(page, 1), min(max(limit, 1), max_limit)


def order(query: JsonDict, allowed: tuple[str, ...]) -> tuple[str, bool] | None:
    """The first `order[field]=asc|desc` with an allowed field, as (field, descending)."""
    for field, direction in section(query, "order").items():
        if field not in allowed:
            raise QueryError(f"order by {field} is not supported")
        if str(direction).lower() not in ("asc", "desc"):
            raise QueryError("order must be asc or desc")
        return field, str(direction).lower() == "desc"
    return None
