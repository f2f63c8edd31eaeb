"""``slack-manifest.yml`` matches the app: its command, its one Request URL, its event, and the
scopes the code calls for (the Slack end-to-end tests run with exactly these scopes granted)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.app.slack import SLACK_EVENTS_PATH
from handlers.slack import SLASH_COMMAND
from sandbox.slack.api import SCOPES

MANIFEST: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "slack-manifest.yml").read_text(encoding="utf-8")
)
# The Web API methods amobridge calls (integrations/slack/api.py), and what else needs a scope.
CALLED = ("chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.open",
          "users.info", "users.list", "files.completeUploadExternal", "conversations.info",
          "conversations.join")  # fmt: skip


# conversations.history takes a scope per kind of channel: amobridge posts in DMs and channels.
HISTORY = {"im:history", "channels:history"}


def test_it_asks_for_exactly_the_scopes_the_app_uses() -> None:
    # groups:read: conversations.info on a private channel the app was invited to.
    needed = {SCOPES[m] for m in CALLED} | {"commands", "users:read.email", "groups:read"}
    needed |= HISTORY

    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == needed


def test_every_url_is_the_apps_one_events_path() -> None:
    settings = MANIFEST["settings"]
    [command] = MANIFEST["features"]["slash_commands"]
    urls = {command["url"], settings["interactivity"]["request_url"],
            settings["event_subscriptions"]["request_url"]}  # fmt: skip

    assert command["command"] == SLASH_COMMAND
    assert {u.removeprefix("https://amobridge.example.com") for u in urls} == {SLACK_EVENTS_PATH}
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["socket_mode_enabled"] is False
