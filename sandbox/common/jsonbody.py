"""A request's JSON body read as the services read it: an object, or nothing (an empty body)."""

from __future__ import annotations

import json
from typing import Any


class NotAnObject(ValueError):
    """A JSON body that is not an object; ``parsed``: it was JSON (an array, a number…)."""

    def __init__(self, *, parsed: bool) -> None:
        super().__init__("JSON body is not an object" if parsed else "body is not JSON")
        self.parsed = parsed


def json_object(raw: bytes) -> dict[str, Any]:
    """The body's object; an empty (or blank) body is ``{}``; NotAnObject for anything else."""
    try:
        decoded = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise NotAnObject(parsed=False) from None
    if not isinstance(decoded, dict):
        raise NotAnObject(parsed=True)
    return decoded
