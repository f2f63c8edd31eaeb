"""``amobridge run`` as real processes, for the proofs that kill them: configured by the
environment, started, killed with SIGKILL, stopped with SIGTERM.

Each replica is its own OS process running the CLI's ``main`` (``amobridge run``), forked from a
fork server that has already imported the application: importing it (aiogram's types above all)
costs seconds of CPU per start, which a test that starts a dozen processes would pay for nothing.
What a kill proves is unchanged: the process dies at once, with whatever it had in memory.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
import signal
import sys
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from bot.store import Store

# Preloaded once per test session by the fork server, then shared by every child it forks.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["bot.app.cli", "bot.app.wiring"])
_EXIT_WAIT_S = 30.0


async def warm_up() -> None:
    """Start the fork server now (it imports the application once), so that a test can time what
    comes next without that one-off cost."""
    await asyncio.to_thread(forkserver.ensure_running)


def run_env(**settings: str) -> dict[str, str]:
    """This environment without any AMOBRIDGE_ variable, plus ``settings``."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    return {**keep, "PYTHONUNBUFFERED": "1", **settings}


def _run(env: dict[str, str], cwd: str, out: Connection) -> None:
    """The child: exactly ``amobridge run`` with ``env``, its stdout into ``out``."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    os.dup2(out.fileno(), 1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), line_buffering=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), line_buffering=True)
    sys.argv = ["amobridge", "run"]
    from bot.app.cli import main

    main()


class ServiceProcess:
    """One replica: started (and ready when it prints its HTTP line), killed, started again."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env, self._cwd = env, cwd
        self.proc: BaseProcess | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        out, into = _CONTEXT.Pipe(duplex=False)
        self.proc = _CONTEXT.Process(target=_run, args=(self._env, str(self._cwd), into))
        # The fork server starts (and imports the application) on the first use: off the loop.
        await asyncio.to_thread(self.proc.start)
        into.close()
        pipe = os.fdopen(os.dup(out.fileno()), "rb")  # the transport closes this copy
        out.close()
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), pipe
        )
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout=30)
            assert line, "amobridge run exited early"
            if line.startswith(b"HTTP:"):
                break
        # Keep reading, or a full pipe would stall the service's prints.
        self._reader = asyncio.create_task(self._drain(reader))

    @staticmethod
    async def _drain(reader: asyncio.StreamReader) -> None:
        while await reader.readline():
            pass

    async def _exited(self, timeout_s: float) -> None:
        assert self.proc is not None
        await asyncio.wait_for(asyncio.to_thread(self.proc.join), timeout=timeout_s)

    async def kill(self) -> None:
        assert self.proc is not None
        assert self.proc.pid is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await self._exited(_EXIT_WAIT_S)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.exitcode is None:
            assert self.proc.pid is not None
            os.kill(self.proc.pid, signal.SIGTERM)
            await self._exited(_EXIT_WAIT_S)
        if self._reader is not None:
            await self._reader


async def queues_empty(store: Store, queues: list[str]) -> bool:
    for queue in queues:
        if await store.count_due(queue):
            return False
    return True
