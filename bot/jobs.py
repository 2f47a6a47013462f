"""The Job model and its state machine (pure: no I/O)."""

from __future__ import annotations

import enum
import secrets
import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from providers.base import ErrorKind, JobKind, MediaFile, Output


class JobState(enum.StrEnum):
    # A priced request waits for its requester's Confirm before anything is sent.
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    QUEUED = "queued"
    # The create is in flight: recorded before it is sent, so a holder that finds it here
    # knows the provider may already have the job.
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    RENDERING = "rendering"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def at_provider(self) -> bool:
        """The provider has (or may have) this job: it counts against the in-flight limit."""
        return self in _AT_PROVIDER


_TERMINAL = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED})
_AT_PROVIDER = frozenset({JobState.SUBMITTING, JobState.SUBMITTED, JobState.RENDERING})
_ENDS = frozenset({JobState.FAILED, JobState.CANCELLED})

_ALLOWED: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_CONFIRMATION: frozenset({JobState.QUEUED} | _ENDS),
    JobState.QUEUED: frozenset({JobState.SUBMITTING} | _ENDS),
    # Back to QUEUED only when the create surely never left this machine.
    JobState.SUBMITTING: frozenset({JobState.QUEUED, JobState.SUBMITTED} | _ENDS),
    JobState.SUBMITTED: frozenset({JobState.RENDERING, JobState.DONE} | _ENDS),
    JobState.RENDERING: frozenset({JobState.RENDERING, JobState.DONE} | _ENDS),
    JobState.DONE: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


class InvalidTransition(ValueError):
    pass


ROOT = "root"
# The thread reply of a job that ended without results (failed, or none found).
END = "end"


def output_key(index: int) -> str:
    return f"out:{index}"


def file_key(index: int) -> str:
    """The delivery of output `index` as a Slack file (RESULTS_AS_FILES)."""
    return f"file:{index}"


class DeliveryState(enum.StrEnum):
    # A holder took the right to post it (compare-and-set) and may have posted it.
    RESERVED = "reserved"
    POSTED = "posted"
    # Settled without a post: a result too large (or not fetchable) to upload as a file.
    SKIPPED = "skipped"


class Delivery(BaseModel):
    """One message the job owes Slack (the root message, one per output): who may post it and
    what Slack answered. A RESERVED delivery found by a later holder is uncertain: the thread
    is read back before it is posted again."""

    model_config = ConfigDict(frozen=True)

    state: DeliveryState
    channel: str
    # The thread it goes into (None: the channel itself).
    thread_ts: str | None = None
    reserved_at: float
    attempt: int = 1
    ts: str | None = None
    file_id: str | None = None


