"""A workspace's own provider keys: App Home's admin button (and `/reel keys`) opens the modal
for workspace admins; its submission seals the keys and stores them for that workspace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.admins import SLACK_BUSY
from bot.key_modal import KeyState, keys_modal, notice_modal, read_submission
from bot.listeners.common import TOO_SLOW, AckBudget, team_of
from bot.notify import slack_error
from bot.service import Reelbot
from bot.store import STORE_DOWN
from bot.workspace_keys import credentials
from providers.base import NeedsAdmin

log = logging.getLogger(__name__)

NOT_ADMIN = "Only a workspace admin or owner can change this workspace's provider keys."
KEYS_OFF = (
    "Workspace provider keys are off here: whoever runs Reelbot must set REELBOT_SECRET_KEY "
    "first. Until then every workspace uses the app's keys."
)
NO_TEAM = "Slack did not say which workspace this is, so I can't change its keys."
# Of Slack's 3 s for a view submission: how long the keys' trial calls may take together at
# most; less when the admin check took a while (the ack's whole budget is AckBudget's).
CHECK_BUDGET_S = 1.5
# What saving the keys needs of the ack's budget, after the trial.
SAVE_RESERVE_S = 0.3
STORE_DOWN_TEXT = (
    "Reelbot can't reach its store right now, so the keys may not be saved. Try again soon."
)


async def key_states(
    reelbot: Reelbot, team: str
) -> tuple[dict[str, KeyState], dict[str, dict[str, str]]]:
    """Each provider's state for the workspace, and the key fields it has (when readable)."""
    keys = reelbot.directory.keys
    sealed = await keys.sealed(team) if keys is not None else {}
    states: dict[str, KeyState] = {}
    own: dict[str, dict[str, str]] = {}
    for plugin in reelbot.plugins:
        token = sealed.get(plugin.name)
        fields = keys.open(token) if keys is not None and token is not None else None
        if fields is not None:
            states[plugin.name], own[plugin.name] = KeyState.OWN, fields
        elif token is not None:
            states[plugin.name] = KeyState.UNREADABLE
        elif plugin.name in reelbot.providers:
            states[plugin.name] = KeyState.APP
        else:
            states[plugin.name] = KeyState.NONE
    return states, own


async def open_keys(
    client: AsyncWebClient, reelbot: Reelbot, body: dict[str, Any], user_id: str
) -> str | None:
    """Opens the keys modal for an admin; otherwise (or when Slack refused) the sentence to
    tell them."""
    # Quick: the trigger_id opens a modal within 3 s only.
    admin = await reelbot.admins.quick(client, team_of(body), user_id)
    if admin is None:
        return SLACK_BUSY
    if not admin:
        return NOT_ADMIN
    keys, team = reelbot.directory.keys, team_of(body)
    if keys is None or not keys.enabled:
        return KEYS_OFF
    if team is None:
        return NO_TEAM
    try:
        states, _ = await key_states(reelbot, team)
    except STORE_DOWN:
        return STORE_DOWN_TEXT
    try:
        await client.views_open(
            trigger_id=str(body.get("trigger_id") or ""), view=keys_modal(reelbot.plugins, states)
        )
    except SlackApiError as exc:
        log.warning("views.open for the keys modal failed: %s", slack_error(exc))
        return "Slack didn't let me open the form in time; please try again."
    return None


async def _tried(
    reelbot: Reelbot, name: str, fields: Mapping[str, str], seconds: float
) -> bool | None:
    """Whether the provider accepts these keys (its free authenticated call), or None when it
    could not say within `seconds` (none left: not tried)."""
    if seconds <= 0:
        log.info("%s key not checked (no time left before Slack's deadline)", name)
        return None
    provider = reelbot.directory.build(name, fields)
    try:
        async with asyncio.timeout(seconds):
            await provider.check_credentials()
    except NeedsAdmin:
        return False
    except Exception as exc:  # not knowing is not a refusal
        log.info("%s key not checked (%s)", name, type(exc).__name__)
        return None
    finally:
        await provider.aclose()
    return True


