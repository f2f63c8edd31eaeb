"""The form-encoded body of one webhook POST: the account block, then `{entity}[{action}][0][…]`
items where every value is a string (reference §6)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode


def encode_hook(
    *,
    subdomain: str,
    account_id: int,
    account_url: str,
    entity: str,
    actions: Mapping[str, Mapping[str, str]],
) -> str:
    pairs: list[tuple[str, str]] = [
        ("account[subdomain]", subdomain),
        ("account[id]", str(account_id)),
        ("account[_links][self]", account_url),
    ]
    for action, fields in actions.items():
        prefix = f"{entity}[{action}][0]"
        for name, value in fields.items():
            # A dotted name nests: "result.text" -> [result][text].
            path = "".join(f"[{part}]" for part in name.split("."))
            pairs.append((prefix + path, value))
    return urlencode(pairs)
