"""Reviewer's probe: with workspace keys, every workspace's AI Studios Provider shares the
store's SharedState, and the access token cached there is keyed by base URL and app id only
(providers/aistudios/provider.py:156-158). A workspace whose admin saved the same app id with
another user key (the trial call could not say in time: bot/listeners/provider_keys.py `_tried`
answers None and the keys are saved) rides on the token another account obtained."""

from __future__ import annotations

import pytest

from bot.registry import PLUGINS
from providers.base import NeedsAdmin
from providers.simulators.aistudios import AIStudiosSimulator
from tests.contract.test_check_credentials import MemoryShared


async def test_probe_a_wrong_user_key_never_uses_the_token_of_another_account() -> None:
    simulator = AIStudiosSimulator("app-shared", "uk-right")
    await simulator.start()
    shared = MemoryShared()  # one store for every workspace, as ProviderDirectory.build gives
    plugin = next(p for p in PLUGINS if p.name == "aistudios")

    def provider(user_key: str):  # type: ignore[no-untyped-def]
        group = plugin.settings(
            _env_file=None, app_id="app-shared", user_key=user_key, base_url=simulator.base_url
        )
        return plugin.create(group, shared)

    owner = provider("uk-right")  # workspace B (or the app): its token lands in the store
    other = provider("uk-WRONG")  # workspace A, same app id, a key AI Studios refuses
    try:
        assert await owner.catalog("avatar", {})
        with pytest.raises(NeedsAdmin):
            await other.catalog("avatar", {})  # must not list B's account's avatars
    finally:
        await owner.aclose()
        await other.aclose()
        await simulator.stop()
