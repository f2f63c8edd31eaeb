"""Redis restarted under a running service: a webhook that cannot be stored meanwhile is answered
503 (amoCRM sends it again), and once Redis is back the change still reaches the manager and what
was stored before is still there."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.helpers import link, says

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class RedisServer:
    """A redis-server of this test's own, with an append-only file so that a restart keeps
    what it had (as a deployment that cares for its data runs it)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is missing: run scripts/test"
        self._binary, self._workdir = binary, workdir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self._workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def store_url(private_redis: RedisServer) -> str:
    return private_redis.url


@pytest.fixture
def messengers() -> tuple[str, ...]:
    return ("telegram",)


async def test_a_redis_restart_loses_nothing_and_a_webhook_meanwhile_gets_503(
    service: Service,
    tg: TelegramEmulator,
    amo: AmoEmulator,
    demo: DemoIds,
    private_redis: RedisServer,
) -> None:
    ivan = await link(service, tg, demo.ivan, "Ivan")

    private_redis.stop()
    tomorrow = int(time.time()) + 86_400
    task_id = amo.add_task("Call Umbrella during the outage", responsible_user_id=demo.ivan,
                           complete_till=tomorrow, by_user=demo.maria)  # fmt: skip
    body = f"account[subdomain]=demo&account[id]={amo.account_id}&task[add][0][id]={task_id}"
    async with httpx.AsyncClient(base_url=service.base_url) as http:
        answer = await http.post(f"/amocrm/webhook/{WEBHOOK_SECRET}", content=body, headers=FORM)
    assert answer.status_code == 503

    private_redis.start()
    # The events poll (or amoCRM's retry) brings the change in once Redis answers again.
    alert = await says(tg, ivan, "New task from Maria Ivanova")
    assert "Call Umbrella during the outage" in alert.text
    assert service.services is not None
    assert await service.services.links.of_user(demo.ivan)  # the link made before is kept
