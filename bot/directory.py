"""Which Provider acts for a workspace: its own (built with the keys its admin set) or the
app's (built from the environment).

A workspace's Provider is the plugin's, made from the provider's settings group with the
workspace's key fields in place of the environment's. It is kept per (workspace, sealed
token), so every call of that workspace reuses one HTTP client, and it is closed once its keys
change or go. A provider with no key in the environment is offered only to the workspaces
that set their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import weakref
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from bot.settings import Settings
from bot.store import STORE_DOWN
from bot.workspace_keys import WorkspaceKeys, credentials
from providers.base import Provider, SharedState

log = logging.getLogger(__name__)
# A replaced Provider may still be in the middle of a call: it is closed after this long.
RETIRE_AFTER_S = 60.0


def _plain(value: object) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return None if value is None else str(value)


class ProviderDirectory:
    def __init__(
        self,
        env: Mapping[str, Provider],
        *,
        settings: Settings | None = None,
        shared: SharedState | None = None,
        keys: WorkspaceKeys | None = None,
        retire_after: float = RETIRE_AFTER_S,
    ) -> None:
        """`env`: the app's providers. Without `settings`, `shared` and `keys`, every
        workspace gets those."""
        self.env = dict(env)
        self._settings = settings
        self._shared = shared
        self.keys = keys if settings is not None and shared is not None else None
        self._retire_after = retire_after
        self._own: dict[tuple[str, str], tuple[str, Provider]] = {}
        self._unreadable: set[str] = set()  # fingerprints already logged
        self._retiring: dict[asyncio.Task[None], Provider] = {}
        # The Providers build() made, with a fingerprint of the key fields they were made with.
        self._accounts: weakref.WeakKeyDictionary[Provider, str] = weakref.WeakKeyDictionary()

    async def for_team(self, team_id: str | None, *, lenient: bool = False) -> dict[str, Provider]:
        """The providers acting for a workspace, in the registry's order. A store that does not
        answer raises, or, with `lenient` (to offer providers in a form), gives the app's."""
        if self.keys is None or not self.keys.enabled or not team_id:
            return dict(self.env)
        try:
            sealed = await self.keys.sealed(team_id)
        except STORE_DOWN as exc:
            if not lenient:
                raise
            log.warning("workspace %s: keys not read (%s)", team_id, type(exc).__name__)
            return dict(self.env)
        own: dict[str, Provider] = {}
        unreadable: set[str] = set()
        for name, token in sealed.items():
            provider = self._own_provider(team_id, name, token)
            if provider is None:
                unreadable.add(name)
            else:
                own[name] = provider
        for team, name in [k for k in self._own if k[0] == team_id and k[1] not in own]:
            self._retire(self._own.pop((team, name))[1])
        assert self._settings is not None  # with keys, there are settings
        # A workspace whose own key cannot be read is not put on the app's account instead:
        # the provider is not offered there until an admin sets the key again.
        merged = {n: p for n, p in (self.env | own).items() if n not in unreadable}
        return {p.name: merged[p.name] for p in self._settings.plugins if p.name in merged}

    def any_for(self, name: str) -> Provider | None:
        """The app's Provider of that name, else one a workspace uses (for what needs no
        account, e.g. checking a webhook's signature with the app's webhook secret)."""
        if name in self.env:
            return self.env[name]
        return next((p for (_, n), (_, p) in self._own.items() if n == name), None)

    def scope(self, provider: Provider) -> str:
        """Which account a Provider speaks for: "" for the app's, else a fingerprint of the
        workspace's keys (so lists cached from one account never show in another), kept by
        a Provider after its workspace's keys changed, for the calls it still has under way."""
        return self._accounts.get(provider, "")

    def account(self, provider: Provider) -> str:
        """Whose account a Provider's requests count against, for its line and rate windows:
        the provider's name for the app's key, else the name and a fingerprint of the key
        fields (one account wherever the same key is set)."""
        fingerprint = self._accounts.get(provider)
        return provider.name if fingerprint is None else f"{provider.name}:{fingerprint}"

    def _own_provider(self, team: str, name: str, token: str) -> Provider | None:
        assert self.keys is not None and self._settings is not None and self._shared is not None
        fingerprint = hashlib.sha256(token.encode()).hexdigest()[:16]
        cached = self._own.get((team, name))
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        plugin = self.keys.plugins[name]
        fields = self.keys.open(token)
        if fields is None or any(not fields.get(c.field) for c in credentials(plugin)):
            if fingerprint not in self._unreadable:
                self._unreadable.add(fingerprint)
                log.warning(
                    "workspace %s: its own %s key cannot be read with this REELBOT_SECRET_KEY; "
                    "not offered there until an admin sets it again",
                    team,
                    plugin.label,
                )
            return None
        provider = self.build(name, fields)
        if cached is not None:
            self._retire(cached[1])
        self._own[(team, name)] = (fingerprint, provider)
        log.info("workspace %s: using its own %s key", team, plugin.label)
        return provider

    def build(self, name: str, fields: Mapping[str, str]) -> Provider:
        """A new Provider from the app's settings for it with these key fields instead (the
        caller closes it, or keeps it as a workspace's)."""
        if self.keys is None or self._settings is None or self._shared is None:
            raise RuntimeError("workspace keys are off")
        plugin = self.keys.plugins[name]
        update: dict[str, Any] = {
            c.field: SecretStr(fields[c.field]) if c.secret else fields[c.field]
            for c in credentials(plugin)
        }
        env_group = self._settings.group(name)
        group = env_group.model_copy(update=update)
        provider = plugin.create(group, self._shared)
        wanted = [fields[c.field] for c in credentials(plugin)]
        if wanted == [_plain(getattr(env_group, c.field)) for c in credentials(plugin)]:
            return provider  # the app's own key: the app's account, line and lists
        keys = json.dumps(wanted)
        try:
            self._accounts[provider] = hashlib.sha256(keys.encode()).hexdigest()[:16]
        except TypeError:  # a Provider that cannot be weakly referenced: the app's line
            log.warning("%s: its Provider is not weakly referable; one line for all keys", name)
        return provider

    def _retire(self, provider: Provider) -> None:
        async def later() -> None:
            await asyncio.sleep(self._retire_after)
            await provider.aclose()

        task = asyncio.get_running_loop().create_task(later())
        self._retiring[task] = provider
        task.add_done_callback(lambda done: self._retiring.pop(done, None))

    async def aclose(self) -> None:
        """Closes the workspaces' Providers (the app's are the caller's to close)."""
        for task, provider in list(self._retiring.items()):
            task.cancel()
            await provider.aclose()
        self._retiring.clear()
        for _, provider in self._own.values():
            await provider.aclose()
        self._own.clear()
