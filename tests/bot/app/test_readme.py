"""The README's word is the program's: the configuration table names every setting amobridge
reads, and every ``amobridge`` command and ``AMOBRIDGE_*`` variable that *Going live* tells a
team lead to use exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from bot.app.cli import app
from bot.app.settings import ENV_PREFIX, Settings

README = Path(__file__).parents[3] / "README.md"


def _env_names() -> list[tuple[str, str]]:
    """(full variable name, the short form a table row may use after another of its section)."""
    names = []
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            for sub in section.model_fields:
                full = f"{ENV_PREFIX}{name.upper()}__{sub.upper()}"
                names.append((full, f"…__{sub.upper()}"))
        else:
            names.append((f"{ENV_PREFIX}{name.upper()}", f"{ENV_PREFIX}{name.upper()}"))
    return names


def _section(title: str) -> str:
    return README.read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _code(text: str) -> list[str]:
    """The lines of the fenced blocks and the inline code spans of ``text``."""
    fences = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    lines = [line for block in fences.findall(text) for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", fences.sub("", text))


def _commands(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each ``amobridge <command> [--flag …]`` the code of ``text`` shows (also inside
    ``docker compose run --rm amobridge …``): the command and its flags."""
    found = []
    for line in _code(text):
        for match in re.finditer(r"(?<![\w./$-])amobridge\s+([a-z][\w-]*)([^|;&#]*)", line):
            flags = re.findall(r"(?<!\S)(--?[A-Za-z][\w-]*)", match.group(2))
            found.append((match.group(1), tuple(flags)))
    return found


def test_every_setting_is_in_the_configuration_table() -> None:
    table = _section("Configuration")
    missing = [full for full, short in _env_names() if full not in table and short not in table]
    assert not missing, f"README's configuration table lacks {missing}"


GOING_LIVE = _commands(_section("Going live"))


def test_going_live_names_the_commands_of_each_step() -> None:
    assert {"check", "run", "authorize", "setup"} <= {command for command, _ in GOING_LIVE}
    assert ("authorize", ("--code",)) in GOING_LIVE


@pytest.mark.parametrize(("command", "flags"), sorted(set(GOING_LIVE)))
def test_each_command_going_live_names_exists_with_its_flags(
    command: str, flags: tuple[str, ...]
) -> None:
    result = CliRunner().invoke(app, [command, "--help"], prog_name="amobridge")
    assert result.exit_code == 0, f"amobridge {command}: {result.output}"
    for flag in flags:
        assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", result.output), (
            f"amobridge {command} has no {flag}"
        )


def test_every_variable_going_live_names_is_a_setting() -> None:
    named = set(re.findall(rf"\b{ENV_PREFIX}[A-Z0-9_]*[A-Z0-9]", _section("Going live")))
    settings = {full for full, _ in _env_names()}
    assert {"AMOBRIDGE_AMOCRM__BASE_URL", "AMOBRIDGE_PUBLIC_URL"} <= named
    assert named - settings == set()
