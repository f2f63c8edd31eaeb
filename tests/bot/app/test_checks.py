"""``amobridge check`` on a wrong amoCRM address: a host no amoCRM account uses gets a warning
naming the hosts accounts do use, and a name that does not resolve says so. No real DNS: the
resolver is the system's stand-in, and nothing leaves the machine."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.app.checks import CheckRow, amocrm_host_warning, run_checks
from bot.app.settings import AmoCrmSettings, Settings


async def no_such_name(host: str, port: int) -> object:
    """The system resolver's answer for a name no DNS server knows."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def seen(rows: list[CheckRow]) -> list[str]:
    """The rows as ``amobridge check`` prints them, padding aside."""
    return [f"{row.mark} {row.part} {row.detail}" for row in rows]


async def test_a_typo_in_the_amocrm_host_is_warned_about_and_does_not_resolve(
    tmp_path: Path,
) -> None:
    settings = Settings(
        _env_file=None,
        amocrm=AmoCrmSettings(base_url="https://demo.amocrn.ru", long_lived_token="token"),
        store_url=f"sqlite:///{tmp_path}/check.db",
    )

    rows = seen(await run_checks(settings, resolve=no_such_name))

    assert (
        "WARN amoCRM demo.amocrn.ru is not an amoCRM account's address: accounts live at "
        "https://<account>.amocrm.ru, https://<account>.amocrm.com or "
        "https://<account>.kommo.com (the address the browser shows when you are signed in)"
    ) in rows
    assert (
        "FAIL amoCRM cannot reach demo.amocrn.ru: is the subdomain right? (the name does not "
        "resolve; check AMOBRIDGE_AMOCRM__BASE_URL and the network)"
    ) in rows
    assert not any(row.startswith("ok amoCRM") for row in rows)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://acme.amocrm.ru",
        "https://acme.amocrm.com/",
        "https://acme.kommo.com",
        "https://ACME.AMOCRM.RU",
        "http://127.0.0.1:8181",  # the emulator
        "http://localhost:8181",
        "http://[::1]:8181",
    ],
)
def test_an_account_host_or_this_machine_gets_no_warning(base_url: str) -> None:
    assert amocrm_host_warning(base_url) is None


@pytest.mark.parametrize(
    ("base_url", "named"),
    [
        ("https://demo.amocrn.ru", "demo.amocrn.ru"),
        ("https://amocrm.ru", "amocrm.ru"),  # no account in it
        ("https://www.amocrm.ru", "www.amocrm.ru"),  # amoCRM's site, not an account
        ("https://bridge.example.com", "bridge.example.com"),  # amobridge's own address
        ("https://acme.amocrm.ru.example.com", "acme.amocrm.ru.example.com"),
    ],
)
def test_a_host_no_account_uses_is_named_in_the_warning(base_url: str, named: str) -> None:
    warning = amocrm_host_warning(base_url)
    assert warning is not None
    assert warning.startswith(f"{named} is not an amoCRM account's address")
    assert "https://<account>.kommo.com" in warning
