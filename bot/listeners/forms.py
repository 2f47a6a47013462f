"""A request modal's life before submission: opening it, the searchable lists (options
requests), and re-rendering when a pick changes what the other fields offer."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import ids
from bot.catalogs import matching, options_payload
from bot.kinds import KINDS
from bot.modals import INPUT_MAX, ModalContext, request_modal, state_values
from bot.notify import slack_error
from bot.preset_modal import PRESET_COMMAND, preset_kind_label, preset_modal
from bot.service import Reelbot
from providers.base import JobKind, MediaFile, Provider, ProviderError
from providers.forms import Choice, FieldType, Form

log = logging.getLogger(__name__)
# Of the 3 s a trigger_id lives: names of picked entries are looked up this long at most.
_OPEN_LOOKUP_S = 0.4


def kind_of(context: ModalContext | None) -> JobKind | None:
    try:
        return JobKind(context.kind) if context is not None else None
    except ValueError:
        return None


def chosen_provider(view: Mapping[str, Any], context: ModalContext) -> str:
    """The provider picked in the modal's provider select, else the one it opened with."""
    values = (view.get("state") or {}).get("values") or {}
    for block_id, actions in values.items():
        # A preset editor filled afresh renews the block's id (`provider~r1`).
        if block_id == ids.PROVIDER_BLOCK or block_id.startswith(f"{ids.PROVIDER_BLOCK}~"):
            selected = ((actions or {}).get(ids.PROVIDER_ACTION) or {}).get("selected_option")
            if isinstance(selected, dict) and selected.get("value"):
                return str(selected["value"])
    return context.provider


async def _picked(
    reelbot: Reelbot, provider: Provider, values: Mapping[str, Any], budget: float
) -> dict[str, Choice]:
    """Names and previews of the entries given by id (defaults, a command's options)."""
    found: dict[str, Choice] = {}
    for spec in provider.form.fields:
        value = values.get(spec.name)
        if spec.type is not FieldType.LOOKUP or not isinstance(value, str) or not value:
            continue
        choice = await reelbot.catalogs.find(provider, spec, values, value, budget=budget)
        if choice is not None:
            found[spec.name] = choice
    return found


def _open_modal(body: Mapping[str, Any]) -> tuple[dict[str, Any], ModalContext, JobKind] | None:
    """The request modal an interaction came from: its view, context and kind."""
    view = body.get("view") or {}
    context = ModalContext.load(view.get("private_metadata"))
    kind = kind_of(context)
    if context is None or kind is None:
        return None
    return view, context, kind


def _link_minutes(reelbot: Reelbot) -> float | None:
    links = reelbot.media_links
    return None if links is None else links.lifetime_seconds / 60


def _offers(reelbot: Reelbot, kind: JobKind) -> list[tuple[str, str]]:
    return [(p.name, p.label) for p in reelbot.offers(kind).values()]


async def open_request_modal(
    client: AsyncWebClient,
    reelbot: Reelbot,
    kind: JobKind,
    provider: Provider,
    *,
    trigger_id: str,
    channel_id: str,
    thread_ts: str | None = None,
    values: Mapping[str, Any] | None = None,
    file: MediaFile | None = None,
    preset: bool = False,
) -> bool:
    """views.open for a provider's form (with `preset`, as a channel preset's editor); False
    when Slack refused (the caller says so)."""
    start = {f.name: f.default for f in provider.form.fields} | dict(values or {})
    reelbot.catalogs.warm(provider, start)
    picked = await _picked(reelbot, provider, start, _OPEN_LOOKUP_S)
    context = ModalContext(
        kind.value, provider.name, channel_id, thread_ts, file=file, preset=preset
    )
    view = _render(reelbot, kind, provider, context, start, picked)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", slack_error(exc))
        return False
    return True


def _carried(old: Form, new: Form, entered: Mapping[str, Any]) -> dict[str, Any]:
    """Values that mean the same in another provider's form (the script, the switches)."""
    kept: dict[str, Any] = {}
    for name, value in entered.items():
        before, after = old.get(name), new.get(name)
        if before is None or after is None or before.type is not after.type:
            continue
        if after.type is FieldType.LOOKUP:
            continue  # another provider's avatar ids mean nothing here
        if after.type is FieldType.CHOICE and after.choice(str(value)) is None:
            continue
        if isinstance(value, str) and len(value) > INPUT_MAX:
            continue  # Slack would refuse the whole view
        kept[name] = value
    return kept


