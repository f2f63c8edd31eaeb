"""``amobridge`` commands as real processes, for the proofs that run, kill and stop them:
configured by the environment, killed with SIGKILL, stopped with SIGTERM or SIGINT.

Each is its own OS process running the CLI's ``main`` with the given words, forked from a fork
server that has already imported the application: importing it (aiogram's types above all) costs
seconds of CPU per start, which tests that start dozens of processes would pay for nothing. What
they prove is unchanged: the process has its own environment, working folder, standard streams,
exit code and signals, and a kill ends it at once with whatever it had in memory.
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


def service_env(
    amocrm_url: str, token: str, store_url: str, redis_prefix: str, **more: str
) -> dict[str, str]:
    """``run_env`` for ``amobridge run`` against the amoCRM emulator at ``amocrm_url`` with its
    long-lived ``token``, on loopback and a free port, plus ``more``."""
    return run_env(
        AMOBRIDGE_AMOCRM__BASE_URL=amocrm_url,
        AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN=token,
        AMOBRIDGE_STORE_URL=store_url,
        AMOBRIDGE_REDIS_KEY_PREFIX=redis_prefix,
        AMOBRIDGE_HTTP__HOST="127.0.0.1",
        AMOBRIDGE_HTTP__PORT="0",
        **more,
    )


def _child(
    args: list[str], env: dict[str, str], cwd: str, streams: tuple[Connection | None, ...]
) -> None:
    """In the forked process: exactly ``amobridge *args`` with ``env`` in ``cwd``; its standard
    input, output and error the given pipe ends (None: /dev/null)."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, end in enumerate(streams):
        os.dup2(end.fileno() if end is not None else os.open(os.devnull, os.O_RDWR), fd)
    sys.stdin = io.TextIOWrapper(os.fdopen(0, "rb", buffering=0))
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), line_buffering=True)
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), line_buffering=True)
    sys.argv = ["amobridge", *args]
    from bot.app.cli import main

    main()


async def _reading(end: Connection) -> asyncio.StreamReader:
    pipe = os.fdopen(os.dup(end.fileno()), "rb")  # the transport closes this copy
    end.close()
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), pipe
    )
    return reader


async def _writing(end: Connection) -> asyncio.StreamWriter:
    pipe = os.fdopen(os.dup(end.fileno()), "wb")
    end.close()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe)
    return asyncio.StreamWriter(transport, protocol, None, loop)


class Forked:
    """A started ``amobridge`` process, read and driven like ``asyncio.subprocess.Process``."""

    def __init__(self, proc: multiprocessing.process.BaseProcess) -> None:
        self._proc = proc
        self.stdin: asyncio.StreamWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None

    @property
    def returncode(self) -> int | None:
        return self._proc.exitcode

    def send_signal(self, sig: int) -> None:
        assert self._proc.pid is not None
        os.kill(self._proc.pid, sig)

    async def wait(self) -> int:
        await asyncio.to_thread(self._proc.join)
        assert self._proc.exitcode is not None
        return self._proc.exitcode

    async def communicate(self, given: bytes | None = None) -> tuple[bytes, bytes]:
        if self.stdin is not None:
            if given:
                self.stdin.write(given)
                await self.stdin.drain()
            self.stdin.close()
        assert self.stdout is not None
        assert self.stderr is not None  # a caller that reads the error asks for it
        out, err = await asyncio.gather(self.stdout.read(), self.stderr.read())
        await self.wait()
        return out, err


async def forked(
    *args: str, env: dict[str, str], cwd: Path, stdin: bool = False, stderr: bool = True
) -> Forked:
    """``amobridge`` with ``args`` as a process of its own, its output (and input, and error
    unless ``stderr`` is False) piped."""
    pipes = [_CONTEXT.Pipe(duplex=False) for _ in range(3)]  # (read end, write end) each
    child_ends = (pipes[0][0] if stdin else None, pipes[1][1], pipes[2][1] if stderr else None)
    proc = _CONTEXT.Process(target=_child, args=(list(args), env, str(cwd), child_ends))
    # The fork server starts (and imports the application) on the first use: off the loop.
    await asyncio.to_thread(proc.start)
    for end in child_ends:
        if end is not None:
            end.close()
    started = Forked(proc)
    if stdin:
        started.stdin = await _writing(pipes[0][1])
    else:
        pipes[0][0].close()
        pipes[0][1].close()
    started.stdout = await _reading(pipes[1][0])
    if stderr:
        started.stderr = await _reading(pipes[2][0])
    else:
        pipes[2][0].close()
        pipes[2][1].close()
    return started


class ServiceProcess:
    """One replica (``amobridge run``): started (and ready when it prints its HTTP line),
    killed, started again."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self._env, self._cwd = env, cwd
        self.proc: Forked | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await forked("run", env=self._env, cwd=self._cwd, stderr=False)
        assert self.proc.stdout is not None
        while True:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
            assert line, "amobridge run exited early"
            if line.startswith(b"HTTP:"):
                break
        # Keep reading, or a full pipe would stall the service's prints.
        self._reader = asyncio.create_task(self._drain(self.proc))

    @staticmethod
    async def _drain(proc: Forked) -> None:
        assert proc.stdout is not None
        await proc.stdout.read()

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), timeout=_EXIT_WAIT_S)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), timeout=_EXIT_WAIT_S)
        if self._reader is not None:
            await self._reader


async def queues_empty(store: Store, queues: list[str]) -> bool:
    for queue in queues:
        if await store.count_due(queue):
            return False
    return True
