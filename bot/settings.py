"""Configuration from the environment (and a `.env` file). Names are fixed: other tools set them.

The bot's own settings live here; each provider reads its own group of variables
(`<PROVIDER>_API_KEY`, ...) through the settings class its plugin names, so nothing here
names a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    HttpUrl,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from redis.connection import parse_url

from bot.vault import is_fernet_key
from providers.base import JobKind
from providers.plugin import HEADER_SAFE, ProviderPlugin, ProviderSettings

# manifest.yml's oauth_config.scopes.bot (tests/unit/test_oauth_settings.py keeps them equal).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "im:write",
    "files:write",
    "files:read",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
)
# Bolt's default paths for the install page and the OAuth redirect.
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


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
    # Many workspaces (Bolt's OAuth flow): both set, installations replace SLACK_BOT_TOKEN.
    slack_client_id: str | None = Field(None, validation_alias=_env("SLACK_CLIENT_ID"))
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_CLIENT_SECRET")
    )
    # The bot scopes an install asks for (comma-separated): manifest.yml's by default.
    slack_scopes: str = Field(",".join(BOT_SCOPES), validation_alias=_env("SLACK_SCOPES"))
    slack_api_url: HttpUrl = Field(
        HttpUrl("https://slack.com/api/"), validation_alias=_env("SLACK_API_URL")
    )
    slack_channel_posts_per_second: Annotated[float, Field(gt=0, le=100)] = Field(
        1.0, validation_alias=_env("SLACK_CHANNEL_POSTS_PER_SECOND")
    )

    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    reelbot_db: str = Field("./reelbot.db", validation_alias=_env("REELBOT_DB"))
    key_prefix: str = Field("reelbot:", validation_alias=_env("REELBOT_KEY_PREFIX"))

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
    poll_concurrency: Annotated[int, Field(ge=1, le=4096)] = Field(
        64, validation_alias=_env("POLL_CONCURRENCY")
    )
    poll_per_provider: Annotated[int, Field(ge=1, le=4096)] | None = Field(
        None, validation_alias=_env("POLL_PER_PROVIDER")
    )
    job_lease_seconds: Annotated[float, Field(ge=1, le=3600)] = Field(
        120.0, validation_alias=_env("JOB_LEASE_SECONDS")
    )
    job_timeout_hours: Annotated[float, Field(gt=0)] = Field(
        24.0, validation_alias=_env("JOB_TIMEOUT_HOURS")
    )
    job_retention_days: Annotated[float, Field(gt=0)] = Field(
        30.0, validation_alias=_env("JOB_RETENTION_DAYS")
    )
    confirm_expiry_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        15.0, validation_alias=_env("CONFIRM_EXPIRY_MINUTES")
    )
    clip_default_provider: str | None = Field(None, validation_alias=_env("CLIP_DEFAULT_PROVIDER"))
    avatar_default_provider: str | None = Field(
        None, validation_alias=_env("AVATAR_DEFAULT_PROVIDER")
    )
    # Clips and videos uploaded into the thread as Slack files when they fit (links expire).
    # Monthly budgets for paid providers, in cents (all paid providers together; per person).
    budget_monthly_cents: Annotated[int, Field(ge=0)] | None = Field(
        None, validation_alias=_env("BUDGET_MONTHLY_CENTS")
    )
    budget_monthly_cents_per_user: Annotated[int, Field(ge=0)] | None = Field(
        None, validation_alias=_env("BUDGET_MONTHLY_CENTS_PER_USER")
    )
    results_as_files: bool = Field(True, validation_alias=_env("RESULTS_AS_FILES"))
    slack_upload_max_mb: Annotated[float, Field(gt=0, le=1000)] = Field(
        100.0, validation_alias=_env("SLACK_UPLOAD_MAX_MB")
    )
    # The largest video uploaded to Slack that Reelbot fetches for a provider (Slack's own
    # limit per file is 1 GB).
    slack_file_max_mb: Annotated[float, Field(gt=0, le=1000)] = Field(
        1000.0, validation_alias=_env("SLACK_FILE_MAX_MB")
    )
    # How long a signed link to a Slack file works, for a provider that takes only links.
    slack_file_link_minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] = Field(
        120.0, validation_alias=_env("SLACK_FILE_LINK_MINUTES")
    )
    # How long a provider's avatar and voice lists are kept in the store for the modal.
    catalog_cache_minutes: Annotated[float, Field(gt=0, le=24 * 60)] = Field(
        10.0, validation_alias=_env("CATALOG_CACHE_MINUTES")
    )
    # Socket Mode: how often the socket is pinged; stale after four unanswered pings.
    socket_ping_seconds: Annotated[float, Field(gt=0, le=300)] = Field(
        10.0, validation_alias=_env("SOCKET_PING_SECONDS")
    )
    # A Fernet key that seals each workspace's own provider keys in the store; without it
    # workspace keys can be neither set nor read.
    reelbot_secret_key: SecretStr | None = Field(None, validation_alias=_env("REELBOT_SECRET_KEY"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    # text (one readable line an event) or json (one JSON object a line).
    log_format: Literal["text", "json"] = Field("text", validation_alias=_env("LOG_FORMAT"))

    _plugins: tuple[ProviderPlugin[Any], ...] = PrivateAttr(default=())
    _groups: dict[str, ProviderSettings] = PrivateAttr(default_factory=dict)

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
        "slack_client_id",
        "slack_client_secret",
        "redis_url",
        "public_url",
        "poll_per_provider",
        "clip_default_provider",
        "avatar_default_provider",
        "budget_monthly_cents",
        "budget_monthly_cents_per_user",
        "reelbot_secret_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "slack_client_secret"
    )
    @classmethod
    def _header_safe(cls, value: SecretStr | None) -> SecretStr | None:
        # Tokens travel in HTTP headers: anything else fails at the first request instead.
        if value is not None and not HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("must be printable ASCII with no spaces (check for a stray character)")
        return value

    @field_validator("reelbot_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_fernet_key(value.get_secret_value()):
            raise ValueError(
                "must be a Fernet key: 32 bytes in url-safe base64 (44 characters), e.g. from "
                "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
                ".decode())'"
            )
        return value

    @field_validator("slack_scopes")
    @classmethod
    def _scopes(cls, value: str) -> str:
        scopes = [s.strip() for s in value.split(",") if s.strip()]
        if not scopes:
            raise ValueError("must name at least one scope, e.g. commands,chat:write")
        if any(not HEADER_SAFE.fullmatch(s) for s in scopes):
            raise ValueError("must be scope names separated by commas")
        return ",".join(scopes)

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
    def oauth(self) -> bool:
        """Many workspaces: installs through Bolt's OAuth flow, a token per workspace."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def scopes(self) -> list[str]:
        return self.slack_scopes.split(",")

    @property
    def redirect_uri(self) -> str | None:
        """Where Slack sends an installer back (REELBOT_PUBLIC_URL + /slack/oauth_redirect);
        None lets Slack use the app's first redirect URL."""
        if self.public_url is None:
            return None
        return str(self.public_url).rstrip("/") + REDIRECT_PATH

    @property
    def has_slack(self) -> bool:
        return self.slack_bot_token is not None or self.oauth

    @property
    def plugins(self) -> tuple[ProviderPlugin[Any], ...]:
        """Every provider this build knows, configured or not."""
        return self._plugins

    def group(self, name: str) -> ProviderSettings:
        """A provider's settings group, by provider name."""
        return self._groups[name]

    def default_provider(self, kind: JobKind) -> str | None:
        """The provider an admin chose for a kind's command, if any."""
        return {
            JobKind.CLIPS: self.clip_default_provider,
            JobKind.AVATAR: self.avatar_default_provider,
        }.get(kind)  # one describe provider: nothing to choose

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.reelbot_secret_key,
            self.slack_client_secret,
        ]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        for group in self._groups.values():
            found.extend(group.secrets())
        return found

    def require_slack(self) -> None:
        """`reelbot run` needs a bot token (or the OAuth client id and secret) and, in HTTP
        mode, the signing secret."""
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            missing = "SLACK_CLIENT_ID" if self.slack_client_id is None else "SLACK_CLIENT_SECRET"
            raise SettingsError(
                f"{missing} is not set: many workspaces need both the app's Client ID and "
                "Client Secret"
            )
        if self.oauth and self.slack_bot_token is not None:
            raise SettingsError(
                "SLACK_BOT_TOKEN is set as well as SLACK_CLIENT_ID and SLACK_CLIENT_SECRET: "
                "unset SLACK_BOT_TOKEN for many workspaces, or the client settings for one"
            )
        if not self.oauth:
            if self.slack_bot_token is None:
                raise SettingsError(
                    "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…), or "
                    "set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces"
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


def _first_error(exc: ValidationError, name_of: Mapping[str, str] | None = None) -> str:
    first = exc.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "settings"
    name = (name_of or {}).get(field, field.upper())
    # Never echo the input: it may be a secret.
    reason = str(first["msg"]).removeprefix("Value error, ")
    return f"{name} is invalid: {reason}"


def load_settings(
    *, plugins: Sequence[ProviderPlugin[Any]] | None = None, **overrides: Any
) -> Settings:
    """Settings from the environment, or SettingsError naming the first bad variable.

    `overrides` set values directly: the bot's own by field name, a provider's with its name
    in front (`<provider>_api_key=...`). `plugins` defaults to the registry's.
    """
    if plugins is None:
        from bot.registry import PLUGINS

        plugins = PLUGINS
    env_file = overrides.pop("_env_file", ".env")
    own: dict[str, Any] = {}
    grouped: dict[str, dict[str, Any]] = {p.name: {} for p in plugins}
    for key, value in overrides.items():
        plugin = next((p for p in plugins if key.startswith(f"{p.name}_")), None)
        if plugin is None:
            own[key] = value
        else:
            grouped[plugin.name][key.removeprefix(f"{plugin.name}_")] = value
    try:
        settings = Settings(_env_file=env_file, **own)
    except ValidationError as exc:
        raise SettingsError(_first_error(exc)) from None
    for plugin in plugins:
        try:
            group = plugin.settings(_env_file=env_file, **grouped[plugin.name])
        except ValidationError as exc:
            names = {f: plugin.settings.env_name(f) for f in plugin.settings.model_fields}
            raise SettingsError(_first_error(exc, names)) from None
        settings._groups[plugin.name] = group
    settings._plugins = tuple(plugins)
    _check_defaults(settings)
    return settings


def _check_defaults(settings: Settings) -> None:
    for kind, variable in (
        (JobKind.CLIPS, "CLIP_DEFAULT_PROVIDER"),
        (JobKind.AVATAR, "AVATAR_DEFAULT_PROVIDER"),
    ):
        chosen = settings.default_provider(kind)
        names = [p.name for p in settings.plugins if p.kind is kind]
        if chosen is not None and chosen not in names:
            raise SettingsError(f"{variable} is invalid: must be one of {', '.join(names)}")
