"""The control endpoints each emulator lists (for ``amobridge sandbox`` and the README) are
the ones its app routes (paths compared in their canonical form, an id's pattern left out)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sandbox.amocrm import CONTROL_ENDPOINTS as AMOCRM_ENDPOINTS
from sandbox.amocrm import AmoEmulator
from sandbox.common.serving import Emulator
from sandbox.slack import CONTROL_ENDPOINTS as SLACK_ENDPOINTS
from sandbox.slack import SlackEmulator
from sandbox.telegram import CONTROL_ENDPOINTS as TELEGRAM_ENDPOINTS
from sandbox.telegram import TelegramEmulator


@pytest.mark.parametrize(
    ("emulator", "listed"),
    [
        pytest.param(AmoEmulator, AMOCRM_ENDPOINTS, id="amocrm"),
        pytest.param(TelegramEmulator, TELEGRAM_ENDPOINTS, id="telegram"),
        pytest.param(SlackEmulator, SLACK_ENDPOINTS, id="slack"),
    ],
)
def test_every_listed_control_endpoint_is_routed(
    emulator: Callable[[], Emulator], listed: tuple[tuple[str, str, str], ...]
) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in emulator().make_app().router.routes()
        if route.resource is not None
    }
    assert [path for method, path, _ in listed if (method, path) not in routes] == []
