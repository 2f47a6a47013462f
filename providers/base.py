"""What every provider offers the bot: one protocol, one result model, one error taxonomy.

Providers never import `bot`. A provider turns its own API into these types; the bot turns
these types into Slack messages.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict


class JobKind(enum.StrEnum):
    CLIPS = "clips"
    AVATAR = "avatar"
    DESCRIPTION = "description"


# --- errors ---------------------------------------------------------------------------------
class ProviderError(Exception):
    """A provider problem, carrying the one sentence the requester reads.

    `code` is the provider's own code (for logs and tests), never shown alone to a person.
    """

    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class BadInput(ProviderError):
    """The requester can fix it (a different link, option or file)."""

    kind = "bad_input"


class NeedsAdmin(ProviderError):
    """Auth, plan or quota: a workspace admin must act."""

    kind = "needs_admin"


class RateLimited(ProviderError):
    """Over a provider limit: wait `retry_after` seconds, never fail the job for it."""

    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """The provider could not be reached or answered 5xx: retry later with backoff.

    `code` is NOT_SENT only when the request surely never reached the provider; any other
    Unavailable from a create means the provider may have acted on it.
    """

    kind = "unavailable"


NOT_SENT = "unreachable"


class Failed(ProviderError):
    """The provider gave up on this job; the message says why."""

    kind = "failed"


# --- models ---------------------------------------------------------------------------------
class Output(BaseModel):
    """One finished result: a clip, an avatar video or a description."""

    model_config = ConfigDict(frozen=True)

    url: str
    title: str = ""
    duration_s: float | None = None
    score: float | None = None
    reason: str = ""
    text: str = ""
    topics: tuple[str, ...] = ()
    expires_at: float | None = None
    thumbnail_url: str | None = None
    editor_url: str | None = None


class Submission(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    first_poll_after: float
    cost_cents: int | None = None


class Progress(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"


class Status(BaseModel):
    """A poll's answer. Failures are raised as ProviderError, never returned."""

    model_config = ConfigDict(frozen=True)

    state: Progress
    percent: float | None = None
    outputs: tuple[Output, ...] = ()


@dataclass(frozen=True)
class RateWindow:
    """At most `limit` submissions per `seconds`, shared by every replica."""

    seconds: int
    limit: int


class Provider(Protocol):
    name: str
    label: str
    kind: JobKind
    request_model: type[BaseModel]
    rate_windows: tuple[RateWindow, ...]

    async def submit(self, request: BaseModel, *, webhook_url: str | None = None) -> Submission: ...

    async def poll(self, ref: str) -> Status: ...

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The provider job id a webhook call is about, or None when it is not ours."""
        ...

    async def aclose(self) -> None: ...


def describe_request(request: BaseModel) -> dict[str, Any]:
    """A request as the JSON the job store keeps (provider field names)."""
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
