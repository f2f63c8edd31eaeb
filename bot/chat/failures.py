"""What a person hears when their command or press failed on our side: a catalogue key chosen by
the kind of failure (exception text never reaches a person)."""

from __future__ import annotations

from bot.core import CrmError
from bot.store import StoreFull


def failure_key(exc: BaseException) -> str:
    """The catalogue key of the answer to a request that failed with ``exc``."""
    if isinstance(exc, CrmError) and exc.access_lost:
        return "error_amocrm_access_lost"
    if isinstance(exc, StoreFull):
        return "error_store_full"  # a condition to wait out: "try later", not "try again"
    return "error_generic"
