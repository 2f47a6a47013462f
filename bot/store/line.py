"""The line of jobs waiting for their create at one provider (a rate window or an in-flight
limit), shared by every replica, so a waiting job can say where it stands. The `provider`
a line is named by is the account's (bot/queue_gate.py): the provider's name for the app's
key, the name and a key fingerprint for a workspace's own key.

A job joins its provider's line the first time it asks its place, at the time it gives
(`since`), and keeps that place until it leaves; ties go by job id. Only jobs still waiting
for their create (state QUEUED) count: an entry whose job moved on (submitted, cancelled,
failed, purged) is dropped by the next look at the line ahead of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from providers.base import RateWindow


@dataclass(frozen=True)
class LineTurn:
    """What take_slot_in_line saw and did, in one atomic step."""

    # A slot was taken in every window, and the job left the line.
    taken: bool
    # The jobs ahead of this one still waiting.
    ahead: int
    # When the job joined the line (to join again at the same place, should it have to).
    since: float
    # Per window (in the order given), when the slots that count at `now` were taken, oldest
    # first, this job's own included when taken.
    slots: list[list[float]]


class QueueLine(Protocol):
    async def line_position(self, provider: str, job_id: str, since: float) -> int:
        """Join `provider`'s line at `since` unless already in it, and return how many jobs
        ahead of this one still wait for their create."""
        ...

    async def take_slot_in_line(
        self,
        provider: str,
        job_id: str,
        since: float,
        key: str,
        windows: Sequence[RateWindow],
        now: float,
    ) -> LineTurn:
        """As line_position, then, in the same atomic step, take one slot in every rate
        window (as take_rate_slot does, on the same `key`) and leave the line, only if every
        window has a free slot for each job ahead and for this one. A job never takes a slot
        a job ahead of it in line could have."""
        ...
