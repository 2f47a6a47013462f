"""Opening a channel preset's editor and filling it afresh (another channel or kind): what
`/reel preset` and the listeners in bot/listeners/presets.py share. The admin check is the
caller's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import NO_TEAM
from bot.kinds import KINDS
from bot.listeners.common import team_of as request_team
from bot.listeners.forms import open_request_modal, refill
from bot.modals import ModalContext
from bot.preset_modal import PRESET_COMMAND
from bot.presets import ChannelPreset, apply_preset, read_preset
from bot.service import Reelbot
from providers.base import JobKind, Provider

NOT_ADMIN = (
    "Only workspace admins can set channel presets. Ask one of them to run "
    f"`{PRESET_COMMAND}` in the channel."
)
NO_PROVIDERS = "No provider is set up here yet, so there is nothing to preset."
OPEN_FAILED = f"Slack didn't let me open the preset editor in time. Run `{PRESET_COMMAND}` again."
# Channels a preset can be for (the picker offers public and private ones).
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def team_of(body: Mapping[str, Any]) -> str:
    """The workspace, as presets are stored under it (NO_TEAM without one)."""
    return request_team(body) or NO_TEAM


async def starting(
    reelbot: Reelbot, kind: JobKind, preset: ChannelPreset, team: str
) -> tuple[Provider, dict[str, Any]]:
    """The provider and values a kind's editor shows: the channel's preset, where it has one
    whose provider is still set up, else the workspace's default provider and values."""
    offers = await reelbot.offers(kind, team)
    applied = apply_preset(offers, next(iter(offers)), preset.get(kind))
    return offers[applied.default], applied.start(applied.default)


async def open_editor(
    client: AsyncWebClient, reelbot: Reelbot, *, trigger_id: str, team: str, channel_id: str
) -> str | None:
    """views.open for the editor of `channel_id` (none: the picker starts empty), on the first
    kind the channel has a preset for; a sentence for the person when it cannot open."""
    kinds = [k for k in KINDS if await reelbot.offers(k, team)]
    if not kinds:
        return NO_PROVIDERS
    channel = channel_id if _CHANNEL_ID.match(channel_id) else ""
    preset = await read_preset(reelbot.store, team, channel)
    kind = next((k for k in kinds if preset.get(k) is not None), kinds[0])
    provider, values = await starting(reelbot, kind, preset, team)
    opened = await open_request_modal(
        client, reelbot, kind, provider, team_id=team, trigger_id=trigger_id,
        channel_id=channel, values=values, preset=True,
    )  # fmt: skip
    return None if opened else OPEN_FAILED


async def show(
    client: AsyncWebClient,
    body: Mapping[str, Any],
    reelbot: Reelbot,
    context: ModalContext,
    kind: JobKind,
    channel_id: str,
    *,
    note: str | None = None,
) -> None:
    """The open editor filled afresh with `channel_id`'s preset for `kind`."""
    view = body.get("view") or {}
    preset = await read_preset(reelbot.store, team_of(body), channel_id)
    provider, values = await starting(reelbot, kind, preset, team_of(body))
    fresh = context.reloaded(kind.value, provider.name, channel_id)
    await refill(client, body, view, reelbot, kind, provider, fresh, values, note)
