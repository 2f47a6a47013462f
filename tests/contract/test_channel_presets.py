"""Channel presets in both stores: each kind of a channel's preset is its own setting, so two
admins saving different kinds at once (on two replicas) both keep theirs, and clearing one
kind leaves the others."""

from __future__ import annotations

import asyncio

from bot.presets import KindPreset, clear_preset, read_preset, save_preset
from providers.base import JobKind
from tests.contract.conftest import Connect

CLIPS = KindPreset("vizard", {"lang": "fr"})
AVATAR = KindPreset("heygen", {"avatar": "Tyler"})


async def test_two_kinds_saved_at_once_on_two_replicas_are_both_kept(connect: Connect) -> None:
    one, other = connect(), connect()
    await asyncio.gather(
        save_preset(one, "T1", "C1", JobKind.CLIPS, CLIPS),
        save_preset(other, "T1", "C1", JobKind.AVATAR, AVATAR),
    )
    preset = await read_preset(one, "T1", "C1")
    assert preset.kinds == {JobKind.CLIPS: CLIPS, JobKind.AVATAR: AVATAR}
    assert (await read_preset(one, "T1", "C2")).kinds == {}
    assert (await read_preset(one, "T2", "C1")).kinds == {}

    assert await clear_preset(other, "T1", "C1", JobKind.CLIPS) is True
    assert await clear_preset(other, "T1", "C1", JobKind.CLIPS) is False
    assert (await read_preset(one, "T1", "C1")).kinds == {JobKind.AVATAR: AVATAR}
