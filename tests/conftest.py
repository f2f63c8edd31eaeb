"""Shared fixtures: a real Redis server for the whole session, and clean environments.

Redis: ``AMOBRIDGE_TEST_REDIS_URL`` names one (scripts/test sets it); otherwise a private
``redis-server`` is started on a free loopback port and stopped at the end. No Redis binary is a
hard failure, never a skip: scripts/test installs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sandbox.redis_server import RedisServer, RedisServerError


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    given = os.environ.get("AMOBRIDGE_TEST_REDIS_URL")
    if given:
        yield given
        return
    try:
        server = RedisServer.start()
    except RedisServerError as exc:
        pytest.fail(f"{exc}: run scripts/test, or set AMOBRIDGE_TEST_REDIS_URL")
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of its own per test, so tests never see each other's keys."""
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No stray configuration or proxy reaches a test (slack_sdk reads proxies, bolt SLACK_*)."""
    for name in list(os.environ):
        if name.startswith(("AMOBRIDGE_", "SLACK_")) and name != "AMOBRIDGE_TEST_REDIS_URL":
            monkeypatch.delenv(name)
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.delenv(name)


# --- a watchdog for a test that never ends -------------------------------------------------
# A test (its teardown included) still running after this long gets the stacks of its event
# loop's tasks written to the terminal (past pytest's capture), once: a hang in CI then says
# where it waits.
STUCK_AFTER_S = 150.0
_watch: dict[str, Any] = {"loop": None, "test": None, "since": 0.0, "told": None}


@pytest.fixture(autouse=True)
async def _watched_loop() -> None:
    _watch["loop"] = asyncio.get_running_loop()


def pytest_runtest_protocol(item: pytest.Item) -> None:
    _watch.update(test=item.nodeid, since=time.monotonic(), loop=None)


def _watchdog(write: Callable[[str], object]) -> None:
    while True:
        time.sleep(10)
        test, loop = _watch["test"], _watch["loop"]
        stuck = time.monotonic() - _watch["since"] > STUCK_AFTER_S
        if not stuck or loop is None or _watch["told"] == test:
            continue
        _watch["told"] = test
        lines = [f"\n=== {test} has run over {STUCK_AFTER_S:.0f} s; its tasks:\n"]
        with contextlib.suppress(RuntimeError):  # the set changed while read: next time
            for task in list(asyncio.all_tasks(loop)):
                lines.append(f"--- {task!r}\n")
                for frame in task.get_stack(limit=25):
                    lines += traceback.format_stack(frame, limit=1)
        write("".join(lines))


def pytest_configure(config: pytest.Config) -> None:
    def write(text: str) -> None:
        # Looked up when needed: the terminal reporter registers after conftests configure.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or capture is None:
            return
        with capture.global_and_fixture_disabled():  # the test's capture would swallow it
            reporter.write(text, flush=True)

    threading.Thread(target=_watchdog, args=(write,), name="test-watchdog", daemon=True).start()
