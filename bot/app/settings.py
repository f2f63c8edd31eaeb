"""Configuration: one pydantic-settings class, loaded once by the composition root.

Environment prefix ``AMOBRIDGE_``, nested sections joined by ``__``, ``.env`` supported.
Secrets are ``SecretStr`` so that a repr, a log line or a traceback never shows them.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "AMOBRIDGE_"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# 32 bytes, URL-safe base64: 43 characters and one "=".
_FERNET_KEY = re.compile(r"^[A-Za-z0-9_-]{43}=$")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AmoCrmSettings(_Section):
    base_url: AnyHttpUrl | None = None
    long_lived_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    webhook_secret: SecretStr | None = None
    # amoCRM allows 7 requests/s per integration; the default leaves the slack that
    # integrations/amocrm/pacing.py explains.
    requests_per_second: float = Field(default=6.6, gt=0, le=7)
    poll_interval_s: float = Field(default=60.0, gt=0)
    sync_interval_s: float = Field(default=300.0, gt=0)
    # How long a replica that journaled a change has to hand it to reminders, alerts and scans
    # before another replica (or this one after a restart) does it from the journal.
    listener_hold_s: float = Field(default=30.0, gt=0)
    # How long one amoCRM answer is waited for (the SDK's 20 s). A write not answered in time
    # may still be applied: the press re-reads, and settles later if it cannot tell yet.
    request_timeout_s: float = Field(default=20.0, gt=0)

    @property
    def uses_oauth(self) -> bool:
        return self.long_lived_token is None and self.client_id is not None

    @model_validator(mode="after")
    def _auth_is_complete(self) -> Self:
        if self.base_url is None:
            return self
        if self.long_lived_token is None and self.client_id is None:
            raise ValueError(
                "set AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN, or AMOBRIDGE_AMOCRM__CLIENT_ID with "
                "AMOBRIDGE_AMOCRM__CLIENT_SECRET and AMOBRIDGE_AMOCRM__REDIRECT_URI"
            )
        if self.long_lived_token is None:
            missing = [
                f"AMOBRIDGE_AMOCRM__{name.upper()}"
                for name in ("client_secret", "redirect_uri")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError("OAuth needs " + ", ".join(missing))
        return self

    @property
    def configured(self) -> bool:
        return self.base_url is not None


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base: AnyHttpUrl = AnyHttpUrl("https://api.telegram.org")
    webhook_secret: SecretStr | None = None

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_accepts_the_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def configured(self) -> bool:
        return self.token is not None


class SlackSettings(_Section):
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_base: AnyHttpUrl = AnyHttpUrl("https://slack.com/api/")

    @property
    def configured(self) -> bool:
        return self.bot_token is not None and self.signing_secret is not None


class HttpSettings(_Section):
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    amocrm: AmoCrmSettings = AmoCrmSettings()
    telegram: TelegramSettings = TelegramSettings()
    slack: SlackSettings = SlackSettings()
    http: HttpSettings = HttpSettings()
    store_url: str = Field(default="sqlite:///./amobridge.db", pattern=r"^(sqlite|rediss?)://")
    redis_key_prefix: str = "amobridge:"
    public_url: AnyHttpUrl | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Fernet keys (comma-separated, the first encrypts): OAuth tokens encrypted at rest.
    secret_key: SecretStr | None = None

    @field_validator("secret_key")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return value
        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        if not keys or not all(_FERNET_KEY.match(k) for k in keys):
            raise ValueError(
                "must be one or more Fernet keys separated by commas (make one with: python -c "
                '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
            )
        return value

    @model_validator(mode="after")
    def _webhook_mode_needs_public_url(self) -> Self:
        if self.telegram.webhook_secret is not None and self.public_url is None:
            raise ValueError(
                "AMOBRIDGE_TELEGRAM__WEBHOOK_SECRET is set (webhook mode), "
                "so AMOBRIDGE_PUBLIC_URL is needed too"
            )
        return self


class SettingsError(Exception):
    """Configuration is missing or invalid; ``problems`` names each variable and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def _env_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return ENV_PREFIX + "__".join(p.upper() for p in parts) if parts else "configuration"


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and ``.env``); raise ``SettingsError`` naming every bad variable.

    Pydantic's messages are rewritten so they name the environment variable, never echo a value
    (a value may be a secret).
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_input=False, include_url=False):
            loc = tuple(p for p in err["loc"] if p not in ("__root__",))
            problems.append(f"{_env_name(loc)}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError(problems) from None
