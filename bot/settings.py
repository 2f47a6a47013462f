"""Configuration from the environment (and a `.env` file). Names are fixed: other tools set them."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AliasChoices, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.connection import parse_url

from providers import vizard

_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class SettingsError(Exception):
    """One line naming the variable that is missing or wrong; never its value."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_BOT_TOKEN"))
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(None, validation_alias=_env("SLACK_APP_TOKEN"))
    slack_api_url: HttpUrl = Field(
        HttpUrl("https://slack.com/api/"), validation_alias=_env("SLACK_API_URL")
    )

    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    reelbot_db: str = Field("./reelbot.db", validation_alias=_env("REELBOT_DB"))
    key_prefix: str = Field("reelbot:", validation_alias=_env("REELBOT_KEY_PREFIX"))

    vizard_api_key: SecretStr | None = Field(None, validation_alias=_env("VIZARD_API_KEY"))
    vizard_base_url: HttpUrl = Field(
        HttpUrl(vizard.DEFAULT_BASE_URL), validation_alias=_env("VIZARD_BASE_URL")
    )
    vizard_per_minute: Annotated[int, Field(ge=1)] = Field(
        3, validation_alias=_env("VIZARD_PER_MINUTE")
    )
    vizard_per_hour: Annotated[int, Field(ge=1)] = Field(
        20, validation_alias=_env("VIZARD_PER_HOUR")
    )
    vizard_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        30.0, validation_alias=_env("VIZARD_TIMEOUT_SECONDS")
    )
    vizard_link_ttl_hours: Annotated[float, Field(gt=0)] = Field(
        168, validation_alias=_env("VIZARD_LINK_TTL_HOURS")
    )

    port: Annotated[int, Field(ge=0, le=65535)] = Field(3000, validation_alias=_env("PORT"))
    public_url: HttpUrl | None = Field(None, validation_alias=_env("REELBOT_PUBLIC_URL"))
    poll_tick_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        5.0, validation_alias=_env("POLL_TICK_SECONDS")
    )
    poll_min_seconds: Annotated[float, Field(gt=0)] = Field(
        10.0, validation_alias=_env("POLL_MIN_SECONDS")
    )
    poll_max_seconds: Annotated[float, Field(gt=0)] = Field(
        60.0, validation_alias=_env("POLL_MAX_SECONDS")
    )
    job_timeout_hours: Annotated[float, Field(gt=0)] = Field(
        24.0, validation_alias=_env("JOB_TIMEOUT_HOURS")
    )
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "vizard_api_key",
        "redis_url",
        "public_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "vizard_api_key")
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # Tokens travel in HTTP headers: anything else fails at the first request instead.
        if value is not None and not _HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("must be printable ASCII with no spaces (check for a stray character)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        try:
            parse_url(value)  # type: ignore[no-untyped-call]
        except ValueError:
            raise ValueError("is not a valid Redis URL, e.g. redis://host:6379/0") from None
        return value

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def has_slack(self) -> bool:
        return self.slack_bot_token is not None

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.vizard_api_key,
        ]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    def require_slack(self) -> None:
        """`reelbot run` needs a bot token and, in HTTP mode, the signing secret."""
        if self.slack_bot_token is None:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…)"
            )
        if not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN is invalid: a bot token starts with xoxb-")
        if self.slack_app_token is not None:
            if not self.slack_app_token.get_secret_value().startswith("xapp-"):
                raise SettingsError(
                    "SLACK_APP_TOKEN is invalid: an app-level token starts with xapp-"
                )
        elif self.slack_signing_secret is None:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret "
                "(or set SLACK_APP_TOKEN for Socket Mode)"
            )


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, or SettingsError naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        # Never echo the input: it may be a secret.
        reason = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{name} is invalid: {reason}") from None
