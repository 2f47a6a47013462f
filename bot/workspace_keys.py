"""A workspace's own provider keys: which settings fields they are, how they are kept.

Each provider's keys for a workspace live in the store's per-team config under
`provider_keys:<provider>`, as one Vault token (REELBOT_SECRET_KEY) of a JSON object of that
provider's key fields. Without a REELBOT_SECRET_KEY they are neither written nor read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.logs import redact_also
from bot.store.team_config import TeamConfig
from bot.vault import Vault
from providers.plugin import HEADER_SAFE, ProviderPlugin

STORE_PREFIX = "provider_keys:"
_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]+")
_WORDS = {"api": "API", "id": "ID", "url": "URL"}


@dataclass(frozen=True)
class Credential:
    """One field of a provider's settings group that an admin sets to offer it."""

    field: str
    label: str  # "Vizard API key"
    secret: bool  # a SecretStr field (AI Studios' app id is a plain one)


def credentials(plugin: ProviderPlugin[Any]) -> tuple[Credential, ...]:
    """The fields named by the plugin's `key_variable` ("AISTUDIOS_APP_ID and
    AISTUDIOS_USER_KEY"); failing that, every secret field of its settings group."""
    fields = plugin.settings.model_fields
    named = set(_VARIABLE.findall(plugin.key_variable))
    chosen = [f for f in fields if plugin.settings.env_name(f) in named]
    if not chosen:
        chosen = [f for f, info in fields.items() if "SecretStr" in str(info.annotation)]
    return tuple(
        Credential(
            field=name,
            label=f"{plugin.label} {' '.join(_WORDS.get(w, w) for w in name.split('_'))}",
            secret="SecretStr" in str(fields[name].annotation),
        )
        for name in chosen
    )


def invalid_value(value: str) -> str | None:
    """Why a typed key cannot be one (the rule every provider secret follows), or None."""
    if not HEADER_SAFE.fullmatch(value):
        return "A key is printable ASCII with no spaces: check for a stray character."
    if len(value) > 1000:
        return "That is too long for a key."
    return None


class WorkspaceKeys:
    def __init__(
        self, config: TeamConfig, vault: Vault | None, plugins: Sequence[ProviderPlugin[Any]]
    ) -> None:
        self._config = config
        self._vault = vault
        self.plugins = {p.name: p for p in plugins}

    @property
    def enabled(self) -> bool:
        """Whether workspace keys can be set and read here (REELBOT_SECRET_KEY is set)."""
        return self._vault is not None

    async def sealed(self, team: str) -> dict[str, str]:
        """Each provider the workspace has its own keys for, with their sealed token."""
        if self._vault is None:
            return {}
        # Only the keys' own entries: a workspace's settings also hold every channel preset.
        stored = await self._config.config_many(team, [STORE_PREFIX + n for n in self.plugins])
        return {key.removeprefix(STORE_PREFIX): token for key, token in stored.items()}

    def open(self, token: str) -> dict[str, str] | None:
        """The key fields a token holds, or None when they cannot be read (another
        REELBOT_SECRET_KEY) or are not all there."""
        if self._vault is None:
            return None
        fields = self._vault.open(token)
        if fields is None:
            return None
        redact_also(fields.values())
        return fields

    async def put(self, team: str, provider: str, fields: Mapping[str, str]) -> None:
        if self._vault is None:
            raise RuntimeError("REELBOT_SECRET_KEY is not set")
        redact_also(fields.values())
        await self._config.config_put(team, STORE_PREFIX + provider, self._vault.seal(fields))

    async def remove(self, team: str, provider: str) -> bool:
        return await self._config.config_delete(team, STORE_PREFIX + provider)
