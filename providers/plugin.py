"""What a provider module hands the registry: its name, its settings group and a factory.

Each provider reads its own environment variables (`VIZARD_API_KEY`, ...) through a settings
group of its own, so the bot's settings never name a provider. A group with no API key means
the provider is not offered here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from providers.base import JobKind, Provider, SharedState
from providers.forms import Form

HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class ProviderSettings(BaseSettings):
    """Base of every provider's settings group; subclasses set `env_prefix` and their fields.

    A blank value counts as unset for every field whose default is None, and every secret must
    be printable ASCII with no spaces (secrets travel in HTTP headers).
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object, info: ValidationInfo) -> object:
        name = info.field_name
        if name is None or not isinstance(value, str) or value.strip():
            return value
        known = cls.model_fields.get(name)
        return None if known is not None and known.default is None else value

    @field_validator("*")
    @classmethod
    def _secrets_header_safe(cls, value: object) -> object:
        if isinstance(value, SecretStr) and not HEADER_SAFE.fullmatch(value.get_secret_value()):
            raise ValueError("must be printable ASCII with no spaces (check for a stray character)")
        return value

    @property
    def configured(self) -> bool:
        """Whether the provider can be offered: by default, every secret field is set."""
        secrets = [n for n, f in type(self).model_fields.items() if _is_secret(f.annotation)]
        return bool(secrets) and all(getattr(self, n) is not None for n in secrets)

    def secrets(self) -> list[str]:
        """Every secret value set, for log redaction."""
        found: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
        return found

    @classmethod
    def env_name(cls, field: str) -> str:
        return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or "SecretStr" in str(annotation)


S = TypeVar("S", bound=ProviderSettings)


@dataclass(frozen=True)
class ProviderPlugin(Generic[S]):
    """One registry line: a provider module's `PLUGIN`."""

    name: str
    label: str
    kind: JobKind
    settings: type[S]
    form: Form
    build: Callable[[S, SharedState], Provider]
    # The variable an admin sets to offer this provider (named in help and errors).
    key_variable: str

    def create(self, group: ProviderSettings, shared: SharedState) -> Provider:
        if not isinstance(group, self.settings):
            raise TypeError(f"{self.name} takes {self.settings.__name__}")
        return self.build(group, shared)
