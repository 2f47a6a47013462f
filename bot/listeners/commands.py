"""Every kind's slash command: help, the modal, or a job at once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import NO_TEAM
from bot.help import help_text
from bot.kinds import KINDS, KindWords
from bot.listeners.common import MODAL_FAILED, STORE_UNSURE, not_configured
from bot.listeners.forms import open_request_modal
from bot.mrkdwn import escape
from bot.parse import Invalid, OpenModal, ShowHelp, Submit, parse_command
from bot.presets import Applied, apply_preset, named, read_preset, used_sentence
from bot.service import Origin, Reelbot, StoreUnsure
from providers.base import JobKind, Provider

log = logging.getLogger(__name__)

Handler = Callable[[AsyncAck, dict[str, Any], AsyncWebClient, AsyncRespond], Awaitable[None]]


async def _reply(ack: AsyncAck, text: str) -> None:
    """Answer only the person who typed the command."""
    await ack(text=text, response_type="ephemeral")


async def defaults_sentence(
    reelbot: Reelbot, provider: Provider, submit: Submit, command: str
) -> str | None:
    """Which workspace defaults a quick request used ("avatar Daisy and voice Sara")."""
    if not submit.defaults_used:
        return None
    named: list[str] = []
    for name in submit.defaults_used:
        spec = provider.form.get(name)
        value = submit.values.get(name)
        if spec is None or not isinstance(value, str):
            continue
        choice = await reelbot.catalogs.find(provider, spec, submit.values, value, budget=0.3)
        shown = f"*{escape(choice.label)}*" if choice else f"`{escape(value)}`"
        named.append(f"{spec.label.lower()} {shown}")
    if not named:
        return None
    return (
        f"Making it with {provider.label} and this workspace's default {' and '.join(named)}. "
        f"To pick others, run `{command}` alone for the form."
    )


async def _preset_sentence(
    reelbot: Reelbot, provider: Provider, applied: Applied, submit: Submit, usual: str
) -> str | None:
    """Which of the channel's preset a quick request used, when it used any of it (its
    provider counts when it is not the workspace's usual one)."""
    used = applied.used(submit)
    if applied.preset is None or applied.preset.provider != submit.provider:
        return None
    if not used and submit.provider == usual:
        return None
    kept = {name: submit.values[name] for name in used}
    return used_sentence(provider.label, await named(reelbot.catalogs, provider, kept))


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    for kind, words in KINDS.items():
        app.command(words.command)(_handler(kind, words, reelbot))


def _handler(kind: JobKind, words: KindWords, reelbot: Reelbot) -> Handler:
    async def command(
        ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond
    ) -> None:
        offers = reelbot.offers(kind)
        text = str(command.get("text") or "")
        missing = reelbot.unconfigured(kind)
        if not offers:
            if text.strip().lower() in {"help", "-h", "--help", "?"}:
                await _reply(
                    ack, help_text(words.command, words.noun, reelbot.forms(kind), missing)
                )
            else:
                await _reply(ack, not_configured(words, missing))
            return
        channel_id = str(command["channel_id"])
        team = str(command.get("team_id") or "") or NO_TEAM
        preset = (await read_preset(reelbot.store, team, channel_id)).get(kind)
        applied = apply_preset(offers, next(iter(offers)), preset)
        outcome = parse_command(text, applied.offers, default=applied.default)
        if isinstance(outcome, ShowHelp):
            await _reply(ack, help_text(words.command, words.noun, list(offers.values()), missing))
            return
        if isinstance(outcome, Invalid):
            await _reply(ack, outcome.message)
            return
        if isinstance(outcome, OpenModal):
            await ack()
            offer = offers[outcome.provider]
            opened = await open_request_modal(
                client,
                reelbot,
                kind,
                offer,
                trigger_id=str(command["trigger_id"]),
                channel_id=channel_id,
                values=applied.start(outcome.provider) | outcome.values,
            )
            if not opened:
                failed = MODAL_FAILED.format(command=words.command, example=offer.form.example)
                await respond(text=failed, response_type="ephemeral")
            return
        stale = await reelbot.catalogs.stale_picks(
            offers[outcome.provider], outcome.values, command=words.command
        )
        if stale:
            await _reply(ack, " ".join(stale.values()))
            return
        origin = Origin(
            user_id=str(command["user_id"]),
            channel_id=channel_id,
            request_id=str(command.get("trigger_id") or ""),
            team_id=command.get("team_id"),
        )
        try:
            job = await reelbot.create_job(outcome, origin)
        except StoreUnsure:
            await _reply(ack, STORE_UNSURE)
            return
        provider = offers[outcome.provider]
        from_preset = applied.used(outcome)
        if from_preset:
            # Said as the channel's, not as the workspace's defaults.
            kept = tuple(n for n in outcome.defaults_used if n not in from_preset)
            outcome = replace(outcome, defaults_used=kept)
        said = [
            await _preset_sentence(reelbot, provider, applied, outcome, next(iter(offers))),
            await defaults_sentence(reelbot, provider, outcome, words.command),
        ]
        if any(said):
            await _reply(ack, " ".join(s for s in said if s))
        else:
            await ack()
        reelbot.start(job)

    return command
