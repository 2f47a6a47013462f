"""Message shortcuts ("Make an avatar video"): the kind's modal, prefilled from the message,
with the results going into that message's thread."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.budget import NO_TEAM
from bot.kinds import KINDS, KindWords
from bot.listeners.common import MODAL_FAILED, not_configured
from bot.listeners.forms import open_request_modal
from bot.parse import plain_text
from bot.presets import apply_preset, read_preset
from bot.service import Reelbot
from bot.slack_files import is_video, media_file
from bot.values import without_controls
from providers.base import JobKind, MediaFile
from providers.forms import FieldType

# Slack's longest plain-text input.
_INPUT_MAX = 3000
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# The first web link in a message: Slack writes links as <https://…> or <https://…|label>.
_LINK = re.compile(r"<(https?://[^|>\s]+)(?:\|[^>]*)?>")
log = logging.getLogger(__name__)
_MAX_LOOKUPS = 5
_LOOKUP_S = 1.0


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    for kind, words in KINDS.items():
        if words.shortcut is not None:
            app.shortcut(words.shortcut)(_handler(kind, words, reelbot))


def _handler(kind: JobKind, words: KindWords, reelbot: Reelbot) -> Any:
    async def shortcut(ack: AsyncAck, body: dict[str, Any], client: Any) -> None:
        await ack()
        user_id = str((body.get("user") or {}).get("id") or "")
        channel_id = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        offers = reelbot.offers(kind)
        if not offers:
            await reelbot.notifier.ephemeral(
                channel_id, user_id, not_configured(words, reelbot.unconfigured(kind))
            )
            return
        team = str((body.get("team") or {}).get("id") or "") or NO_TEAM
        preset = (await read_preset(reelbot.store, team, channel_id)).get(kind)
        applied = apply_preset(offers, next(iter(offers)), preset)
        provider = offers[applied.default]
        subject = provider.form.subject_field
        values: dict[str, Any] = {}
        cut = False
        file = None
        if subject.type is FieldType.URL:
            file = await _video_file(client, message)
            link = _LINK.search(str(message.get("text") or ""))
            linkable = reelbot.media_links is not None
            if file is not None and not provider.form.takes_files and not linkable:
                # The video in the message is the subject: a provider that takes it, if any.
                takers = [p for p in offers.values() if p.form.takes_files]
                provider = takers[0] if takers else provider
            if file is not None and not provider.form.takes_files and not linkable:
                if link is None:
                    await reelbot.notifier.ephemeral(
                        channel_id, user_id, _links_only(provider.label, words.command)
                    )
                    return
                file = None  # the message's link is the video
            if link is not None and file is None:
                values[subject.name] = link.group(1)
        if subject.type is FieldType.TEXT:
            limit = min(subject.max_length or _INPUT_MAX, _INPUT_MAX)
            text = await _with_names(client, str(message.get("text") or ""))
            script = without_controls(plain_text(text)).strip()
            cut = len(script) > limit
            values[subject.name] = script[:limit]
        opened = await open_request_modal(
            client,
            reelbot,
            kind,
            provider,
            trigger_id=str(body.get("trigger_id") or ""),
            channel_id=channel_id,
            thread_ts=str(message.get("thread_ts") or message.get("ts") or "") or None,
            values=applied.start(provider.name) | values,
            file=file,
        )
        if not opened:
            failed = MODAL_FAILED.format(command=words.command, example=provider.form.example)
            await reelbot.notifier.ephemeral(channel_id, user_id, failed)
        elif cut:
            longer = (subject.max_length or 0) > limit
            tip = (
                f" For all of it, send it as `{words.command}` with the options before the text."
                if longer
                else f" {provider.label} takes at most {limit:,}, so shorten it there."
            )
            await reelbot.notifier.ephemeral(
                channel_id,
                user_id,
                f"That message is longer than the form takes ({limit:,} characters), so the "
                f"form holds its beginning.{tip}",
            )

    return shortcut


def _links_only(label: str, command: str) -> str:
    return (
        f"{label} takes a link to the video, and Reelbot can hand it a link to a file uploaded "
        "to Slack only when it has a public address (a workspace admin sets "
        "REELBOT_PUBLIC_URL). Until then, share the video's link and use "
        f"`{command}` or this shortcut on it."
    )


async def _video_file(client: Any, message: dict[str, Any]) -> MediaFile | None:
    """The message's first video file, as a request keeps it. Files Slack sent without their
    details (`file_access: check_file_info`) are looked up together, within one second of the
    trigger's three."""
    items = [f for f in message.get("files") or [] if isinstance(f, dict) and f.get("id")]

    async def details(item: dict[str, Any]) -> dict[str, Any]:
        if item.get("file_access") != "check_file_info" and "size" in item:
            return item
        answer = await client.files_info(file=str(item["id"]))
        return dict(answer.get("file") or {})

    lookups = [asyncio.ensure_future(details(item)) for item in items[:_MAX_LOOKUPS]]
    if not lookups:
        return None
    done, pending = await asyncio.wait(lookups, timeout=_LOOKUP_S)
    for task in pending:
        task.cancel()
    for task in lookups:
        if task not in done or task.cancelled() or task.exception() is not None:
            if task in done and not task.cancelled():
                log.info("files.info for a shortcut's file failed (%s)", task.exception())
            continue
        item = task.result()
        found = media_file(item) if is_video(item) else None
        if found is not None:
            return found
    return None


async def _with_names(client: Any, text: str) -> str:
    """Mentions as the names people see (`<@U123>` -> `@Sam`), as far as Slack answers in
    time: the trigger id lives 3 s, so at most a second and a few people are looked up."""
    ids_seen = list(dict.fromkeys(_MENTION.findall(text)))[:_MAX_LOOKUPS]
    if not ids_seen:
        return text

    async def name_of(user: str) -> tuple[str, str | None]:
        try:
            answer = await client.users_info(user=user)
        except Exception:  # any failure leaves the mention as it was
            return user, None
        info = answer.get("user") or {}
        profile = info.get("profile") or {}
        name = profile.get("display_name") or info.get("real_name") or info.get("name")
        return user, str(name) if name else None

    try:
        async with asyncio.timeout(_LOOKUP_S):
            names = dict(await asyncio.gather(*(name_of(u) for u in ids_seen)))
    except TimeoutError:
        return text

    def named(match: re.Match[str]) -> str:
        name = names.get(match.group(1))
        return f"@{name}" if name else match.group(0)

    return _MENTION.sub(named, text)
