"""Cuttr behind the provider protocol: its settings group, the price, submit (a link, or a
file's bytes in one multipart create), poll, refresh."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr
from pydantic_settings import SettingsConfigDict

from providers.base import (
    Clip,
    Description,
    Failed,
    FileSource,
    JobKind,
    MediaFile,
    Output,
    Progress,
    Quote,
    RateWindow,
    SharedState,
    Status,
    Submission,
    own_request,
)
from providers.cuttr import form
from providers.cuttr.api import (
    API_KEY_HEADER,
    CREATE_PATH,
    DEFAULT_BASE_URL,
    LABEL,
    NAME,
    PRICE_CENTS_PER_CLIP,
    REQUESTS_PER_MINUTE,
    STATUS_PATH,
    TEST_PATH,
    Created,
    CuttrRequest,
    form_fields,
    json_body,
)
from providers.cuttr.errors import error_from_response, unreadable
from providers.forms import Choice, Form
from providers.http import make_client, multipart_stream, send
from providers.plugin import ProviderPlugin, ProviderSettings

_FAILED = frozenset({"failed", "error", "cancelled", "canceled"})
_DONE = frozenset({"completed", "complete", "done", "succeeded"})


def dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


class CuttrSettings(ProviderSettings):
    """CUTTR_*: the key, where the API is, the price per clip, limits."""

    model_config = SettingsConfigDict(env_prefix="CUTTR_")

    api_key: SecretStr | None = None
    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    price_cents_per_clip: Annotated[int, Field(ge=0)] = Field(
        default=PRICE_CENTS_PER_CLIP,
        description="The quote per clip (the documents say $1.50 and $0.50); what Cuttr "
        "reports it charged is what is recorded.",
    )
    per_minute: Annotated[int, Field(ge=1)] = REQUESTS_PER_MINUTE
    in_flight: Annotated[int | None, Field(ge=1)] = None
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0


def _first(item: Mapping[str, Any], *names: str) -> Any:
    return next((item[n] for n in names if item.get(n) not in (None, "")), None)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _clips(answer: Mapping[str, Any]) -> tuple[Output, ...]:
    """clips[], read leniently (its fields are not documented): a clip is anything with a
    link; a clip given as a bare link string counts too."""
    found: list[Output] = []
    for index, item in enumerate(answer.get("clips") or []):
        if isinstance(item, str):
            item = {"url": item}
        if not isinstance(item, dict):
            continue
        url = _first(item, "url", "download_url", "video_url", "clip_url", "downloadUrl")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        thumbnail = _first(item, "thumbnail_url", "thumbnail", "thumbnailUrl")
        title = _first(item, "title", "name", "heading")
        found.append(
            Clip(
                url=url,
                title=str(title or f"Clip {index + 1}")[:200],
                duration_s=_number(_first(item, "duration", "duration_s", "length", "seconds")),
                score=_number(_first(item, "score", "viral_score")),
                thumbnail_url=thumbnail if isinstance(thumbnail, str) else None,
                provider_id=str(_first(item, "id", "clip_id") or index),
            )
        )
    return tuple(found)


class CuttrProvider:
    name: str = NAME
    label: str = LABEL
    kind: JobKind = JobKind.CLIPS
    form: Form = form.FORM
    # Cuttr takes no idempotency key: a create whose answer was lost is never sent again
    # (it charges the wallet up front).
    retryable_create: bool = False

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        price_cents_per_clip: int = PRICE_CENTS_PER_CLIP,
        per_minute: int = REQUESTS_PER_MINUTE,
        in_flight_limit: int | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rate_windows: tuple[RateWindow, ...] = (RateWindow(60, per_minute),)
        self.in_flight_limit = in_flight_limit
        self._price = price_cents_per_clip
        self._secrets = (api_key,)
        headers = {API_KEY_HEADER: api_key, "Accept": "application/json"}
        self._client = make_client(base_url, headers, timeout=timeout, transport=transport)

    # --- requests ---------------------------------------------------------------------------
    def build_request(self, values: Mapping[str, Any]) -> CuttrRequest:
        return form.build_request(values)

    def load_request(self, stored: Mapping[str, Any]) -> CuttrRequest:
        return CuttrRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        cuttr = own_request(request, CuttrRequest, LABEL)
        if cuttr.file is not None:
            return Description(source=f"the file {cuttr.file.name}")
        return Description(source=cuttr.video_url or "")

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        return ()  # every Cuttr field is a fixed list or free text

    def quote(self, request: BaseModel) -> Quote:
        clips = own_request(request, CuttrRequest, LABEL).num_clips
        cents = clips * self._price
        noun = "clip" if clips == 1 else "clips"
        return Quote(
            cents=cents,
            sentence=f"{clips} {noun} with {LABEL} will cost {dollars(cents)} from the team "
            "wallet.",
        )

    def media_file(self, request: BaseModel) -> MediaFile | None:
        return own_request(request, CuttrRequest, LABEL).file

    # --- jobs -------------------------------------------------------------------------------
    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        cuttr = own_request(request, CuttrRequest, LABEL)
        if cuttr.file is not None:
            raise Failed(
                f"Reelbot has not handed this video file to {LABEL}, so upload the file again "
                "or share a link to it.",
                code="file_not_supplied",
            )
        response = await send(
            self._client, "POST", CREATE_PATH, label=LABEL, idempotent=False,
            json=json_body(cuttr),
        )  # fmt: skip
        return self._created(response)

    async def submit_file(
        self, request: BaseModel, *, key: str, source: FileSource, webhook_url: str | None = None
    ) -> Submission:
        """One multipart create: the options as flat form fields and the file, streamed."""
        cuttr = own_request(request, CuttrRequest, LABEL)
        await source.prepare()
        headers, body = multipart_stream(
            form_fields(cuttr),
            file_field="file",
            filename=source.name,
            content_type=source.content_type,
            chunks=source.chunks(),
            size=source.size,
        )
        response = await send(
            self._client, "POST", CREATE_PATH, label=LABEL, idempotent=False, content=body,
            headers=headers,
        )  # fmt: skip
        return self._created(response)

    def _created(self, response: httpx.Response) -> Submission:
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self._secrets)
        try:
            created = Created.model_validate_json(response.content)
        except ValueError:
            raise unreadable() from None
        if not created.job_id.strip():
            raise unreadable()
        return Submission(ref=created.job_id.strip(), cost_cents=created.cost_cents)

    async def poll(self, ref: str) -> Status:
        path = STATUS_PATH.format(job_id=httpx.URL(ref).path.strip("/") or ref)
        response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self._secrets)
        try:
            answer = json.loads(response.content)
        except ValueError:
            raise unreadable() from None
        if not isinstance(answer, dict):
            raise unreadable()
        state = str(answer.get("status") or "").strip().lower()
        if state in _FAILED:
            said = _first(answer, "error", "message", "reason")
            because = f" ({str(said).strip().rstrip('.')[:200]})" if said else ""
            raise Failed(f"{LABEL} could not make the clips{because}.", code="job_failed")
        if state in _DONE:
            clips = _clips(answer)
            if not clips and answer.get("clips"):
                raise unreadable()
            return Status(state=Progress.DONE, outputs=clips, raw=answer)
        progress = answer.get("progress") if isinstance(answer.get("progress"), dict) else {}
        assert isinstance(progress, dict)
        done, total = _number(progress.get("completed")), _number(progress.get("total"))
        if done is not None and total:
            percent = max(0.0, min(100.0, 100 * done / total))
            stage = f"{int(done)} of {int(total)} clips made"
            return Status(state=Progress.RUNNING, percent=percent, stage=stage)
        return Status(state=Progress.RUNNING, stage=state or None)

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """Cuttr's links are permanent; a new answer still has them, found by clip id."""
        status = await self.poll(ref)
        for fresh in status.outputs:
            if output.provider_id is not None and fresh.provider_id == output.provider_id:
                return fresh
        return None

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None  # Cuttr documents no webhooks: jobs are polled

    async def check_credentials(self) -> None:
        """Cuttr's own smoke test of a key (GET /v1/test): free, and it makes nothing."""
        response = await send(self._client, "GET", TEST_PATH, label=LABEL, idempotent=True)
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self._secrets)

    async def aclose(self) -> None:
        await self._client.aclose()


def _build(settings: CuttrSettings, shared: SharedState) -> CuttrProvider:
    assert settings.api_key is not None
    return CuttrProvider(
        settings.api_key.get_secret_value(),
        str(settings.base_url).rstrip("/"),
        price_cents_per_clip=settings.price_cents_per_clip,
        per_minute=settings.per_minute,
        in_flight_limit=settings.in_flight,
        timeout=settings.timeout_seconds,
    )


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.CLIPS,
    settings=CuttrSettings,
    form=form.FORM,
    build=_build,
    key_variable="CUTTR_API_KEY",
)