class Job(BaseModel):
    """One request from Slack, tracked until its results are in the thread.

    `version` is the compare-and-set token: a store saves a job only when the stored version
    equals this one, then increments it.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    kind: JobKind
    provider: str
    state: JobState = JobState.QUEUED
    version: int = 0

    team_id: str | None = None
    channel_id: str
    user_id: str
    # The thread the request came from (a message shortcut); the root message goes there.
    thread_ts: str | None = None

    title: str | None = None
    source: str
    request: dict[str, Any]
    provider_ref: str | None = None
    # The secret part of this job's own callback URL (/webhooks/<provider>/<id>/<token>):
    # a call carrying it only makes the job due for a poll.
    webhook_token: str = Field(default_factory=lambda: secrets.token_urlsafe(24))

    created_at: float = Field(default_factory=time.time)
    updated_at: float = Field(default_factory=time.time)
    confirm_by: float | None = None
    confirmed_by: str | None = None
    # When the first create was sent, and how many were sent (more only with an idempotency
    # key): a create in flight is given up a while after the first, never reset.
    create_started_at: float | None = None
    create_attempts: int = 0
    # Whether the create in flight carries an idempotency key: only then may it be resent
    # (a provider's setting can change between replicas, such as its API version).
    create_keyed: bool | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    next_run_at: float | None = None
    polls: int = 0
    provider_retries: int = 0
    slack_retries: int = 0

    quoted_cents: int | None = None
    charged_cents: int | None = None
    # The month (YYYY-MM, UTC) whose spend ledger holds this job's reservation, once made.
    spend_month: str | None = None
    # Whether the ledger holds what the provider charged (not just the reservation).
    spend_settled: bool = False
    # A Slack file the request names by a signed link (bot/media_links.py), re-signed
    # before the create.
    media: MediaFile | None = None
    media_link: str | None = None
    # The provider's last answer as it came, where its shape is not documented.
    provider_answer: dict[str, Any] | None = None

    percent: float | None = None
    stage: str | None = None
    outputs: list[Output] = Field(default_factory=list)
    deliveries: dict[str, Delivery] = Field(default_factory=dict)
    error: str | None = None
    error_kind: ErrorKind | None = None
    notice: str | None = None
    cancelled_by: str | None = None
    # Digest of the root message as last confirmed sent, to skip chat.update when unchanged.
    rendered: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_first_release(cls, data: Any) -> Any:
        """Jobs stored by Reelbot 0.1 (one `posted` counter, untyped outputs) read as today's."""
        if not isinstance(data, dict) or "posted" not in data:
            return data
        old = dict(data)
        posted = int(old.pop("posted") or 0)
        root_channel, root_ts = old.pop("root_channel", None), old.pop("root_ts", None)
        at = float(old.get("updated_at") or time.time())
        deliveries: dict[str, Any] = {}
        if root_channel and root_ts:
            deliveries[ROOT] = {"state": "posted", "channel": root_channel, "ts": root_ts}
            for n in range(posted):
                # Counted as reserved by 0.1, so at most once: never posted again.
                deliveries[output_key(n)] = {"state": "posted", "channel": root_channel}
        for delivery in deliveries.values():
            delivery["reserved_at"] = at
        old["deliveries"] = deliveries
        old["provider_retries"] = old.pop("retries", 0)
        old["outputs"] = [
            {"type": "clip", **{("transcript" if k == "text" else k): v for k, v in o.items()}}
            if isinstance(o, dict) and "type" not in o
            else o
            for o in old.get("outputs") or []
        ]
        if old.get("error_kind") not in {k.value for k in ErrorKind}:
            old["error_kind"] = ErrorKind.FAILED if old.get("error_kind") else None
        return old

    def moved(self, state: JobState, **changes: Any) -> Job:
        """A copy in `state` with `changes`; InvalidTransition if the machine forbids it."""
        if state not in _ALLOWED[self.state]:
            raise InvalidTransition(f"{self.state} -> {state}")
        if state.terminal:
            changes.setdefault("finished_at", time.time())
        return self.model_copy(update={"state": state, "updated_at": time.time(), **changes})

    def changed(self, **changes: Any) -> Job:
        return self.model_copy(update={"updated_at": time.time(), **changes})

    def delivered(self, key: str, delivery: Delivery | None) -> Job:
        """A copy whose delivery `key` is `delivery` (None forgets a reservation)."""
        deliveries = dict(self.deliveries)
        if delivery is None:
            deliveries.pop(key, None)
        else:
            deliveries[key] = delivery
        return self.changed(deliveries=deliveries)

    @property
    def terminal(self) -> bool:
        return self.state.terminal

    @property
    def root(self) -> Delivery | None:
        return self.deliveries.get(ROOT)

    @property
    def root_channel(self) -> str | None:
        root = self.root
        return root.channel if root is not None and root.ts else None

    @property
    def root_ts(self) -> str | None:
        root = self.root
        return root.ts if root is not None else None

    @property
    def reply_thread(self) -> str | None:
        """Where results go: the request's own thread when the root message is in it,
        otherwise the root message's thread."""
        root = self.root
        if root is None or root.ts is None:
            return None
        if self.thread_ts and root.channel == self.channel_id:
            return self.thread_ts
        return root.ts

    @property
    def unfiled(self) -> list[int]:
        """Indexes of outputs whose file upload is not settled (posted or skipped)."""
        return [
            n
            for n in range(len(self.outputs))
            if (d := self.deliveries.get(file_key(n))) is None or d.state is DeliveryState.RESERVED
        ]

    @property
    def unposted(self) -> list[int]:
        """Indexes of outputs not yet confirmed posted."""
        return [
            n
            for n in range(len(self.outputs))
            if (d := self.deliveries.get(output_key(n))) is None
            or d.state is not DeliveryState.POSTED
        ]

    @property
    def owes_end(self) -> bool:
        """Ended without results, and the thread reply saying so is not posted yet."""
        ended = self.state is JobState.FAILED or (self.state is JobState.DONE and not self.outputs)
        posted = self.deliveries.get(END)
        return ended and (posted is None or posted.state is not DeliveryState.POSTED)

    @property
    def settled(self) -> bool:
        """Finished, and Slack owes nothing more."""
        return (
            self.terminal and not self.unposted and self.root_ts is not None and not self.owes_end
        )
