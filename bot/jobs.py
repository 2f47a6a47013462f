"""The Job model and its state machine (pure: no I/O)."""

from __future__ import annotations

import enum
import time
import uuid
from typing import Any

from pydantic import BaseModel, Field

from providers.base import JobKind, Output


class JobState(enum.StrEnum):
    QUEUED = "queued"
    SUBMITTED = "submitted"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})

_ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SUBMITTED, JobState.FAILED, JobState.CANCELLED}),
    JobState.SUBMITTED: frozenset(
        {JobState.RENDERING, JobState.DONE, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.RENDERING: frozenset(
        {JobState.RENDERING, JobState.DONE, JobState.FAILED, JobState.CANCELLED}
    ),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


class Job(BaseModel):
    """One request from Slack, tracked until its results are in the thread.

    `version` is the compare-and-set token: a store saves a job only when the stored version
    equals this one, then increments it. `posted` counts outputs already reserved for posting,
    so no replica posts one twice.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: JobKind
    provider: str
    state: JobState = JobState.QUEUED
    version: int = 0

    team_id: str | None = None
    channel_id: str
    user_id: str
    thread_ts: str | None = None
    root_channel: str | None = None
    root_ts: str | None = None

    source: str
    request: dict[str, Any]
    provider_ref: str | None = None

    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    submitted_at: float | None = None
    finished_at: float | None = None
    next_run_at: float | None = None
    polls: int = 0
    retries: int = 0

    percent: float | None = None
    outputs: list[Output] = Field(default_factory=list)
    posted: int = 0
    error: str | None = None
    error_kind: str | None = None
    notice: str | None = None
    cancelled_by: str | None = None
    rendered: str | None = None

    def moved(self, state: JobState, **changes: Any) -> Job:
        """A copy in `state` with `changes`; InvalidTransition if the machine forbids it."""
        if state not in _ALLOWED[self.state]:
            raise InvalidTransition(f"{self.state} -> {state}")
        if state.terminal:
            changes.setdefault("next_run_at", None)
            changes.setdefault("finished_at", time.time())
        return self.model_copy(update={"state": state, "updated_at": time.time(), **changes})

    def changed(self, **changes: Any) -> Job:
        return self.model_copy(update={"updated_at": time.time(), **changes})

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def unposted(self) -> list[Output]:
        return self.outputs[self.posted :]