async def _refused(
    reelbot: Reelbot, typed: Mapping[str, Mapping[str, str]], seconds: float
) -> tuple[dict[str, str], list[str]]:
    """Errors by block for the keys a provider refused, and the providers not checked (within
    `seconds`, at most CHECK_BUDGET_S)."""
    names = sorted(typed)
    seconds = min(seconds, CHECK_BUDGET_S)
    answers = await asyncio.gather(*(_tried(reelbot, name, typed[name], seconds) for name in names))
    errors: dict[str, str] = {}
    unchecked: list[str] = []
    for name, answer in zip(names, answers, strict=True):
        plugin = next(p for p in reelbot.plugins if p.name == name)
        if answer is False:
            first = credentials(plugin)[0]
            errors[f"key:{name}:{first.field}"] = (
                f"{plugin.label} did not accept this key when Reelbot tried it. Check it and "
                "paste it again."
            )
        elif answer is None:
            unchecked.append(name)
    return errors, unchecked


def _summary(reelbot: Reelbot, saved: list[str], removed: list[str], unchecked: list[str]) -> str:
    labels = {p.name: p.label for p in reelbot.plugins}
    lines = []
    for name in saved:
        unsure = f" ({labels[name]} could not check it just now)" if name in unchecked else ""
        lines.append(f"• {labels[name]}: this workspace's own key from now on{unsure}.")
    for name in removed:
        after = "back to the app's key" if name in reelbot.providers else "not offered here now"
        lines.append(f"• {labels[name]}: this workspace's key removed, {after}.")
    if not lines:
        return "Nothing changed: every field was blank."
    return "Provider keys for this workspace saved.\n" + "\n".join(lines)


async def _direct_message(client: AsyncWebClient, user_id: str, text: str) -> None:
    # With this request's own client: it carries the token of the workspace the admin is in.
    opened = await client.conversations_open(users=user_id)
    await client.chat_postMessage(channel=str(opened["channel"]["id"]), text=text)


async def _say_on_form(ack: AsyncAck, view: Mapping[str, Any], text: str) -> None:
    """`text` under the form's first field, keeping what the admin typed."""
    first = next(
        (b["block_id"] for b in view.get("blocks") or [] if b.get("type") == "input"), None
    )
    if first is None:
        await ack(response_action="update", view=notice_modal(text))
    else:
        await ack(response_action="errors", errors={str(first): text})


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    @app.action(ids.PROVIDER_KEYS_ACTION)
    async def clicked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        said = await open_keys(client, reelbot, body, user_id)
        if said is None:
            return
        try:
            await client.views_open(trigger_id=str(body.get("trigger_id")), view=notice_modal(said))
        except SlackApiError:
            await _direct_message(client, user_id, said)

    @app.view(ids.PROVIDER_KEYS_MODAL)
    async def submitted(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        budget = AckBudget()
        user_id = str((body.get("user") or {}).get("id") or "")
        keys, team = reelbot.directory.keys, team_of(body)
        # Quick (no retries, a short timeout): this answer goes in the ack.
        admin = await reelbot.admins.quick(client, team, user_id)
        if admin is None:
            await _say_on_form(ack, view, SLACK_BUSY)
            return
        refusal = None
        if not admin:
            refusal = NOT_ADMIN
        elif keys is None or not keys.enabled:
            refusal = KEYS_OFF
        elif team is None:
            refusal = NO_TEAM
        if refusal is not None or keys is None or team is None:
            await ack(response_action="update", view=notice_modal(refusal or NO_TEAM))
            return
        try:
            _, own = await key_states(reelbot, team)
            changes = read_submission(
                reelbot.plugins, (view.get("state") or {}).get("values") or {}, own
            )
            if changes.errors:
                await ack(response_action="errors", errors=changes.errors)
                return
            trial = budget.left() - SAVE_RESERVE_S
            refused, unchecked = await _refused(reelbot, changes.typed, trial)
            if refused:
                await ack(response_action="errors", errors=refused)
                return
            if budget.left() <= 0:
                # Slack may have stopped waiting: save nothing the admin would not hear of.
                log.warning("workspace %s: keys not saved, the submission ran late", team)
                await _say_on_form(ack, view, TOO_SLOW)
                return
            for name, fields in changes.typed.items():
                await keys.put(team, name, fields)
            for name in changes.remove:
                await keys.remove(team, name)
        except STORE_DOWN:
            await ack(response_action="update", view=notice_modal(STORE_DOWN_TEXT))
            return
        await ack()
        saved, removed = sorted(changes.typed), changes.remove
        log.info(
            "workspace %s: %s set its own keys for %s, removed %s",
            team,
            user_id,
            ", ".join(saved) or "none",
            ", ".join(removed) or "none",
        )
        try:
            summary = _summary(reelbot, saved, removed, unchecked)
            await _direct_message(client, user_id, summary)
        except SlackApiError as exc:
            log.warning("keys saved, but the confirmation DM failed: %s", slack_error(exc))
