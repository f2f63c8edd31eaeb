"""The ``amobridge`` command as a user runs it: a real process, configured by the environment
(forked from a fork server that imported the application once: ``tests/e2e/processes.py``)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.processes import forked


def env_for(amo: AmoEmulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    return {
        **keep,
        "PYTHONUNBUFFERED": "1",
        "AMOBRIDGE_AMOCRM__BASE_URL": amo.base_url,
        "AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN": amo.long_lived_token,
        "AMOBRIDGE_STORE_URL": f"sqlite:///{tmp_path}/cli.db",
        **extra,
    }


async def amobridge(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    proc = await forked(*args, env=env, cwd=cwd)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


Cli = Callable[..., Awaitable[tuple[int, str, str]]]


@pytest.fixture
def cli(amo: AmoEmulator, demo: DemoIds, tmp_path: Path) -> Cli:
    """``amobridge`` run with the given words in ``tmp_path``, configured for the seeded amoCRM
    emulator (``env_for``) plus the variables given: its exit code, stdout and stderr."""

    async def run(*args: str, **extra: str) -> tuple[int, str, str]:
        return await amobridge(*args, env=env_for(amo, tmp_path, **extra), cwd=tmp_path)

    return run


async def test_check_passes_against_the_full_sandbox(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, slack: SlackEmulator, tmp_path: Path
) -> None:
    env = env_for(
        amo, tmp_path,
        AMOBRIDGE_TELEGRAM__TOKEN=tg.token, AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
        AMOBRIDGE_SLACK__BOT_TOKEN=slack.bot_token,
        AMOBRIDGE_SLACK__SIGNING_SECRET=slack.signing_secret,
        AMOBRIDGE_SLACK__API_BASE=slack.api_base,
    )  # fmt: skip
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 0, out
    assert re.search(r"ok\s+amoCRM\s+authorised", out)
    assert "Demo Sales (demo), timezone Europe/Moscow" in out
    assert "5 active of 6" in out
    assert re.search(r"ok\s+Telegram\s+bot @amobridge_bot", out)
    assert re.search(r"ok\s+Slack\s+workspace", out)
    assert "FAIL" not in out
    assert "WARN" not in out  # this machine (the emulator) is a fine amoCRM host


async def test_check_fails_with_nothing_configured_saying_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"FAIL\s+amoCRM\s+not configured: set AMOBRIDGE_AMOCRM__BASE_URL", out)
    assert re.search(r"FAIL\s+messenger\s+none configured: set AMOBRIDGE_TELEGRAM__TOKEN", out)
    assert re.search(r"--\s+store\s+sqlite: not opened until amoCRM is configured", out)
    # A look around leaves nothing behind: the store is created by the first `run`.
    assert not (tmp_path / "amobridge.db").exists()


def _closed_port() -> int:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_check_says_when_the_amocrm_host_does_not_answer(cli: Cli) -> None:
    code, out, _ = await cli(
        "check", AMOBRIDGE_AMOCRM__BASE_URL=f"http://127.0.0.1:{_closed_port()}"
    )
    assert code == 1, out
    assert re.search(
        r"FAIL\s+amoCRM\s+cannot reach 127.0.0.1: is the subdomain right\? \(nothing answers", out
    )
    assert "WARN" not in out  # this machine (the emulator) is a fine amoCRM host


async def test_check_fails_with_a_messenger_unset_or_unreachable(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    code, out, _ = await amobridge("check", env=env_for(amo, tmp_path), cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"ok\s+amoCRM\s+authorised", out)
    assert re.search(r"FAIL\s+messenger\s+none configured", out)

    closed = f"http://127.0.0.1:{_closed_port()}"
    env = env_for(amo, tmp_path, AMOBRIDGE_TELEGRAM__TOKEN="123:ABC",
                  AMOBRIDGE_TELEGRAM__API_BASE=closed)  # fmt: skip
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"FAIL\s+Telegram\s+cannot reach http://127.0.0.1", out)


async def test_check_fails_with_a_wrong_amocrm_token(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, tmp_path: Path
) -> None:
    env = env_for(
        amo, tmp_path, AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN="not-a-token",
        AMOBRIDGE_TELEGRAM__TOKEN=tg.token, AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
    )  # fmt: skip
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"FAIL\s+amoCRM\s+token rejected \(401\): issue a new long-lived token", out)
    assert "not-a-token" not in out


async def test_run_refuses_to_start_without_amocrm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    code, _, err = await amobridge("run", env=env, cwd=tmp_path)
    assert code == 2
    assert "amoCRM is not configured: set AMOBRIDGE_AMOCRM__BASE_URL" in err
    assert "amobridge demo" in err
    assert not (tmp_path / "amobridge.db").exists()


async def test_check_reaches_the_telegram_bot(cli: Cli, tg: TelegramEmulator) -> None:
    telegram = {"AMOBRIDGE_TELEGRAM__TOKEN": tg.token, "AMOBRIDGE_TELEGRAM__API_BASE": tg.base_url}
    code, out, _ = await cli("check", **telegram)
    assert code == 0, out
    assert re.search(r"ok\s+Telegram\s+bot @amobridge_bot, long polling", out)

    code, out, _ = await cli("check", **{**telegram, "AMOBRIDGE_TELEGRAM__TOKEN": "999:WRONG"})
    assert code == 1
    assert re.search(r"FAIL\s+Telegram\s+token rejected", out)
    assert "999:WRONG" not in out


async def test_check_explains_a_revoked_token(amo: AmoEmulator, cli: Cli) -> None:
    token = amo.long_lived_token  # issued before every token is revoked
    amo.revoke_tokens()
    code, out, _ = await cli("check")
    assert code == 1
    assert re.search(r"FAIL\s+amoCRM\s+token rejected \(401\)", out)
    assert token not in out


async def test_check_explains_a_flood_block(amo: AmoEmulator, cli: Cli) -> None:
    amo.faults.add("html403", count=50)
    code, out, _ = await cli("check")
    assert code == 1
    assert "blocked by amoCRM" in out


async def test_a_bad_setting_stops_the_start_naming_the_variable(cli: Cli) -> None:
    code, _, err = await cli("run", AMOBRIDGE_HTTP__PORT="eighty", AMOBRIDGE_AMOCRM__BASE_URL="x")
    assert code == 2
    assert "AMOBRIDGE_HTTP__PORT" in err
    assert "AMOBRIDGE_AMOCRM__BASE_URL" in err
    assert "eighty" not in err


async def test_setup_registers_the_webhook(amo: AmoEmulator, cli: Cli) -> None:
    code, out, _ = await cli(
        "setup",
        AMOBRIDGE_PUBLIC_URL="https://bridge.example.com",
        AMOBRIDGE_AMOCRM__WEBHOOK_SECRET="s3cret-path",
    )
    assert code == 0, out
    assert "s3cret-path" not in out
    async with httpx.AsyncClient(base_url=amo.base_url) as http:
        hooks = await http.get(
            "/api/v4/webhooks", headers={"Authorization": f"Bearer {amo.long_lived_token}"}
        )
    [hook] = hooks.json()["_embedded"]["webhooks"]
    assert hook["destination"] == "https://bridge.example.com/amocrm/webhook/s3cret-path"
    assert {"status_lead", "update_task", "add_task"} <= set(hook["settings"])

    code, _, err = await cli("setup")
    assert code == 2
    assert "AMOBRIDGE_PUBLIC_URL" in err


@asynccontextmanager
async def serving_until_stopped(
    *args: str, env: dict[str, str], cwd: Path, ready: str, stop: signal.Signals
) -> AsyncIterator[list[str]]:
    """``amobridge`` started with ``args`` and left running: the lines it printed up to the one
    that starts with ``ready``. On leaving, it gets ``stop`` and must exit cleanly."""
    proc = await forked(*args, env=env, cwd=cwd)
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith(ready)):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, f"amobridge {args[0]} exited early"
            lines.append(line.decode().strip())
        yield lines
    finally:
        proc.send_signal(stop)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0


def printed(text: str, variable: str) -> str:
    """The value ``amobridge`` printed for ``variable`` (as ``VARIABLE=value``)."""
    found = re.search(rf"{variable}=(\S+)", text)
    assert found is not None, f"{variable} was not printed"
    return found.group(1)


async def test_run_serves_health_and_stops_on_sigterm(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_HTTP__HOST="127.0.0.1", AMOBRIDGE_HTTP__PORT="0")
    async with serving_until_stopped(
        "run", env=env, cwd=tmp_path, ready="HTTP:", stop=signal.SIGTERM
    ) as lines:
        assert any(
            line.startswith("amoCRM: ") and "events poll every 60s" in line for line in lines
        )
        assert "Telegram: not configured (set AMOBRIDGE_TELEGRAM__TOKEN)" in lines
        port = int(lines[-1].rsplit(":", 1)[1])
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
            ready = await http.get(f"http://127.0.0.1:{port}/readyz")
            metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert health.json() == {"status": "ok"}
        assert ready.json() == {"status": "ready", "store": "ok", "amocrm": "ok"}
        assert "amobridge_amocrm_requests_total" in metrics.text


async def test_sandbox_serves_a_seeded_amocrm_and_prints_how_to_use_it(tmp_path: Path) -> None:
    async with serving_until_stopped(
        "sandbox", "--amocrm-port", "0", "--telegram-port", "0", "--slack-port", "0",
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path, ready="Ctrl-C",
        stop=signal.SIGINT,
    ) as lines:  # fmt: skip
        text = "\n".join(lines)
        token = printed(text, "AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN")
        async with httpx.AsyncClient(base_url=printed(text, "AMOBRIDGE_AMOCRM__BASE_URL")) as http:
            state = (await http.get("/_control/state")).json()
            account = await http.get(
                "/api/v4/account", headers={"Authorization": f"Bearer {token}"}
            )
        assert account.json()["name"] == "Demo Sales"
        assert len(state["tasks"]) >= 5
        tg_token = printed(text, "AMOBRIDGE_TELEGRAM__TOKEN")
        tg_base = printed(text, "AMOBRIDGE_TELEGRAM__API_BASE")
        async with httpx.AsyncClient(base_url=tg_base) as http:
            me = (await http.get(f"/bot{tg_token}/getMe")).json()
        assert me["result"]["username"] == "amobridge_bot"
        slack_token = printed(text, "AMOBRIDGE_SLACK__BOT_TOKEN")
        async with httpx.AsyncClient() as http:
            auth = await http.post(
                printed(text, "AMOBRIDGE_SLACK__API_BASE") + "auth.test",
                headers={"Authorization": f"Bearer {slack_token}"},
            )
        assert auth.json()["ok"] is True


async def test_demo_plays_the_morning_and_then_lets_a_person_play(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await forked("demo", "--interactive", env=env, cwd=tmp_path, stdin=True)
    out, err = await asyncio.wait_for(
        proc.communicate(b"say /remind 30m\npress Complete\nquit\n"), timeout=120
    )
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    assert "✔ Completed by Ivan Petrov (Telegram)" in text
    assert "Task handed from Telegram by Ivan Petrov to Maria Ivanova" in text
    assert "'Follow up on the Globex renewal': completed" in text
    assert "responsible Maria Ivanova" in text
    # Maria, in Slack, linked by e-mail and completed the handed-over call with a comment; Ivan's
    # Telegram copy of it says so too.
    assert text.count("Completed by Maria Ivanova (Slack)") >= 2
    assert "result 'Called: they want 60 licenses, not 50', responsible Maria Ivanova" in text
    # The person's turn: their command was answered, and their press completed the last task.
    assert "I'll remind you 30 min before each deadline" in text
    assert text.count("Completed by Ivan Petrov (Telegram)") >= 2
    assert "Traceback" not in err.decode()
