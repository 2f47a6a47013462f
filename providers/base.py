"""What every provider offers the bot: one protocol, typed outputs, one error taxonomy.

Providers never import `bot`. A provider turns its own API into these types; the bot turns
these types into Slack messages. What a provider module declares beyond the protocol (its
form, its settings group) lives in `providers.forms` and `providers.plugin`.
"""

from __future__ import annotations

import enum
import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from providers.forms import Choice, Form


class JobKind(enum.StrEnum):
    CLIPS = "clips"
    AVATAR = "avatar"
    DESCRIPTION = "description"


class ErrorKind(enum.StrEnum):
    """Why a job failed, as a closed set: the provider taxonomy plus the bot's own reasons."""

    BAD_INPUT = "bad_input"
    NEEDS_ADMIN = "needs_admin"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"
    # A create was in flight when its holder stopped, and the provider takes no idempotency
    # key: it may have made a job, so it is never sent again.
    CREATE_LOST = "create_lost"
    TIMED_OUT = "timed_out"
    NOT_CONFIGURED = "not_configured"
    # A priced request that nobody confirmed in time: nothing was spent.
    EXPIRED = "expired"
    # Over this month's budget (the workspace's or the person's): nothing was sent.
    OVER_BUDGET = "over_budget"


# --- errors ---------------------------------------------------------------------------------
class ProviderError(Exception):
    """A provider problem, carrying the one sentence the requester reads.

    `code` is the provider's own code (for logs and tests), never shown alone to a person.
    """

    kind: ClassVar[ErrorKind] = ErrorKind.FAILED

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class BadInput(ProviderError):
    """The requester can fix it (a different link, option or file)."""

    kind = ErrorKind.BAD_INPUT


class NeedsAdmin(ProviderError):
    """Auth, plan or quota: a workspace admin must act."""

    kind = ErrorKind.NEEDS_ADMIN


class RateLimited(ProviderError):
    """Over a provider limit: wait `retry_after` seconds, never fail the job for it."""

    kind = ErrorKind.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ProviderError):
    """The provider could not be reached or answered 5xx: retry later with backoff.

    `code` is NOT_SENT only when the request surely never reached the provider; any other
    Unavailable from a create means the provider may have acted on it.
    """

    kind = ErrorKind.UNAVAILABLE


NOT_SENT = "unreachable"


class Failed(ProviderError):
    """The provider gave up on this job; the message says why."""

    kind = ErrorKind.FAILED


