"""One turn of a job by the holder of its lease: one provider step, Slack, then release.

A state change is saved (compare-and-set) before Slack hears of it. The create path (limits,
files, budget, the create in flight) is CreateSteps' (bot/creates.py). When another writer
(a Cancel or Confirm click) changes the job during a turn, the turn starts
again from the stored job, so what Slack shows always follows the latest version.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aiohttp
import httpx
from slack_sdk.errors import SlackApiError

from bot.budget import Budgets
from bot.creates import MAX_LOST, CreateSteps, Timing
from bot.directory import ProviderDirectory
from bot.downloads import DownloadRefused
from bot.intake import FileIntake
from bot.jobs import Job, JobState
from bot.media_links import MediaLinks
from bot.metrics import Metrics
from bot.notify import Held, Lost, Notifier, Save, SlackBusy, slack_error
from bot.oauth.teams import NOT_INSTALLED, for_team
from bot.slack_files import SlackFiles
from bot.store.base import JobStore
from bot.store.spend import Budget
from bot.uploads import UploadFailed
from providers.base import (
    ErrorKind,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    Unavailable,
)

log = logging.getLogger(__name__)
MAX_SLACK_RETRIES = 8
# Slack's (and our own) answers that say the job's workspace is gone: the app was uninstalled
# there, or its token revoked. A job not yet sent is then never sent.
WORKSPACE_GONE = frozenset({NOT_INSTALLED, "token_revoked", "account_inactive"})
GONE_NOTICE = (
    "Reelbot can no longer reach this workspace (it was uninstalled), so nothing was sent."
)


_NOT_SENT = frozenset({JobState.QUEUED, JobState.AWAITING_CONFIRMATION})


class _Slack(enum.Enum):
    OK = "ok"
    BUSY = "busy"
    FAILED = "failed"


@dataclass(frozen=True)
class _Synced:
    job: Job
    outcome: _Slack = _Slack.OK
    retry_at: float | None = None
    error: str | None = None


class JobRunner(CreateSteps):
    def __init__(
        self,
        store: JobStore,
        providers: Mapping[str, Provider] | ProviderDirectory,
        notifier: Notifier,
        *,
        timing: Timing | None = None,
        webhook_base: str | None = None,
        files: SlackFiles | None = None,
        budget: Budget | None = None,
        media_links: MediaLinks | None = None,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._metrics = metrics
        self._media_links = media_links
        self._intake = FileIntake(files)
        self._budgets = Budgets(store, budget)
        self._store = store
        # Each workspace's providers (its own keys, or the app's).
        self._directory = (
            providers if isinstance(providers, ProviderDirectory) else ProviderDirectory(providers)
        )
        self._notifier = notifier
        self._timing = timing or Timing()
        self._webhook_base = webhook_base.rstrip("/") if webhook_base else None
        # Told of the job as each turn ends (the App Home refreshes on a state change); it
        # must return at once and never raise.
        self.on_turn_end: Callable[[Job], None] | None = None

    async def run(self, job: Job, owner: str) -> Job | None:
        """The holder's turn on a job it has claimed; returns the job as released, or None
        when it vanished or kept changing under us (the lease then runs out and any replica
        takes the job up again)."""
        # The turn's Slack calls carry the bot token of the job's workspace (many workspaces).
        with for_team(job.team_id):
            return await self._run(job, owner)

    async def _run(self, job: Job, owner: str) -> Job | None:
        for _ in range(MAX_LOST):
            try:
                return await self._turn(job, owner)
            except Lost:
                if not await self._still_held(job.id, owner):
                    # Our lease ran out and another replica claimed the job: its turn now.
                    log.warning(
                        "job %s: lease lost mid-turn; leaving the job to its holder", job.id
                    )
                    return None
                latest = await self._store.get(job.id)
                if latest is None:
                    return None
                job = latest
        log.warning(
            "job %s: changed under its holder %d times; left to the next turn", job.id, MAX_LOST
        )
        return None

    async def _turn(self, job: Job, owner: str) -> Job:
        async def save(changed: Job) -> Job | None:
            return await self._store.save(changed, now=self._clock(), owner=owner)

        async def held() -> bool:
            return await self._still_held(job.id, owner)

        if job.root_ts is None:
            # The root message first, so the person sees the request before a slow create.
            first = await self._sync(job, save, held)
            job = first.job
            if first.error in WORKSPACE_GONE and job.state in _NOT_SENT:
                job = await self._workspace_gone(job, save)
        job = await self._advance(job, owner)
        synced = await self._sync(job, save, held)
        return await self._release(synced, owner)

    async def _workspace_gone(self, job: Job, save: Save) -> Job:
        """A job whose workspace uninstalled the app before its create: cancelled unsent (the
        uninstall cancels such jobs too; this catches one stored while it ran)."""
        saved = await save(job.moved(JobState.CANCELLED, notice=GONE_NOTICE))
        if saved is None:
            raise Lost
        if self._metrics is not None:
            self._metrics.jobs.labels(saved.provider, saved.state.value).inc()
        log.warning("job %s: its workspace is gone; cancelled before its create", job.id)
        return saved

    # --- Slack -------------------------------------------------------------------------------
    async def _sync(self, job: Job, save: Save, held: Held) -> _Synced:
        if not self._notifier.needs_slack(job):
            return _Synced(job)
        try:
            return _Synced(await self._notifier.deliver(job, save, held))
        except SlackBusy as busy:
            return _Synced(await self._latest(job), _Slack.BUSY, self._clock() + busy.wait)
        except (
            SlackApiError,
            aiohttp.ClientError,
            httpx.HTTPError,
            UploadFailed,
            DownloadRefused,
            TimeoutError,
        ) as exc:
            reason = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            if self._metrics is not None and isinstance(exc, SlackApiError):
                self._metrics.slack_errors.labels(reason).inc()
            log.warning("job %s: Slack did not take an update (%s); it is retried", job.id, reason)
            return _Synced(await self._latest(job), _Slack.FAILED, error=reason)

    async def _release(self, synced: _Synced, owner: str) -> Job:
        job, now = synced.job, self._clock()
        job, reconciled = await self._budgets.reconcile(job)
        retries = job.slack_retries
        next_run_at = job.next_run_at
        if synced.outcome is _Slack.FAILED:
            retries += 1
            slack_at: float | None = now + self._timing.retry_delay(retries)
            if job.terminal and retries > MAX_SLACK_RETRIES:
                log.error(
                    "job %s: Slack refused the results %d times; giving up", job.id, retries - 1
                )
                slack_at = None
        else:
            slack_at = synced.retry_at
            if synced.outcome is _Slack.OK:
                retries = 0
        if job.terminal:
            # Settled when Slack owes nothing more (result files included).
            gave_up = synced.outcome is _Slack.FAILED and slack_at is None
            done = gave_up or (job.settled and not self._notifier.needs_slack(job))
            if not reconciled:
                # The ledger did not take the job's spend: one more turn to record it.
                done, slack_at = False, slack_at or now + self._timing.retry_delay(1)
            next_run_at = None if done else (slack_at or now + self._timing.poll_min)
        else:
            if slack_at is not None:
                next_run_at = slack_at if next_run_at is None else min(next_run_at, slack_at)
            if next_run_at is None or next_run_at < now:
                next_run_at = now + self._timing.poll_min  # never a hot loop
        released = await self._store.save(
            job.changed(next_run_at=next_run_at, slack_retries=retries),
            now=now,
            owner=owner,
            release=True,
        )
        if released is None:
            raise Lost
        if self.on_turn_end is not None:
            self.on_turn_end(released)
        return released

    # --- the provider step -------------------------------------------------------------------
    async def _advance(self, job: Job, owner: str) -> Job:
        """One provider step. State changes are saved here; other changes (next_run_at, the
        notice) ride along with the next save."""
        if job.terminal:
            return job
        now = self._clock()
        provider = (await self._directory.for_team(job.team_id)).get(job.provider)
        if provider is None:
            return await self._fail(
                job,
                owner,
                ErrorKind.NOT_CONFIGURED,
                f"{job.provider.title()} is no longer set up here; a workspace admin must "
                "configure it again.",
            )
        started = job.submitted_at or job.create_started_at
        # Time spent queued for a rate limit does not count: a job never fails for waiting.
        if started is not None and now - started > self._timing.job_timeout:
            hours = self._timing.job_timeout / 3600
            return await self._fail(
                job,
                owner,
                ErrorKind.TIMED_OUT,
                f"{provider.label} did not finish within {hours:g} hours, so Reelbot stopped "
                "waiting. Try again, perhaps with a shorter video.",
            )
        match job.state:
            case JobState.AWAITING_CONFIRMATION:
                return await self._await_confirmation(job, owner, now)
            case JobState.QUEUED:
                return await self._submit(job, provider, owner, now)
            case JobState.SUBMITTING:
                return await self._resume_create(job, provider, owner, now)
            case _:
                return await self._poll(job, provider, owner, now)

    async def _await_confirmation(self, job: Job, owner: str, now: float) -> Job:
        if job.confirm_by is None or now < job.confirm_by:
            return job.changed(next_run_at=job.confirm_by)
        minutes = max(1, round((job.confirm_by - job.created_at) / 60))
        return await self._fail(
            job,
            owner,
            ErrorKind.EXPIRED,
            f"Nobody confirmed this request within {minutes} minutes, so nothing was sent and "
            "nothing was spent. Ask again if you still want it.",
        )

    async def _poll(self, job: Job, provider: Provider, owner: str, now: float) -> Job:
        assert job.provider_ref is not None
        try:
            status = await provider.poll(job.provider_ref)
        except RateLimited as error:
            return self._waiting(job, error.message, now + error.retry_after)
        except Unavailable as error:
            retries = job.provider_retries + 1
            log.warning(
                "job %s: %s unavailable (%s), retry %d",
                job.id,
                provider.name,
                error.code or "no answer",
                retries,
            )
            return job.changed(
                provider_retries=retries,
                notice=error.message,
                next_run_at=now + self._timing.retry_delay(retries),
            )
        except ProviderError as error:
            log.info("job %s: %s refused (%s): %s", job.id, provider.name, error.code, error.kind)
            return await self._fail(job, owner, error.kind, error.message)
        polls = job.polls + 1
        if status.state is Progress.DONE:
            log.info("job %s: done with %d outputs", job.id, len(status.outputs))
            done = job.moved(
                JobState.DONE,
                outputs=list(status.outputs),
                provider_answer=status.raw,
                percent=100.0,
                stage=None,
                polls=polls,
                notice=None,
                provider_retries=0,
            )
            return await self._save(done, owner)
        # Timed from when this poll was due, so a 60 s cap means a poll every 60 s.
        delay = self._timing.poll_delay(polls)
        due = job.next_run_at if job.next_run_at is not None else now
        rendering = job.moved(
            JobState.RENDERING,
            percent=status.percent,
            stage=status.stage,
            polls=polls,
            provider_retries=0,
            notice=None,
            next_run_at=max(due + delay, now + delay / 2),
        )
        if job.state is JobState.RENDERING:
            return rendering  # no state change: saved with the release
        return await self._save(rendering, owner)
