"""The channel preset editor's listeners, for workspace admins: the button that opens it
(App Home, `/reel settings`), its channel and kind pickers, its Clear button and its Save.
(`/reel preset` opens it too, from bot/listeners/reel.py.) The provider select and the
searchable fields are the request modal's own (bot/listeners/forms.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.admins import SLACK_BUSY
from bot.kinds import KINDS
from bot.listeners.common import TOO_SLOW, AckBudget
from bot.listeners.forms import chosen_provider, kind_of
from bot.listeners.preset_editor import NOT_ADMIN, open_editor, show, team_of
from bot.modals import ModalContext
from bot.parse import ModalErrors, parse_modal
from bot.preset_modal import saved_view
from bot.presets import KindPreset, clear_preset, named, preset_values, save_preset
from bot.service import Reelbot
from bot.store import STORE_DOWN
from providers.base import JobKind
from providers.forms import FieldType, Form

log = logging.getLogger(__name__)
STORE_DOWN_TEXT = "Reelbot can't reach its store right now, so nothing changed. Try again soon."
PICK_CHANNEL = "Pick the channel these defaults are for."
# What stands for the video or script while a preset's values are checked: the preset never
# holds one, but the provider's own checks run on a whole request.
_SAMPLE_LINK = "https://example.com/talk.mp4"
_SAMPLE_SCRIPT = "Hello."
# Of the ack's budget: how long Save may wait for a dependent list (an avatar's outfits), and
# what it keeps for saving and naming the picks.
_LISTS_S = 1.0
_SAVE_RESERVE_S = 0.5


def _editor(body: Mapping[str, Any]) -> tuple[ModalContext, JobKind] | None:
    context = ModalContext.load((body.get("view") or {}).get("private_metadata"))
    kind = kind_of(context)
    if context is None or kind is None or not context.preset:
        return None
    return context, kind


def _state(view: Mapping[str, Any]) -> dict[str, Any]:
    return dict((view.get("state") or {}).get("values") or {})


def _channel_in(view: Mapping[str, Any]) -> str | None:
    element = _state(view).get(ids.PRESET_CHANNEL_BLOCK, {}).get(ids.PRESET_CHANNEL_ACTION, {})
    chosen = (element or {}).get("selected_conversation")
    return str(chosen) if chosen else None


def _selected(body: Mapping[str, Any]) -> str:
    action = (body.get("actions") or [{}])[0]
    option = action.get("selected_option") or {}
    return str(action.get("selected_conversation") or option.get("value") or "")


def _sample(form: Form) -> dict[str, Any]:
    subject = form.subject_field
    return {subject.name: _SAMPLE_LINK if subject.type is FieldType.URL else _SAMPLE_SCRIPT}


def _block_of(form: Form, context: ModalContext, name: str) -> str:
    """The block a field's error goes under, as the editor was drawn; the channel picker for
    what the editor does not show (the video or script)."""
    if name == ids.SWITCHES_BLOCK:
        return context.suffixed(ids.SWITCHES_BLOCK)
    spec = form.get(name)
    if spec is None or name == form.subject:
        return ids.PRESET_CHANNEL_BLOCK
    if spec.type is FieldType.SWITCH:
        return context.suffixed(ids.SWITCHES_BLOCK)
    return context.block_id(spec)


async def _tell(reelbot: Reelbot, channel_id: str, user_id: str, text: str) -> None:
    if channel_id:
        await reelbot.notifier.ephemeral(channel_id, user_id, text)
    else:
        await reelbot.notifier.direct_message(user_id, text)


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.action(ids.CHANNEL_PRESETS_ACTION)
    async def opened(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        channel_id = str(channel or "")
        # Quick: the trigger_id opens the editor within 3 s only.
        admin = await reelbot.admins.quick(client, team_of(body), user_id)
        if not admin:
            await _tell(reelbot, channel_id, user_id, SLACK_BUSY if admin is None else NOT_ADMIN)
            return
        said = await open_editor(
            client, reelbot, trigger_id=str(body.get("trigger_id") or ""), team=team_of(body),
            channel_id=channel_id,
        )  # fmt: skip
        if said:
            await _tell(reelbot, channel_id, user_id, said)

    @app.action(ids.PRESET_KIND_ACTION)
    async def kind_chosen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        editor = _editor(body)
        try:
            kind = JobKind(_selected(body))
        except ValueError:
            return
        if editor is None or not await reelbot.offers(kind, team_of(body)):
            return
        context = editor[0]
        channel = _channel_in(body.get("view") or {}) or context.channel_id
        await show(client, body, reelbot, context, kind, channel)

    @app.action(ids.PRESET_CHANNEL_ACTION)
    async def channel_chosen(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        editor = _editor(body)
        channel = _selected(body)
        if editor is not None and channel:
            await show(client, body, reelbot, editor[0], editor[1], channel)

    @app.action(ids.PRESET_CLEAR_ACTION)
    async def cleared(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        editor = _editor(body)
        if editor is None:
            return
        context, kind = editor
        user_id = str((body.get("user") or {}).get("id") or "")
        channel = _channel_in(body.get("view") or {}) or context.channel_id
        command, team = KINDS[kind].command, team_of(body)
        if not await reelbot.admins.is_admin(client, team, user_id):
            note = NOT_ADMIN
        elif not channel:
            note = PICK_CHANNEL
        else:
            try:
                if await clear_preset(reelbot.store, team, channel, kind):
                    note = f"Cleared the `{command}` preset of <#{channel}>."
                    log.info("channel preset: %s cleared %s for %s", user_id, kind.value, channel)
                else:
                    note = f"<#{channel}> has no `{command}` preset."
            except STORE_DOWN as exc:
                log.warning("channel preset not cleared: %s", type(exc).__name__)
                note = STORE_DOWN_TEXT
        await show(client, body, reelbot, context, kind, channel, note=note)

    @app.view(ids.PRESET_MODAL)
    async def saved(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        budget = AckBudget()
        editor = _editor(body)
        if editor is None:
            await ack(response_action="clear")
            return
        context, kind = editor
        user_id = str((body.get("user") or {}).get("id") or "")
        offer = (await reelbot.offers(kind, team_of(body))).get(context.provider)
        channel = _channel_in(view)
        if offer is None or chosen_provider(view, context) != context.provider:
            await ack(
                response_action="errors",
                errors={context.suffixed(ids.PROVIDER_BLOCK) if offer else ids.PRESET_KIND_BLOCK:
                        "These fields are for another provider than the one chosen here: "
                        "choose the provider again."},
            )  # fmt: skip
            return
        if not channel:
            await ack(response_action="errors", errors={ids.PRESET_CHANNEL_BLOCK: PICK_CHANNEL})
            return
        # Quick (no retries, a short timeout): this answer goes in the ack.
        admin = await reelbot.admins.quick(client, team_of(body), user_id)
        if not admin:
            refusal = SLACK_BUSY if admin is None else NOT_ADMIN
            await ack(response_action="errors", errors={ids.PRESET_CHANNEL_BLOCK: refusal})
            return
        result = parse_modal(_state(view), offer, _sample(offer.form))
        if not isinstance(result, ModalErrors):
            # Lists not had in time pass; what is left of the ack's budget, 1 s at most.
            within = max(0.0, min(_LISTS_S, budget.left() - _SAVE_RESERVE_S))
            stale = await reelbot.catalogs.stale_picks(offer, result.values, budget=within)
            result = ModalErrors(stale) if stale else result
        if isinstance(result, ModalErrors):
            errors: dict[str, str] = {}
            for name, text in result.errors.items():
                errors.setdefault(_block_of(offer.form, context, name), text)
            await ack(response_action="errors", errors=errors)
            return
        values = preset_values(offer.form, result.values)
        team = team_of(body)
        if budget.left() <= 0:  # Slack may have stopped waiting: save nothing unheard of
            await ack(response_action="errors", errors={ids.PRESET_CHANNEL_BLOCK: TOO_SLOW})
            return
        try:
            await save_preset(reelbot.store, team, channel, kind, KindPreset(offer.name, values))
        except STORE_DOWN as exc:
            log.warning("channel preset not saved: %s", type(exc).__name__)
            await ack(response_action="errors", errors={ids.PRESET_CHANNEL_BLOCK: STORE_DOWN_TEXT})
            return
        log.info("channel preset: %s set %s for %s (%s)", user_id, kind.value, channel, offer.name)
        parts = await named(
            reelbot.catalogs, offer, values, seconds=max(0.0, min(0.3, budget.left()))
        )
        settings = f" with {', '.join(parts)}" if parts else " with its usual settings"
        text = (
            f"Saved. `{KINDS[kind].command}` in <#{channel}> now uses {offer.label}{settings}, "
            "and its form starts there. Options people type still win."
        )
        await ack(response_action="update", view=saved_view(text))