# --- outputs --------------------------------------------------------------------------------
def _finite(value: Any) -> Any:
    """NaN, infinities and negative lengths from a provider read as unknown."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if math.isfinite(value) and value >= 0 else None
    return value


_Number = Annotated[float | None, BeforeValidator(_finite)]


class _Output(BaseModel):
    model_config = ConfigDict(frozen=True)

    # When the link stops working (epoch seconds), if the provider says or documents it.
    expires_at: float | None = None
    # The provider's own id for this output, for refreshing its link.
    provider_id: str | None = None


class Clip(_Output):
    """One short clip cut from a long video."""

    type: Literal["clip"] = "clip"
    url: str
    title: str = ""
    duration_s: _Number = None
    score: _Number = None
    reason: str = ""
    transcript: str = ""
    topics: tuple[str, ...] = ()
    thumbnail_url: str | None = None
    editor_url: str | None = None


class Video(_Output):
    """One rendered video (an avatar video, a described video)."""

    type: Literal["video"] = "video"
    url: str
    title: str = ""
    thumbnail_url: str | None = None
    duration_s: _Number = None


class File(_Output):
    """A file result: inline text (captions, a transcript) or a link to download it."""

    type: Literal["file"] = "file"
    name: str
    media_type: str
    text: str | None = None
    url: str | None = None
    title: str = ""


Output = Annotated[Clip | Video | File, Field(discriminator="type")]


# --- what a provider answers ----------------------------------------------------------------
class Submission(BaseModel):
    model_config = ConfigDict(frozen=True)

    ref: str
    # The provider's own advice for the first poll; None leaves it to the bot's settings.
    first_poll_after: float | None = None
    # What the provider reports it charged, in cents, when it charges per request.
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
    # The provider's own word for where it is ("waiting", "processing"), shown as is.
    stage: str | None = None
    outputs: tuple[Output, ...] = ()
    # The provider's answer as it came, kept on the job where its shape is undocumented.
    raw: dict[str, Any] | None = None


@dataclass(frozen=True)
class RateWindow:
    """At most `limit` submissions per `seconds`, shared by every replica."""

    seconds: int
    limit: int


@dataclass(frozen=True)
class Description:
    """How a request reads to a person: an optional title and where the input came from."""

    source: str
    title: str | None = None


@dataclass(frozen=True)
class Quote:
    """What a request will cost before it is sent, and the sentence that says so."""

    cents: int
    sentence: str


class SharedState(Protocol):
    """A small key-value space every replica shares (the job store's), for what a provider
    keeps between calls: an access token, a lock while one replica renews it. Values are
    strings; `ttl` is in seconds. Keys are the provider's own (the store adds its prefix)."""

    async def shared_get(self, key: str) -> str | None: ...

    async def shared_put(self, key: str, value: str, ttl: float) -> None: ...

    async def shared_put_new(self, key: str, value: str, ttl: float) -> bool:
        """Store only if the key is absent (a lock); True when stored."""
        ...

    async def shared_delete(self, key: str, value: str | None = None) -> bool:
        """Delete the key; with `value`, only while it still holds that value."""
        ...


class MediaFile(BaseModel):
    """A video the bot supplies as bytes (a file uploaded to Slack), as a request keeps it.

    The bot hands it to `build_request` under `providers.forms.FILE_VALUE`. `ref` is the bot's
    own handle for fetching the bytes (a Slack file id); a provider never reads it.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=1)
    content_type: str = "video/mp4"
    ref: str | None = None


class FileSource(Protocol):
    """The bytes of a MediaFile. `prepare()` fetches them (to local disk): a provider calls it
    before it tells its own service anything, so that a file the bot cannot have fails before
    any provider call; fetching raises the bot's own errors, which a provider lets through.
    `chunks()` then reads them (prepared first if need be)."""

    async def prepare(self) -> None: ...

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def content_type(self) -> str: ...

    def chunks(self) -> AsyncIterator[bytes]: ...


@runtime_checkable
class StagesFiles(Protocol):
    """A provider that takes a video's bytes as well as a link, uploaded ahead of its create:
    the upload makes no job and costs nothing, so it may be repeated, and the create (the one
    call that may not be) stays a single request."""

    def media_file(self, request: BaseModel) -> MediaFile | None:
        """The file a request names, or None when it names a link."""
        ...

    async def stage_file(self, request: BaseModel, *, key: str, source: FileSource) -> None:
        """Upload the bytes for the job `key` (once: a call again after a wait goes on from
        what is uploaded), so that `submit(request, key=key)` can create the job. Raises
        RateLimited to be called again later (the upload still being checked), Unavailable
        with NOT_SENT when the upload did not go through, BadInput for a file refused."""
        ...


@runtime_checkable
class SendsFiles(Protocol):
    """A provider that takes a video's bytes in its create itself (one multipart request):
    the bot has the whole file at hand (on local disk) before the create starts, so the create
    cannot stop halfway for want of bytes."""

    def media_file(self, request: BaseModel) -> MediaFile | None:
        """The file a request names, or None when it names a link."""
        ...

    async def submit_file(
        self, request: BaseModel, *, key: str, source: FileSource, webhook_url: str | None = None
    ) -> Submission:
        """`submit`, with the video's bytes from `source`."""
        ...


class Provider(Protocol):
    """One provider, configured. Everything the bot needs to run its jobs and say what
    happened; nothing here names Slack."""

    name: str
    label: str
    kind: JobKind
    form: Form
    rate_windows: tuple[RateWindow, ...]
    # Jobs this provider may have open at once across all replicas; None: no limit.
    in_flight_limit: int | None
    # True when a create carries an idempotency key, so a create whose answer was lost may be
    # sent again with the same key; False means it is never sent twice.
    retryable_create: bool

    def build_request(self, values: Mapping[str, Any]) -> BaseModel:
        """The typed request from checked form values; FieldError for cross-field rules."""
        ...

    def load_request(self, stored: Mapping[str, Any]) -> BaseModel:
        """A request back from the job store (what `dump_request` wrote)."""
        ...

    def describe(self, request: BaseModel) -> Description: ...

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        """Every choice of one of the form's LOOKUP fields (all pages), given the values of
        the fields it depends on. The bot caches it and filters it as a person types."""
        ...

    def quote(self, request: BaseModel) -> Quote | None:
        """The price of a request, or None when it costs nothing per request."""
        ...

    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        """Create the provider's job. `key` is stable for one request (the job id, 32 hex
        characters): providers that take an idempotency key send it, so a repeated create is
        the same create, and it may serve as the provider's callback id. `webhook_url`, when
        given, is this job's own callback URL (it carries an unguessable token): pass it as
        the provider's per-job callback (`callback_url`, `webhookUrl`)."""
        ...

    async def poll(self, ref: str) -> Status: ...

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """The same output with a fresh link, or None when the provider no longer has it."""
        ...

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """A call to the provider's shared endpoint (`/webhooks/<name>`, registered with the
        provider): the provider job id it is about, or None when it is not ours or its
        signature (where the provider signs) does not hold. Only hastens a poll."""
        ...

    async def check_credentials(self) -> None:
        """One cheap authenticated call that proves the configured key works (for `reelbot
        check`): never a create, never anything that costs. Returns when the provider
        accepted the key; raises NeedsAdmin with the provider's own sentence when it refused
        it, Unavailable when it could not be asked."""
        ...

    async def aclose(self) -> None: ...


_Request = TypeVar("_Request", bound=BaseModel)


def own_request(request: BaseModel, kind: type[_Request], label: str) -> _Request:
    """`request` as the provider's own request type; TypeError when it is another's."""
    if not isinstance(request, kind):
        article = "an" if kind.__name__[:1] in "AEIOU" else "a"
        raise TypeError(f"{label} takes {article} {kind.__name__}, not {type(request).__name__}")
    return request


def dump_request(request: BaseModel) -> dict[str, Any]:
    """A request as the JSON the job store keeps (provider field names)."""
    return request.model_dump(mode="json", by_alias=True, exclude_none=True)
