"""What listeners call: which providers a command offers, create a job, cancel or confirm it.

Listeners stay thin. A job's id is derived from the Slack request that made it, so a store
write whose answer was lost is repeated safely: storing it twice stores it once.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot import blocks
from bot.admins import Admins
from bot.catalogs import Catalogs
from bot.directory import ProviderDirectory
from bot.jobs import Job, JobState
from bot.media_links import MediaLinks
from bot.metrics import Metrics
from bot.notify import Notifier
from bot.parse import Submit
from bot.poller import Poller
from bot.store import STORE_DOWN
from bot.store.base import JobStore
from bot.store.spend import Budget, month_of
from providers.base import JobKind, MediaFile, Provider, ProviderError, dump_request
from providers.plugin import ProviderPlugin

log = logging.getLogger(__name__)
_ADD_BUDGET_S = 2.0  # of Slack's 3 s to acknowledge
_UNREACHABLE: tuple[type[Exception], ...] = (*STORE_DOWN, TimeoutError)


@dataclass(frozen=True)
class Origin:
    """Where a request came from, where its results go, and which Slack request it was."""

    user_id: str
    channel_id: str
    request_id: str
    team_id: str | None = None
    thread_ts: str | None = None
    # A Slack file given to a provider as a signed link (`media_link`, in the request): the
    # link is signed afresh just before the create, so a wait in the queue never outlives it.
    media: MediaFile | None = None
    media_link: str | None = None


class StoreUnsure(Exception):
    """The job store could not be reached, so whether the job was stored is unknown."""


class Outcome(enum.Enum):
    DONE = "done"
    NOT_YOURS = "not_yours"
    ALREADY_FINISHED = "already_finished"
    NOT_WAITING = "not_waiting"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    BUSY = "busy"


def job_id_for(team_id: str | None, request_id: str) -> str:
    return hashlib.sha256(f"{team_id or '-'}:{request_id}".encode()).hexdigest()[:32]


class Reelbot:
    def __init__(
        self,
        store: JobStore,
        providers: Mapping[str, Provider] | ProviderDirectory,
        notifier: Notifier,
        poller: Poller,
        *,
        catalogs: Catalogs | None = None,
        plugins: Sequence[ProviderPlugin[Any]] = (),
        defaults: Mapping[JobKind, str | None] | None = None,
        confirm_expiry_seconds: float = 15 * 60,
        budget: Budget | None = None,
        media_links: MediaLinks | None = None,
        metrics: Metrics | None = None,
        results_as_files: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        # RESULTS_AS_FILES, as the workspace settings show it (the Notifier acts on it).
        self.results_as_files = results_as_files
        self.metrics = metrics
        # Signed links to Slack files, for providers that take only links (None: no public URL).
        self.media_links = media_links
        self.budget = budget or Budget()
        self.plugins = tuple(plugins)
        self.store = store
        self.catalogs = catalogs or Catalogs(store, 600.0)
        # Each workspace's providers; `providers` the app's own (from the environment).
        self.directory = (
            providers if isinstance(providers, ProviderDirectory) else ProviderDirectory(providers)
        )
        self.providers = self.directory.env
        self.notifier = notifier
        self.poller = poller
        self._defaults = dict(defaults or {})
        self.confirm_expiry_seconds = confirm_expiry_seconds
        # Who is a workspace admin, as Slack says (one cache for every admin-only thing).
        self.admins = Admins(clock=clock)

    async def offers(self, kind: JobKind, team_id: str | None) -> dict[str, Provider]:
        """The providers of a kind set up for a workspace, the default one first."""
        available = await self.directory.for_team(team_id, lenient=True)
        found = {name: p for name, p in available.items() if p.kind is kind}
        default = self._defaults.get(kind)
        if default in found:
            found = {default: found[default]} | found
        return found

    def forms(self, kind: JobKind) -> list[ProviderPlugin[Any]]:
        """Every provider of a kind this build knows, configured or not (for help)."""
        return [p for p in self.plugins if p.kind is kind]

    async def unconfigured(self, kind: JobKind, team_id: str | None) -> list[tuple[str, str]]:
        """(label, variable to set) of each known provider of a kind not set up for a
        workspace."""
        available = await self.directory.for_team(team_id, lenient=True)
        return [(p.label, p.key_variable) for p in self.forms(kind) if p.name not in available]

    async def create_job(self, submit: Submit, origin: Origin) -> Job:
        """Persist the job, due at once; call before acknowledging Slack.

        A priced request waits for its requester's Confirm. Raises StoreUnsure when the store
        could not say whether the job is stored."""
        available = await self.directory.for_team(origin.team_id, lenient=True)
        provider = available.get(submit.provider)
        if provider is None:
            # Offered from the workspace's own keys, which the store could not read just now.
            raise StoreUnsure(job_id_for(origin.team_id, origin.request_id))
        now = self._clock()
        quote = provider.quote(submit.request)
        job = Job(
            id=job_id_for(origin.team_id, origin.request_id),
            kind=provider.kind,
            provider=provider.name,
            state=JobState.QUEUED if quote is None else JobState.AWAITING_CONFIRMATION,
            title=submit.description.title,
            source=submit.description.source,
            request=dump_request(submit.request),
            user_id=origin.user_id,
            channel_id=origin.channel_id,
            team_id=origin.team_id,
            thread_ts=origin.thread_ts,
            created_at=now,
            next_run_at=now,
            quoted_cents=None if quote is None else quote.cents,
            confirm_by=None if quote is None else now + self.confirm_expiry_seconds,
            notice=None if quote is None else quote.sentence,
            media=origin.media,
            media_link=origin.media_link,
        )
        stored, added = await self._add_once(job)
        if self.metrics is not None and added:
            self.metrics.jobs.labels(stored.provider, stored.state.value).inc()
        log.info("job %s: %s for %s by %s", stored.id, stored.state, provider.name, origin.user_id)
        return stored

    async def _add_once(self, job: Job) -> tuple[Job, bool]:
        """The stored job, and whether this call stored it (not an earlier one)."""
        deadline = time.monotonic() + _ADD_BUDGET_S
        for _ in range(3):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                return await asyncio.wait_for(self.store.add(job), left), True
            except ValueError:
                # Stored already: an earlier attempt's answer was lost, or Slack sent it twice.
                existing = await self.store.get(job.id)
                if existing is not None:
                    return existing, False
            except _UNREACHABLE as exc:
                log.warning("job %s: store did not answer (%s)", job.id, type(exc).__name__)
                await asyncio.sleep(0.05)
        try:
            existing = await asyncio.wait_for(self.store.get(job.id), 0.5)
        except _UNREACHABLE:
            existing = None
        if existing is not None:
            return existing, False
        raise StoreUnsure(job.id)

    def start(self, job: Job) -> None:
        """After the ack: the pool takes the job at once (the root message, then the step)."""
        self.poller.wake()

    async def fresh_link(self, value: str) -> str:
        """The answer to a Fresh link click (`value` is "<job id>:<output index>"): a new link
        from the provider, or a sentence saying why there is none."""
        job_id, _, raw = value.partition(":")
        job = await self.store.get(job_id)
        if job is None or not raw.isdigit() or int(raw) >= len(job.outputs):
            return "I can't find that result any more; it may have expired."
        provider = (await self.directory.for_team(job.team_id)).get(job.provider)
        if provider is None or job.provider_ref is None:
            return "That provider is no longer set up here, so I can't ask it for a fresh link."
        index = int(raw)
        try:
            fresh = await provider.refresh(job.provider_ref, job.outputs[index])
        except ProviderError as error:
            return error.message
        if fresh is None:
            return f"{provider.label} no longer has this result, so there is no fresh link."
        return blocks.fresh_link(index + 1, fresh)

    async def cancel(self, job_id: str, user_id: str) -> tuple[Outcome, Job | None]:
        return await self._decide(job_id, user_id, confirm=False)

    async def cancel_workspace(self, team_id: str, reason: str) -> int:
        """Stop every unfinished job of a workspace (the app was uninstalled there), so
        nothing more is sent or spent for it. Returns how many were stopped."""
        stopped = 0
        for _ in range(100):
            page = await self.store.active_for_team(team_id, 100)
            ended = [await self._stop(job, reason) for job in page.jobs]
            stopped += sum(ended)
            if page.total <= len(page.jobs) or not any(ended):
                break
        if stopped:
            self.poller.wake()
        return stopped

    async def _stop(self, job: Job, reason: str) -> bool:
        for _ in range(10):
            if job.terminal:
                return False
            now = self._clock()
            # Compare-and-set, as a Cancel click: a replica's create in flight sees it.
            changed = job.moved(JobState.CANCELLED, notice=reason).changed(next_run_at=now)
            saved = await self.store.save(changed, now=now)
            if saved is not None:
                if self.metrics is not None:
                    self.metrics.jobs.labels(saved.provider, saved.state.value).inc()
                log.info("job %s: cancelled (%s)", job.id, reason)
                return True
            latest = await self.store.get(job.id)
            if latest is None:
                return False
            job = latest
        return False

    async def confirm(self, job_id: str, user_id: str) -> tuple[Outcome, Job | None]:
        return await self._decide(job_id, user_id, confirm=True)

    async def _decide(
        self, job_id: str, user_id: str, *, confirm: bool
    ) -> tuple[Outcome, Job | None]:
        for _ in range(10):
            job = await self.store.get(job_id)
            if job is None:
                return Outcome.UNKNOWN, None
            if job.user_id != user_id:
                return Outcome.NOT_YOURS, job
            if job.terminal:
                return Outcome.ALREADY_FINISHED, job
            now = self._clock()
            if confirm:
                if job.state is not JobState.AWAITING_CONFIRMATION:
                    return Outcome.NOT_WAITING, job
                if job.confirm_by is not None and now >= job.confirm_by:
                    return Outcome.EXPIRED, job
                # The spend counts in the month it was confirmed (UTC).
                changed = job.moved(
                    JobState.QUEUED,
                    confirmed_by=user_id,
                    notice=None,
                    spend_month=month_of(now),
                )
            else:
                changed = job.moved(JobState.CANCELLED, cancelled_by=user_id)
            # Compare-and-set, so a double click or two replicas act once; the holder of the
            # job's lease (or the pool, now) brings the root message up to date.
            saved = await self.store.save(changed.changed(next_run_at=now), now=now)
            if saved is not None:
                if self.metrics is not None:
                    self.metrics.jobs.labels(saved.provider, saved.state.value).inc()
                log.info("job %s: %s by its requester", job_id, saved.state)
                self.poller.wake()
                return Outcome.DONE, saved
        log.warning("job %s: a click lost 10 races in a row", job_id)
        return Outcome.BUSY, None
