"""``amobridge run`` and ``check`` with a store that cannot be opened, or a messenger refusing its
token at start: one line that says what to fix, no traceback, and (for ``run``) exit code 2, as
for any set-up mistake."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import free_port
from tests.e2e.test_cli import amobridge, env_for


@pytest.mark.parametrize(
    ("store_url", "says"),
    [
        (
            "sqlite:///{tmp}/no/such/dir/amobridge.db",
            r"the directory \S+/no/such/dir does not exist; create it",
        ),
        # Nobody may create files in /proc, root included: a folder this user cannot write in.
        ("sqlite:////proc/amobridge.db", r"/proc/amobridge.db \(unable to open database file\)"),
        (
            "redis://:hunter2@127.0.0.1:{closed}/0",
            r"cannot reach Redis at 127.0.0.1:\d+ \(ConnectionError\): start it",
        ),
    ],
    ids=["sqlite-directory-missing", "sqlite-not-writable", "redis-unreachable"],
)
async def test_a_store_that_cannot_be_opened_is_one_line_naming_the_setting(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path, store_url: str, says: str
) -> None:
    url = store_url.format(tmp=tmp_path, closed=free_port())
    env = env_for(amo, tmp_path, AMOBRIDGE_STORE_URL=url, AMOBRIDGE_HTTP__PORT=str(free_port()))
    (run_code, run_out, run_err), (check_code, check_out, check_err) = await asyncio.gather(
        amobridge("run", env=env, cwd=tmp_path), amobridge("check", env=env, cwd=tmp_path)
    )
    assert run_code == 2, run_out + run_err
    [line] = run_err.splitlines()
    assert re.search(says, line), line
    assert line.startswith("store: ")
    assert line.endswith("(AMOBRIDGE_STORE_URL)")
    assert run_out == ""
    assert check_code == 1
    assert re.search(r"FAIL\s+store\s+.*" + says, check_out), check_out
    for text in (run_out, run_err, check_out, check_err):
        assert "Traceback" not in text
        assert "hunter2" not in text


async def test_run_with_a_bot_token_telegram_refuses_is_one_line_and_exit_2(
    amo: AmoEmulator, demo: DemoIds, tg: TelegramEmulator, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_TELEGRAM__TOKEN="123456:NOT-THE-TOKEN",
                  AMOBRIDGE_TELEGRAM__API_BASE=tg.base_url,
                  AMOBRIDGE_HTTP__PORT=str(free_port()))  # fmt: skip
    code, out, err = await amobridge("run", env=env, cwd=tmp_path)
    assert code == 2, out + err
    assert err.strip().splitlines()[-1].startswith("Telegram refused the bot token")
    assert "Traceback" not in err
    assert "NOT-THE-TOKEN" not in out + err
