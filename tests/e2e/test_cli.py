"""The ``amobridge`` command as a user runs it: a real process, configured by the environment."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import httpx

from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator

CLI = [sys.executable, "-c", "from bot.app.cli import main; main()"]


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
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


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


async def test_check_fails_with_nothing_configured_saying_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")}
    env["AMOBRIDGE_STORE_URL"] = f"sqlite:///{tmp_path}/cli.db"
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"FAIL\s+amoCRM\s+not configured: set AMOBRIDGE_AMOCRM__BASE_URL", out)
    assert re.search(r"FAIL\s+messenger\s+none configured: set AMOBRIDGE_TELEGRAM__TOKEN", out)


async def test_check_fails_with_a_messenger_unset_or_unreachable(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    code, out, _ = await amobridge("check", env=env_for(amo, tmp_path), cwd=tmp_path)
    assert code == 1, out
    assert re.search(r"ok\s+amoCRM\s+authorised", out)
    assert re.search(r"FAIL\s+messenger\s+none configured", out)

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
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


async def test_check_reaches_the_telegram_bot(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_TELEGRAM__TOKEN=tg.token,
                  AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url)  # fmt: skip
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 0, out
    assert re.search(r"ok\s+Telegram\s+bot @amobridge_bot, long polling", out)

    env["AMOBRIDGE_TELEGRAM__TOKEN"] = "999:WRONG"
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1
    assert re.search(r"FAIL\s+Telegram\s+token rejected", out)
    assert "999:WRONG" not in out


async def test_check_explains_a_revoked_token(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path)
    amo.revoke_tokens()
    code, out, _ = await amobridge("check", env=env, cwd=tmp_path)
    assert code == 1
    assert re.search(r"FAIL\s+amoCRM\s+token rejected \(401\)", out)
    assert amo.long_lived_token not in out


async def test_check_explains_a_flood_block(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    amo.faults.add("html403", count=50)
    code, out, _ = await amobridge("check", env=env_for(amo, tmp_path), cwd=tmp_path)
    assert code == 1
    assert "blocked by amoCRM" in out


async def test_a_bad_setting_stops_the_start_naming_the_variable(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_HTTP__PORT="eighty", AMOBRIDGE_AMOCRM__BASE_URL="x")
    code, _, err = await amobridge("run", env=env, cwd=tmp_path)
    assert code == 2
    assert "AMOBRIDGE_HTTP__PORT" in err
    assert "AMOBRIDGE_AMOCRM__BASE_URL" in err
    assert "eighty" not in err


async def test_setup_registers_the_webhook(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(
        amo, tmp_path,
        AMOBRIDGE_PUBLIC_URL="https://bridge.example.com",
        AMOBRIDGE_AMOCRM__WEBHOOK_SECRET="s3cret-path",
    )  # fmt: skip
    code, out, _ = await amobridge("setup", env=env, cwd=tmp_path)
    assert code == 0, out
    assert "s3cret-path" not in out
    async with httpx.AsyncClient(base_url=amo.base_url) as http:
        hooks = await http.get(
            "/api/v4/webhooks", headers={"Authorization": f"Bearer {amo.long_lived_token}"}
        )
    [hook] = hooks.json()["_embedded"]["webhooks"]
    assert hook["destination"] == "https://bridge.example.com/amocrm/webhook/s3cret-path"
    assert {"status_lead", "update_task", "add_task"} <= set(hook["settings"])

    code, _, err = await amobridge("setup", env=env_for(amo, tmp_path), cwd=tmp_path)
    assert code == 2
    assert "AMOBRIDGE_PUBLIC_URL" in err


async def test_run_serves_health_and_stops_on_sigterm(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_HTTP__HOST="127.0.0.1", AMOBRIDGE_HTTP__PORT="0")
    proc = await asyncio.create_subprocess_exec(
        *CLI, "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith("HTTP:")):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, "amobridge run exited early"
            lines.append(line.decode().strip())
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
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0


async def test_sandbox_serves_a_seeded_amocrm_and_prints_how_to_use_it(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "sandbox", "--amocrm-port", "0", "--telegram-port", "0", "--slack-port", "0",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        lines: list[str] = []
        while not (lines and lines[-1].startswith("Ctrl-C")):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line, "amobridge sandbox exited early"
            lines.append(line.decode().strip())
        text = "\n".join(lines)
        base_url = re.search(r"AMOBRIDGE_AMOCRM__BASE_URL=(\S+)", text)
        token = re.search(r"AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN=(\S+)", text)
        assert base_url is not None
        assert token is not None
        async with httpx.AsyncClient(base_url=base_url.group(1)) as http:
            state = (await http.get("/_control/state")).json()
            account = await http.get(
                "/api/v4/account", headers={"Authorization": f"Bearer {token.group(1)}"}
            )
        assert account.json()["name"] == "Demo Sales"
        assert len(state["tasks"]) >= 5
        tg_base = re.search(r"AMOBRIDGE_TELEGRAM__API_BASE=(\S+)", text)
        tg_token = re.search(r"AMOBRIDGE_TELEGRAM__TOKEN=(\S+)", text)
        assert tg_base is not None
        assert tg_token is not None
        async with httpx.AsyncClient(base_url=tg_base.group(1)) as http:
            me = (await http.get(f"/bot{tg_token.group(1)}/getMe")).json()
        assert me["result"]["username"] == "amobridge_bot"
        slack_base = re.search(r"AMOBRIDGE_SLACK__API_BASE=(\S+)", text)
        slack_token = re.search(r"AMOBRIDGE_SLACK__BOT_TOKEN=(\S+)", text)
        assert slack_base is not None
        assert slack_token is not None
        async with httpx.AsyncClient() as http:
            auth = await http.post(
                slack_base.group(1) + "auth.test",
                headers={"Authorization": f"Bearer {slack_token.group(1)}"},
            )
        assert auth.json()["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), timeout=30) == 0


async def test_demo_plays_the_morning_and_then_lets_a_person_play(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "demo", "--interactive", env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
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
