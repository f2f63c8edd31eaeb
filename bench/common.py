"""What the benchmarks that measure a run of some size share: their command line.

A benchmark is run as ``python bench/X.py``, so this file is found next to it on ``sys.path``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sized:
    """A run's size: given as ``option`` (counting ``what``), else ``quick`` with ``--quick``
    (which then takes about ``quick_takes``), else ``full``."""

    option: str
    what: str
    quick: int
    full: int
    quick_takes: str

    def main(self, doc: str | None, run: Callable[[int], Coroutine[Any, Any, Any]]) -> None:
        """Run ``run`` on the size the command line asks for and print its figures as one
        JSON object: the last line a benchmark prints."""
        parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
        quick_help = f"{self.quick} {self.what} ({self.quick_takes})"
        parser.add_argument("--quick", action="store_true", help=quick_help)
        parser.add_argument(self.option, type=int, default=None, help=self.what)
        args = parser.parse_args()
        given = getattr(args, self.option.removeprefix("--").replace("-", "_"))
        size = given or (self.quick if args.quick else self.full)
        print(json.dumps(asyncio.run(run(size))))
