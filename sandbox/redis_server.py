"""A private ``redis-server`` for the tests and the benchmarks: a free loopback port, a temporary
folder, no persistence; stopped and its folder removed by ``close``."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time


class RedisServerError(Exception):
    """No ``redis-server`` binary, or it did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """Start with ``RedisServer.start()``; ``url`` reaches it; ``close()`` stops it."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, workdir: str) -> None:
        self._proc = proc
        self._workdir = workdir
        self.url = f"redis://127.0.0.1:{port}/0"

    @classmethod
    def start(cls, *, prefix: str = "amobridge-redis-", timeout_s: float = 10.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError("redis-server not found")
        port, workdir = free_port(), tempfile.mkdtemp(prefix=prefix)
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        proc = subprocess.Popen(
            [binary, *args, "--dir", workdir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(proc, port, workdir)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return server
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    server.close()
                    raise RedisServerError("could not start redis-server") from None
                time.sleep(0.05)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        shutil.rmtree(self._workdir, ignore_errors=True)
