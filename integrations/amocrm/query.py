"""PHP bracket query encoding, as amoCRM's PHP SDK sends it (``http_build_query``).

``{"filter": {"id": [1, 2], "is_completed": False}}`` becomes
``filter%5Bid%5D%5B0%5D=1&filter%5Bid%5D%5B1%5D=2&filter%5Bis_completed%5D=0``: numbered list
indexes, booleans as 1/0, brackets percent-encoded, None left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias
from urllib.parse import urlencode

QueryScalar: TypeAlias = str | int | float | bool
QueryValue: TypeAlias = "QueryScalar | Sequence[QueryValue] | Mapping[str, QueryValue] | None"


def _scalar(value: QueryScalar) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _flatten(key: str, value: QueryValue, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub, item in value.items():
            _flatten(f"{key}[{sub}]", item, out)
    elif isinstance(value, str | int | float):
        out.append((key, _scalar(value)))
    else:
        for index, item in enumerate(value):
            _flatten(f"{key}[{index}]", item, out)


def bracket_pairs(params: Mapping[str, QueryValue]) -> list[tuple[str, str]]:
    """The flat ``(key, value)`` pairs of a nested parameter mapping, in order."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(key, value, out)
    return out


def encode_query(params: Mapping[str, QueryValue]) -> str:
    """The query string (no leading ``?``), encoded as PHP's ``http_build_query`` does."""
    return urlencode(bracket_pairs(params))
