"""Snip, the made-up paid clip provider, behind Reelbot's provider protocol.

Its API (invented for the tests, written down here as a provider's document would be):

    POST {base}/v1/clips    X-Snip-Key, Idempotency-Key (optional, 1-64 chars)
        {"video_url": str, "count": 1-5, "style": "fun" | "calm"}
        201 {"id", "status": "queued", "cost_cents"}; the same Idempotency-Key again answers
        200 with the same job and charges nothing more.
        401 {"error": "bad_key"}, 402 {"error": "no_funds"}, 422 {"error": "invalid", "field"},
        429 {"error": "slow_down"} with Retry-After.
    GET  {base}/v1/clips/{id}
        {"id", "status": "queued" | "working" | "done" | "failed", "progress": 0-100,
         "clips": [{"url", "title", "seconds"}], "reason"}
        404 {"error": "not_found"} for an id it never gave; 401 {"error": "bad_key"}.

Snip charges SNIP_PRICE_CENTS per clip up front, so every request is quoted and confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from providers.base import (
    BadInput,
    Clip,
    Description,
    Failed,
    JobKind,
    NeedsAdmin,
    Output,
    Progress,
    ProviderError,
    Quote,
    RateLimited,
    RateWindow,
    SharedState,
    Status,
    Submission,
    Unavailable,
    dump_request,
)
from providers.forms import Choice, FieldType, Form, FormField
from providers.http import make_client, send
from providers.plugin import ProviderPlugin, ProviderSettings

NAME = "snip"
LABEL = "Snip"
KEY_HEADER = "X-Snip-Key"

FORM = Form(
    subject="url",
    summary="Cut a video into a few clips with Snip (paid per clip)",
    example="https://example.com/talk.mp4 count=2 style=calm",
    fields=(
        FormField(
            "url",
            "Video link",
            FieldType.URL,
            "a link to the video",
            required=True,
            placeholder="https://example.com/talk.mp4",
        ),
        FormField(
            "count",
            "Number of clips",
            FieldType.INTEGER,
            "how many",
            default=2,
            minimum=1,
            maximum=5,
        ),
        FormField(
            "style",
            "Style",
            FieldType.CHOICE,
            "the clips' style",
            choices=(Choice("fun", "Fun"), Choice("calm", "Calm")),
            default="fun",
        ),
    ),
)


class SnipRequest(BaseModel):
    video_url: str
    count: int
    style: str


class _Created(BaseModel):
    id: str
    cost_cents: int | None = None


class _Clip(BaseModel):
    url: str
    title: str = ""
    seconds: float | None = None


class _Job(BaseModel):
    id: str
    status: str
    progress: float | None = None
    clips: list[_Clip] = Field(default_factory=list)
    reason: str | None = None


ERRORS: dict[str, tuple[type[ProviderError], str]] = {
    "bad_key": (
        NeedsAdmin,
        "Snip refused Reelbot's key, so a workspace admin must update SNIP_API_KEY.",
    ),
    "no_funds": (NeedsAdmin, "The Snip wallet is empty, so a workspace admin must top it up."),
    "invalid": (BadInput, "Snip refused these options, so check them and try again."),
}


class SnipSettings(ProviderSettings):
    model_config = SettingsConfigDict(env_prefix="SNIP_")

    api_key: SecretStr | None = None
    base_url: HttpUrl = HttpUrl("https://api.snip.example/")
    price_cents: Annotated[int, Field(ge=0)] = 125
    in_flight: Annotated[int, Field(ge=1)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0


class SnipProvider:
    name = NAME
    label = LABEL
    kind = JobKind.CLIPS
    form = FORM
    rate_windows: tuple[RateWindow, ...] = ()
    retryable_create = True

    def __init__(self, settings: SnipSettings, shared: SharedState | None = None) -> None:
        assert settings.api_key is not None
        self.in_flight_limit = settings.in_flight
        self._price = settings.price_cents
        self._client = make_client(
            str(settings.base_url).rstrip("/"),
            {KEY_HEADER: settings.api_key.get_secret_value()},
            timeout=settings.timeout_seconds,
        )

    def build_request(self, values: Mapping[str, Any]) -> SnipRequest:
        return SnipRequest(video_url=values["url"], count=values["count"], style=values["style"])

    def load_request(self, stored: Mapping[str, Any]) -> SnipRequest:
        return SnipRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        assert isinstance(request, SnipRequest)
        return Description(source=request.video_url)

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        return ()

    def quote(self, request: BaseModel) -> Quote:
        assert isinstance(request, SnipRequest)
        cents = request.count * self._price
        return Quote(cents, f"{request.count} clips with Snip will cost ${cents / 100:.2f}.")

    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        response = await send(
            self._client,
            "POST",
            "/v1/clips",
            label=LABEL,
            idempotent=True,  # the Idempotency-Key makes a repeat the same create
            json=dump_request(request),
            headers={"Idempotency-Key": key},
        )
        self._raise_for(response)
        created = self._read(response, _Created)
        return Submission(ref=created.id, cost_cents=created.cost_cents)

    async def poll(self, ref: str) -> Status:
        response = await send(self._client, "GET", f"/v1/clips/{ref}", label=LABEL, idempotent=True)
        self._raise_for(response)
        job = self._read(response, _Job)
        if job.status == "failed":
            raise Failed(f"Snip could not cut this video ({job.reason or 'no reason given'}).")
        if job.status != "done":
            return Status(state=Progress.RUNNING, percent=job.progress, stage=job.status)
        return Status(
            state=Progress.DONE,
            outputs=tuple(
                Clip(url=c.url, title=c.title, duration_s=c.seconds, provider_id=str(n))
                for n, c in enumerate(job.clips)
            ),
        )

    async def refresh(self, ref: str, output: Output) -> Output | None:
        return output  # Snip's links never expire

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None

    async def check_credentials(self) -> None:
        """A job id Snip never gives: 404 means the key was accepted."""
        response = await send(
            self._client, "GET", "/v1/clips/no-such-job", label=LABEL, idempotent=True
        )
        if response.status_code != 404:
            self._raise_for(response)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        if response.status_code == 429:
            raise RateLimited(
                "Snip asked Reelbot to slow down.",
                retry_after=float(response.headers.get("Retry-After", "1")),
            )
        try:
            code = str(response.json().get("error"))
        except ValueError:
            code = ""
        cls, sentence = ERRORS.get(
            code, (Failed, f"Snip refused the request (HTTP {response.status_code}).")
        )
        raise cls(sentence, code=code or str(response.status_code))

    @staticmethod
    def _read(response: httpx.Response, model: type[Any]) -> Any:
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise Unavailable(
                "Snip sent an answer Reelbot could not read.", code="malformed"
            ) from None


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.CLIPS,
    settings=SnipSettings,
    form=FORM,
    build=SnipProvider,
    key_variable="SNIP_API_KEY",
)
