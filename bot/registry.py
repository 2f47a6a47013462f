"""Which providers this build knows: one line per provider. The only module in bot/ (with the
demo and the sandbox) that names one."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from providers import aistudios, cuttr, heygen, viddyscribe, vizard
from providers.base import Provider, SharedState
from providers.plugin import ProviderPlugin

PLUGINS: tuple[ProviderPlugin[Any], ...] = (
    vizard.PLUGIN,
    cuttr.PLUGIN,
    heygen.PLUGIN,
    aistudios.PLUGIN,
    viddyscribe.PLUGIN,
)


def build_providers(settings: Settings, shared: SharedState) -> dict[str, Provider]:
    """The configured providers (those whose settings group has its key), by name.
    `shared` (the job store) is where they keep what every replica shares."""
    providers: dict[str, Provider] = {}
    for plugin in settings.plugins:
        group = settings.group(plugin.name)
        if group.configured:
            providers[plugin.name] = plugin.create(group, shared)
    return providers
