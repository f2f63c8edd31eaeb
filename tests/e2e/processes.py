"""``amobridge run`` as real processes, for the proofs that kill them: configured by the
environment, started, killed with SIGKILL, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.store import Store

RUN = [sys.executable, "-c", "from bot.app.cli import main; main()", "run"]


def run_env(**settings: str) -> dict[str, str]:
    """This environment without any AMOBRIDGE_ variable, plus ``settings``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    return {**keep, "PYTHONUNBUFFERED": "1", **settings}


class ServiceProcess:
    """One replica: started (and ready when it prints its HTTP line), killed, started again."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env, self._cwd = env, cwd
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *RUN, env=self._env, cwd=self._cwd,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
            assert line, "amobridge run exited early"
            if line.startswith(b"HTTP:"):
                break
        # Keep reading, or a full pipe would stall the service's prints.
        self._reader = asyncio.create_task(self._drain(self.proc))

    @staticmethod
    async def _drain(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while await proc.stdout.readline():
            pass

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), timeout=30)
        if self._reader is not None:
            await self._reader


async def queues_empty(store: Store, queues: list[str]) -> bool:
    for queue in queues:
        if await store.count_due(queue):
            return False
    return True
