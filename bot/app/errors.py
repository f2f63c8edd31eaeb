"""Why the service could not start."""

from __future__ import annotations


class StartupError(Exception):
    """A configured part cannot start; the message says which and why (never a secret)."""