def register(app: AsyncApp, reelbot: Reelbot) -> None:
    forms = [p.form for p in reelbot.plugins]
    lookups = sorted({f.name for form in forms for f in form.fields if f.type is FieldType.LOOKUP})
    # With no searchable field anywhere, this matches nothing.
    names = re.compile(
        "^(?:" + "|".join(re.escape(n) for n in lookups) + ")$" if lookups else "(?!)"
    )

    @app.block_suggestion(names)
    async def suggest(ack: AsyncAck, body: dict[str, Any]) -> None:
        modal = _open_modal(body)
        view = modal[0] if modal else {}
        provider = None
        if modal is not None:
            # The form on screen: a provider switch still on its way does not count yet.
            provider = reelbot.offers(modal[2]).get(modal[1].provider)
        spec = provider.form.get(str(body.get("action_id"))) if provider else None
        if provider is None or spec is None or spec.type is not FieldType.LOOKUP:
            await ack(options=[])
            return
        entered, _ = state_values((view.get("state") or {}).get("values") or {}, provider.form)
        missing = [provider.form.get(n) for n in spec.depends_on if not entered.get(n)]
        if missing:
            first = missing[0]
            label = first.label.lower() if first else "the field above"
            await ack(**options_payload([], note=f"Pick the {label} first"))
            return
        try:
            found = await reelbot.catalogs.choices(provider, spec, entered)
        except ProviderError as error:
            await ack(**options_payload([], note=error.message))
            return
        if found is None:
            note = f"Loading {provider.label}'s list; type again in a moment"
            await ack(**options_payload([], note=note))
            return
        hits = matching(found, str(body.get("value") or ""))
        empty = f"No {spec.label.lower()} matches that; try another word"
        await ack(**options_payload(hits, note=None if hits else empty))

    @app.action(names)
    async def picked(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        """A pick in a searchable field: show its preview and refill what depends on it."""
        await ack()
        modal = _open_modal(body)
        if modal is None:
            return
        view, context, kind = modal
        provider = reelbot.offers(kind).get(context.provider)
        if provider is None:
            return
        changed = {str(a.get("action_id")) for a in body.get("actions") or []}
        state = (view.get("state") or {}).get("values") or {}
        entered, picked_now = state_values(state, provider.form)
        for spec in provider.form.fields:
            if changed.intersection(spec.depends_on):
                # Emptied, not back to its default: the default belongs to another avatar.
                entered[spec.name] = None
                picked_now.pop(spec.name, None)
        found = await _picked(reelbot, provider, entered, budget=2.0)
        fresh = context.next(provider.name)
        await _update(
            client, body, view, reelbot, kind, provider, fresh, entered, picked_now | found
        )

    @app.action(ids.PROVIDER_ACTION)
    async def provider_switched(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        modal = _open_modal(body)
        if modal is None:
            return
        view, context, kind = modal
        offers = reelbot.offers(kind)
        chosen = offers.get(chosen_provider(view, context))
        old = offers.get(context.provider)
        if chosen is None:
            return
        entered: dict[str, Any] = {}
        if old is not None:
            state = (view.get("state") or {}).get("values") or {}
            entered = _carried(old.form, chosen.form, state_values(state, old.form)[0])
        start = {f.name: f.default for f in chosen.form.fields} | entered
        reelbot.catalogs.warm(chosen, start)
        found = await _picked(reelbot, chosen, start, budget=1.0)
        fresh = context.next(chosen.name)
        await _update(client, body, view, reelbot, kind, chosen, fresh, start, found)


def _render(
    reelbot: Reelbot,
    kind: JobKind,
    provider: Provider,
    context: ModalContext,
    values: Mapping[str, Any],
    picked: Mapping[str, Choice],
    note: str | None = None,
) -> dict[str, Any]:
    if context.preset:
        kinds = [(k.value, preset_kind_label(KINDS[k])) for k in KINDS if reelbot.offers(k)]
        return preset_modal(
            KINDS[kind], provider.form, context, _offers(reelbot, kind), kinds, values, picked,
            note,
        )  # fmt: skip
    return request_modal(
        KINDS[kind], provider.form, context, _offers(reelbot, kind), values, picked,
        _link_minutes(reelbot),
    )  # fmt: skip


async def refill(
    client: AsyncWebClient,
    body: Mapping[str, Any],
    view: Mapping[str, Any],
    reelbot: Reelbot,
    kind: JobKind,
    provider: Provider,
    context: ModalContext,
    values: Mapping[str, Any],
    note: str | None = None,
) -> None:
    """An open modal shown again with these starting values (a preset editor filled afresh)."""
    start = {f.name: f.default for f in provider.form.fields} | dict(values)
    reelbot.catalogs.warm(provider, start)
    found = await _picked(reelbot, provider, start, budget=1.0)
    await _update(client, body, view, reelbot, kind, provider, context, start, found, note)


async def _update(
    client: AsyncWebClient,
    body: Mapping[str, Any],
    view: Mapping[str, Any],
    reelbot: Reelbot,
    kind: JobKind,
    provider: Provider,
    context: ModalContext,
    values: Mapping[str, Any],
    picked: Mapping[str, Choice],
    note: str | None = None,
) -> None:
    modal = _render(reelbot, kind, provider, context, values, picked, note)
    try:
        await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        error = slack_error(exc)
        if error in ("hash_conflict", "not_found"):
            return  # changed again meanwhile (that update wins), or closed
        log.warning("views.update after a pick failed: %s", error)
        user_id = str((body.get("user") or {}).get("id") or "")
        again = PRESET_COMMAND if context.preset else KINDS[kind].command
        if user_id:
            await reelbot.notifier.direct_message(
                user_id,
                f"Slack did not let me update the {provider.label} form ({error}). Close it "
                f"and run `{again}` again.",
            )
