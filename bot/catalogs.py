"""Provider lists (avatars, voices, outfits) for a modal's searchable selects.

Slack gives an options request 3 s. A provider's list can take longer (some page their
looks 50 at a time), so each list is kept in the store for CATALOG_CACHE_MINUTES, shared by
every replica, and fetched once per replica at a time. Opening a modal warms the lists it
will need; a request that finds nothing cached within its budget answers with what it can
and the fetch carries on for the next keystroke.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot.ids import NO_CHOICE
from providers.base import Provider, ProviderError, SharedState
from providers.forms import Choice, FieldType, FormField

log = logging.getLogger(__name__)
# Of Slack's 3 s for an options request.
ANSWER_BUDGET_S = 2.2
MAX_OPTIONS = 100
_TEXT_MAX = 75
_VALUE_MAX = 150


def _dump(choices: tuple[Choice, ...]) -> str:
    return json.dumps(
        [
            {
                "value": c.value,
                "label": c.label,
                "description": c.description,
                "image_url": c.image_url,
                "group": c.group,
            }
            for c in choices
        ]
    )


def _load(raw: str) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            value=str(item["value"]),
            label=str(item["label"]),
            description=item.get("description"),
            image_url=item.get("image_url"),
            group=item.get("group"),
        )
        for item in json.loads(raw)
    )


class Catalogs:
    def __init__(
        self,
        shared: SharedState,
        ttl_seconds: float,
        scope: Callable[[Provider], str] | None = None,
    ) -> None:
        """`scope` names the account a Provider speaks for ("" for the app's), so a list
        fetched with one workspace's keys is never shown to another."""
        self._scope = scope or (lambda _: "")
        self._shared = shared
        self._ttl = ttl_seconds
        self._fetching: dict[str, asyncio.Task[tuple[Choice, ...]]] = {}
        self._warming: set[asyncio.Task[None]] = set()

    def _key(self, provider: Provider, spec: FormField, values: Mapping[str, Any]) -> str:
        depends = json.dumps({name: values.get(name) for name in spec.depends_on}, sort_keys=True)
        digest = hashlib.sha256(depends.encode()).hexdigest()[:16]
        scope = self._scope(provider)
        account = f"{provider.name}@{scope}" if scope else provider.name
        return f"catalog:{account}:{spec.name}:{digest}"

    async def choices(
        self,
        provider: Provider,
        spec: FormField,
        values: Mapping[str, Any],
        *,
        budget: float | None = ANSWER_BUDGET_S,
    ) -> tuple[Choice, ...] | None:
        """The whole list, or None when it could not be had within `budget` seconds (the
        fetch goes on). A provider error is raised as ProviderError."""
        if any(values.get(name) in (None, "") for name in spec.depends_on):
            return ()
        key = self._key(provider, spec, values)
        cached = await self._shared.shared_get(key)
        if cached is not None:
            return _load(cached)
        task = self._fetching.get(key)
        if task is None:
            task = asyncio.create_task(self._fetch(key, provider, spec, dict(values)))
            self._fetching[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        try:
            return await asyncio.wait_for(asyncio.shield(task), budget)
        except TimeoutError:
            return None

    async def idle(self) -> None:
        """Wait for every fetch under way (for benchmarks and orderly tests)."""
        await asyncio.gather(*self._fetching.values(), return_exceptions=True)

    def _done(self, key: str, task: asyncio.Task[tuple[Choice, ...]]) -> None:
        self._fetching.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.info("list %s not loaded: %s", key, type(task.exception()).__name__)

    async def _fetch(
        self, key: str, provider: Provider, spec: FormField, values: dict[str, Any]
    ) -> tuple[Choice, ...]:
        choices = await provider.catalog(spec.name, values)
        await self._shared.shared_put(key, _dump(choices), self._ttl)
        log.info("%s %s list cached: %d entries", provider.name, spec.name, len(choices))
        return choices

    def warm(self, provider: Provider, values: Mapping[str, Any]) -> None:
        """Start fetching every list the provider's modal needs now, without waiting."""
        for spec in provider.form.fields:
            if spec.type is FieldType.LOOKUP:
                task = asyncio.create_task(self._warm_one(provider, spec, dict(values)))
                self._warming.add(task)
                task.add_done_callback(self._warming.discard)

    async def _warm_one(self, provider: Provider, spec: FormField, values: dict[str, Any]) -> None:
        try:
            await self.choices(provider, spec, values, budget=None)
        except ProviderError as error:
            log.warning("%s %s list not loaded: %s", provider.name, spec.name, error.code)
        except Exception:
            log.exception("%s %s list not loaded", provider.name, spec.name)

    async def find(
        self,
        provider: Provider,
        spec: FormField,
        values: Mapping[str, Any],
        value: str,
        *,
        budget: float = ANSWER_BUDGET_S,
    ) -> Choice | None:
        """One entry by its value, if the list can be had within `budget` seconds."""
        try:
            found = await self.choices(provider, spec, values, budget=budget)
        except ProviderError:
            return None
        return next((c for c in found or () if c.value == value), None)

    async def stale_picks(
        self,
        provider: Provider,
        values: Mapping[str, Any],
        *,
        budget: float = 1.0,
        command: str | None = None,
    ) -> dict[str, str]:
        """Picks that depend on another field (an outfit) and are not in the list for what
        that field holds now, by field name: a sentence each. Unknown lists pass."""
        stale: dict[str, str] = {}
        for spec in provider.form.fields:
            value = values.get(spec.name)
            if spec.type is not FieldType.LOOKUP or not spec.depends_on or not value:
                continue
            try:
                found = await self.choices(provider, spec, values, budget=budget)
            except ProviderError:
                continue
            if found and all(c.value != value for c in found):
                parents = [provider.form.get(n) for n in spec.depends_on]
                parent = " and ".join(p.label.lower() for p in parents if p) or "choice above"
                fix = (
                    f"give `{spec.name}=<id>` with one of its {spec.label.lower()}s, or run "
                    f"`{command}` alone to pick from a list"
                    if command
                    else "pick one from the list"
                )
                stale[spec.name] = (
                    f"{provider.label} does not offer that {spec.label.lower()} for the chosen "
                    f"{parent}; {fix}."
                )
        return stale


def matching(choices: tuple[Choice, ...], query: str) -> list[Choice]:
    """Entries whose label, description, group or id hold every word typed."""
    words = query.lower().split()
    if not words:
        return list(choices)
    found = []
    for choice in choices:
        haystack = " ".join(
            part for part in (choice.label, choice.description, choice.group, choice.value) if part
        ).lower()
        if all(word in haystack for word in words):
            found.append(choice)
    return found


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def option(choice: Choice) -> dict[str, Any]:
    """A Block Kit option for one entry (values over Slack's 150 characters never occur:
    such an entry is left out by `options_payload`)."""
    shown: dict[str, Any] = {
        "text": {"type": "plain_text", "text": _cut(choice.label or choice.value, _TEXT_MAX)},
        "value": choice.value,
    }
    if choice.description:
        shown["description"] = {"type": "plain_text", "text": _cut(choice.description, _TEXT_MAX)}
    return shown


def options_payload(choices: list[Choice], *, note: str | None = None) -> dict[str, Any]:
    """The answer to an options request: at most 100 entries, grouped when they have
    groups (a voice's language), with `note` as a first entry (why the list is short)."""
    usable = [c for c in choices if 0 < len(c.value) <= _VALUE_MAX][:MAX_OPTIONS]
    if note is not None:
        usable = usable[: MAX_OPTIONS - 1]
    if usable and all(c.group for c in usable):
        groups: dict[str, list[dict[str, Any]]] = {}
        for choice in usable:
            groups.setdefault(str(choice.group), []).append(option(choice))
        listed = [
            {"label": {"type": "plain_text", "text": _cut(name, _TEXT_MAX)}, "options": opts}
            for name, opts in groups.items()
        ]
        if note is not None:
            listed.insert(
                0, {"label": {"type": "plain_text", "text": "Note"}, "options": [_note(note)]}
            )
        return {"option_groups": listed}
    options = [option(c) for c in usable]
    if note is not None:
        options.insert(0, _note(note))
    return {"options": options}


def _note(text: str) -> dict[str, Any]:
    # Picking it leaves the field without a real value; the submission then says so.
    return {"text": {"type": "plain_text", "text": _cut(text, _TEXT_MAX)}, "value": NO_CHOICE}
