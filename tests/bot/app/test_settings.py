"""Settings: the environment contract of DESIGN.md, and errors that name the variable."""

from __future__ import annotations

import pytest

from bot.app.settings import SettingsError, load_settings


def refusal(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """What the settings say when they refuse the environment ``env`` adds."""
    for name, value in env.items():
        monkeypatch.setenv(f"AMOBRIDGE_{name}", value)
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    return str(caught.value)


def test_it_reads_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMOBRIDGE_AMOCRM__BASE_URL", "https://acme.kommo.com")
    monkeypatch.setenv("AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN", "tok-123")
    monkeypatch.setenv("AMOBRIDGE_HTTP__PORT", "9000")
    monkeypatch.setenv("AMOBRIDGE_STORE_URL", "redis://localhost:6379/2")
    settings = load_settings(_env_file=None)
    assert str(settings.amocrm.base_url) == "https://acme.kommo.com/"
    assert settings.amocrm.long_lived_token is not None
    assert settings.amocrm.long_lived_token.get_secret_value() == "tok-123"
    assert settings.http.port == 9000
    assert settings.store_url == "redis://localhost:6379/2"
    assert not settings.telegram.configured
    assert not settings.slack.configured


def test_it_runs_with_nothing_configured() -> None:
    settings = load_settings(_env_file=None)
    assert not settings.amocrm.configured
    assert settings.store_url.startswith("sqlite:///")


def test_it_names_each_bad_variable_and_never_echoes_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "123:very-secret-token"
    text = refusal(monkeypatch, AMOCRM__BASE_URL="not a url", HTTP__PORT="ninety",
                   TELEGRAM__TOKEN=secret, TELEGRAM__API_BASE="::bad::")  # fmt: skip
    assert "AMOBRIDGE_AMOCRM__BASE_URL" in text
    assert "AMOBRIDGE_HTTP__PORT" in text
    assert "AMOBRIDGE_TELEGRAM__API_BASE" in text
    assert "very-secret-token" not in text
    assert "ninety" not in text


def test_it_explains_incomplete_amocrm_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    text = refusal(monkeypatch, AMOCRM__BASE_URL="https://acme.amocrm.ru", AMOCRM__CLIENT_ID="cid")
    assert "AMOBRIDGE_AMOCRM__CLIENT_SECRET" in text
    assert "AMOBRIDGE_AMOCRM__REDIRECT_URI" in text


def test_it_needs_a_public_url_for_telegram_webhook_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    text = refusal(monkeypatch, TELEGRAM__TOKEN="1:x", TELEGRAM__WEBHOOK_SECRET="s3cret")
    assert "AMOBRIDGE_PUBLIC_URL" in text


def test_it_refuses_an_unknown_store_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "AMOBRIDGE_STORE_URL" in refusal(monkeypatch, STORE_URL="postgres://x")


def test_it_holds_the_telegram_webhook_secret_to_telegrams_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = refusal(monkeypatch, TELEGRAM__TOKEN="1:x", PUBLIC_URL="https://bridge.example.com",
                   TELEGRAM__WEBHOOK_SECRET="has spaces!")  # fmt: skip
    assert "AMOBRIDGE_TELEGRAM__WEBHOOK_SECRET" in text
