"""The line of jobs waiting for their create at one provider (a rate window or an in-flight
limit), shared by every replica, so a waiting job can say where it stands.

A job joins its provider's line the first time it asks its place, at the time it gives
(`since`), and keeps that place until it leaves; ties go by job id. Only jobs still waiting
for their create (state QUEUED) count: an entry whose job moved on (submitted, cancelled,
failed, purged) is dropped by the next look at the line ahead of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from providers.base import RateWindow


class QueueLine(Protocol):
    async def line_position(self, provider: str, job_id: str, since: float) -> int:
        """Join `provider`'s line at `since` unless already in it, and return how many jobs
        ahead of this one still wait for their create."""
        ...

    async def leave_line(self, provider: str, job_id: str) -> float | None:
        """Leave the line; returns the `since` the job had joined at (None: not in it), so a
        job that must wait after all can join again at its old place."""
        ...

    async def rate_slots_taken(
        self, key: str, windows: Sequence[RateWindow], now: float
    ) -> list[list[float]]:
        """Per window (in the order given), when the slots that still count at `now` were
        taken (by take_rate_slot with the same key), oldest first. Reads only."""
        ...
