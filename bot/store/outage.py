"""A full store said once, not once a second: the loops that meet it log when it starts and when
it ends, without a traceback (it is an expected condition, not a bug)."""

from __future__ import annotations

import logging

from bot.store.protocol import StoreFull

log = logging.getLogger(__name__)


class FullStoreLog:
    """One loop's (or job's) view of whether the store is refusing writes for want of space."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.full = False

    def refused(self, exc: StoreFull) -> None:
        if not self.full:
            log.error("%s: the store is full, nothing is written until space returns: %s",
                      self._name, exc)  # fmt: skip
        self.full = True

    def worked(self) -> None:
        if self.full:
            log.warning("%s: the store takes writes again", self._name)
        self.full = False
