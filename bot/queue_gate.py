"""A job's turn at its provider's limits, in the order of its account's line (shared by every
replica through the store): the app's key is one account, each workspace key another, each with
its own line and rate windows; the in-flight count is the provider's, across accounts. An
in-flight limit admits the first jobs in line while fewer than
the limit are at the provider; a rate window admits a job once the jobs ahead of it and the
job itself fit in the slots open now. A job that must wait is told its place and its wait
(bot/queue_words.py), and comes back when the line may have moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.jobs import Job
from bot.queue_words import in_flight_notice, rate_notice, turn_at
from bot.store.base import JobStore
from providers.base import Provider

# Waiting jobs that wake together are claimed in the order of the line: the later in line,
# the later it wakes, by this much per job ahead (at most 100 of them).
_STAGGER_S = 0.01


@dataclass(frozen=True)
class Wait:
    notice: str
    until: float


@dataclass(frozen=True)
class Go:
    """The job may be sent. `since` is where it stood when it left the line to take its
    rate slot, for going back to its place should it have to wait after all."""

    since: float | None


class QueueGate:
    def __init__(
        self,
        store: JobStore,
        recheck_seconds: float,
        account: Callable[[Provider], str] = lambda provider: provider.name,
    ) -> None:
        """`account`: which account a Provider speaks for (ProviderDirectory.account): the
        provider's name for the app's key."""
        self._store = store
        self._recheck = recheck_seconds
        self._account = account

    async def in_flight(self, job: Job, provider: Provider, now: float) -> Wait | None:
        """None when the job may go as far as the in-flight limit goes."""
        limit = provider.in_flight_limit
        if limit is None:
            return None
        ahead = await self._store.line_position(self._account(provider), job.id, now)
        running = await self._store.in_flight(provider.name)
        if ahead < limit - running:
            return None
        return self._in_flight_wait(job, provider, ahead, limit, now)

    async def take_turn(self, job: Job, provider: Provider, now: float) -> Wait | Go:
        """A slot in every rate window, taken in the order of the line; Go: taken (and the
        job left the line), or no windows to take one in."""
        windows = provider.rate_windows
        account = self._account(provider)
        if not windows:
            # Left in line: its entry stops counting when its move to SUBMITTING is saved (the
            # next look at the line drops it), so the jobs behind never see a moment with it
            # neither in line nor at the provider.
            return Go(None)
        # One atomic step: the place in line, and the slot taken only if every job ahead
        # could have one too, so no job ever passes one ahead of it.
        turn = await self._store.take_slot_in_line(
            account, job.id, now, f"submit:{account}", windows, now
        )
        if turn.taken:
            return Go(turn.since)
        mine = turn_at(turn.slots, windows, turn.ahead, now)
        first = turn_at(turn.slots, windows, 0, now)
        # Woken when the line moves (the next slot opens), to show the new place; when a slot
        # is open already, the jobs ahead are taking it: look again shortly.
        wake = first if first > now else now + self._recheck
        notice = rate_notice(
            provider.label, turn.ahead, mine - now, windows, own_key=account != provider.name
        )
        return Wait(notice, wake + _STAGGER_S * min(turn.ahead, 100))

    async def back_in_line(self, job: Job, provider: Provider, go: Go, now: float) -> Wait:
        """The in-flight limit filled up after the job left the line: its place back, and
        the wait."""
        ahead = await self._store.line_position(
            self._account(provider), job.id, now if go.since is None else go.since
        )
        return self._in_flight_wait(job, provider, ahead, provider.in_flight_limit or 1, now)

    def _in_flight_wait(
        self, job: Job, provider: Provider, ahead: int, limit: int, now: float
    ) -> Wait:
        notice = in_flight_notice(provider.label, ahead, limit, job.kind)
        return Wait(notice, now + self._recheck + _STAGGER_S * min(ahead, 100))
