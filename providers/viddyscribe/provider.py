"""ViddyScribe behind the provider protocol: its settings group, submit (a link or a file's
bytes), poll, refresh."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from providers.base import (
    BadInput,
    Description,
    Failed,
    File,
    FileSource,
    JobKind,
    MediaFile,
    Output,
    Progress,
    ProviderError,
    Quote,
    RateWindow,
    SharedState,
    Status,
    Submission,
    Video,
    own_request,
)
from providers.forms import Choice, Form
from providers.http import make_client, send
from providers.plugin import ProviderPlugin, ProviderSettings
from providers.viddyscribe import form
from providers.viddyscribe.api import (
    API_KEY_HEADER,
    AUDIO_FILE,
    DEFAULT_BASE_URL,
    DEFAULT_FORMAT,
    FILE_STEM,
    FILE_TYPES,
    FORMAT_NAMES,
    GENERATE_PATHS,
    LABEL,
    LINK_TTL_SECONDS,
    MULTIPART_MAX_BYTES,
    NAME,
    RESULTS_PATH,
    Generated,
    OutputKind,
    Results,
    TextFormat,
    ViddyScribeRequest,
    expiry,
    generate_body,
    job_ref,
    output_format,
    output_text,
    parse_ref,
)
from providers.viddyscribe.errors import error_from_response, failure_error, unreadable
from providers.viddyscribe.upload import Media, MediaCache, upload_file, verified

_M = TypeVar("_M", bound=BaseModel)
Languages = tuple[tuple[str, str, tuple[str, ...]], ...]
_DROP_MEDIA = frozenset({"upload_failed", "not_found"})
# Job ids are "task_" and hex: this one names no job.
NO_SUCH_JOB = "task_reelbot_check"


class ViddyScribeSettings(ProviderSettings):
    """VIDDYSCRIBE_*: the key, where the API is, timeouts, link lifetime, limits."""

    model_config = SettingsConfigDict(env_prefix="VIDDYSCRIBE_")

    api_key: SecretStr | None = None
    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 60.0
    link_ttl_minutes: Annotated[float, Field(gt=0)] = Field(
        default=LINK_TTL_SECONDS / 60,
        description="How long a signed link works when the link itself does not say (15 min).",
    )
    in_flight: Annotated[int | None, Field(ge=1)] = Field(
        default=None, description="Descriptions open at once across replicas; unset: no limit."
    )
    languages: str | None = Field(
        default=None,
        description='Replaces the language list: "en-US=English (US), de-DE=German".',
    )
    upload_wait_seconds: Annotated[float, Field(ge=0, le=600)] = Field(
        default=30.0, description="How long one submit waits for a signed upload's check."
    )
    multipart_max_mb: Annotated[float, Field(gt=0, le=32)] = Field(
        default=MULTIPART_MAX_BYTES / 1_000_000,
        description="Files up to this size go as one multipart upload, larger ones by the "
        "signed flow (ViddyScribe documents 32 MB).",
    )

    voices: str | None = Field(
        default=None, description='Replaces the voice list: "Achernar, Kore, Puck".'
    )

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: str | None) -> str | None:
        if value is not None:
            form.parse_languages(value)
        return value

    @field_validator("voices")
    @classmethod
    def _voices(cls, value: str | None) -> str | None:
        if value is not None:
            form.parse_voices(value)
        return value


class ViddyScribeProvider:
    name: str = NAME
    label: str = LABEL
    kind: JobKind = JobKind.DESCRIPTION
    # Limits are per team and answered as 429s that carry retry_after.
    rate_windows: tuple[RateWindow, ...] = ()
    # ViddyScribe takes no idempotency key: a create whose answer is lost is never resent.
    retryable_create: bool = False

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        shared: SharedState | None = None,
        in_flight_limit: int | None = None,
        languages: Languages = form.LANGUAGES,
        voices: tuple[str, ...] = form.VOICES,
        link_ttl_seconds: float = LINK_TTL_SECONDS,
        multipart_max_bytes: int = MULTIPART_MAX_BYTES,
        upload_wait_seconds: float = 30.0,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.in_flight_limit = in_flight_limit
        self.form: Form = form.form_for(languages, voices)
        self._languages, self._voices = languages, voices
        self._media = MediaCache(shared, NAME)
        self._link_ttl_seconds = link_ttl_seconds
        self._multipart_max_bytes = multipart_max_bytes
        self._upload_wait_seconds = upload_wait_seconds
        self._secrets = (api_key,)
        headers = {API_KEY_HEADER: api_key, "Accept": "application/json"}
        self._client = make_client(base_url, headers, timeout=timeout, transport=transport)
        # The signed upload's PUT goes to a storage host: a client that never sends the key.
        self._storage = make_client("", {}, timeout=timeout, transport=transport)

    # --- requests ---------------------------------------------------------------------------
    def build_request(self, values: Mapping[str, Any]) -> ViddyScribeRequest:
        return form.build_request(values, languages=self._languages, voices=self._voices)

    def load_request(self, stored: Mapping[str, Any]) -> ViddyScribeRequest:
        return ViddyScribeRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        vs = own_request(request, ViddyScribeRequest, LABEL)
        if vs.file is not None:
            return Description(source=f"the file {vs.file.name}")
        return Description(source=vs.url or "")

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        return ()  # every field is a fixed list or free text

    def quote(self, request: BaseModel) -> Quote | None:
        return None  # paid from the team's allocation, not per request

    # --- jobs -------------------------------------------------------------------------------
    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        """Generate straight from the link: one call, so no uploaded media is left behind
        when a generate is refused, and one create (ViddyScribe takes no idempotency key)
        has one answer that can be lost, not two. A file request generates from the media
        `stage_file` uploaded under the same key."""
        vs = own_request(request, ViddyScribeRequest, LABEL)
        if vs.file is None:
            assert vs.url is not None
            return await self._generate(vs, {"type": "url", "url": vs.url})
        media = await self._media.recall(key)
        if media is None or not media.ready:
            raise Failed(
                f"Reelbot has not handed this video file to {LABEL}, so upload the file again "
                "or share a link to it.",
                code="file_not_supplied",
            )
        try:
            submission = await self._generate(vs, {"type": "media_id", "media_id": media.media_id})
        except ProviderError as exc:
            if exc.code in _DROP_MEDIA:
                await self._media.forget(key)  # asked again, the bytes are uploaded afresh
            raise
        await self._media.forget(key)
        return submission

    def media_file(self, request: BaseModel) -> MediaFile | None:
        return own_request(request, ViddyScribeRequest, LABEL).file

    async def stage_file(self, request: BaseModel, *, key: str, source: FileSource) -> None:
        """Upload the video's bytes (multipart up to 32 MB, the signed flow above) and wait
        for ViddyScribe's check of them. The media id is kept under `key` with each step
        done, so a call again after a wait (the check still going) uploads nothing again."""
        own_request(request, ViddyScribeRequest, LABEL)
        if source.size < 1:
            raise BadInput("This file is empty, so pick a video file.", code="empty_file")
        media = await self._media.recall(key)
        if media is None:
            await source.prepare()  # a file the bot cannot have fails before any upload
            media = await upload_file(
                self._client,
                self._storage,
                chunks=source.chunks(),
                size=source.size,
                name=source.name,
                content_type=source.content_type,
                multipart_max_bytes=self._multipart_max_bytes,
                secrets=self._secrets,
            )
            await self._media.remember(key, media)

        async def save(step: Media) -> None:
            await self._media.remember(key, step)

        try:
            await verified(
                self._client,
                media,
                wait_seconds=self._upload_wait_seconds,
                secrets=self._secrets,
                save=save,
            )
        except ProviderError as exc:
            if isinstance(exc, BadInput) or exc.code in _DROP_MEDIA:
                await self._media.forget(key)
            raise

    async def _generate(self, vs: ViddyScribeRequest, source: dict[str, str]) -> Submission:
        response = await send(
            self._client,
            "POST",
            GENERATE_PATHS[vs.output],
            label=LABEL,
            idempotent=False,
            json=generate_body(vs, source),
        )
        generated = self._read(response, Generated)
        if not generated.job_id.strip():
            raise unreadable()
        return Submission(ref=job_ref(vs.output, vs.format, generated.job_id.strip()))

    async def poll(self, ref: str) -> Status:
        output, text_format, job_id = parse_ref(ref)
        url = str(httpx.URL(RESULTS_PATH, params={"job_id": job_id}))
        response = await send(self._client, "GET", url, label=LABEL, idempotent=True)
        results = self._read(response, Results)
        state = results.status.strip().lower()
        if state == "failed":
            raise failure_error(results.error_code, results.error, secrets=self._secrets)
        if state == "queued":
            return Status(state=Progress.PENDING, stage=state)
        if state != "done":
            return Status(state=Progress.RUNNING, stage=state or None)
        return Status(
            state=Progress.DONE, outputs=self._outputs(results, output, text_format, job_id)
        )

    def _outputs(
        self,
        results: Results,
        output: OutputKind | None,
        text_format: TextFormat | None,
        job_id: str,
    ) -> tuple[Output, ...]:
        video_url = results.video_signed_url or results.result_url
        if output is None:  # a bare job id: what came back says what the job was
            output = "video" if video_url else "audio" if results.audio_signed_url else "text"
        text_format = text_format or output_format(results.output) or DEFAULT_FORMAT
        found: list[Output] = []
        if output == "video":
            if not video_url:
                raise unreadable()
            found.append(
                Video(
                    url=video_url,
                    title="Described video",
                    expires_at=expiry(video_url, self._link_ttl_seconds),
                    provider_id=f"{job_id}/video",
                )
            )
        audio_url = results.audio_signed_url
        if output == "audio":
            audio_url = audio_url or video_url  # "video_signed_url: video/audio jobs"
            if not audio_url:
                raise unreadable()
        if audio_url and output != "text":
            found.append(
                File(
                    name=AUDIO_FILE[0],
                    media_type=AUDIO_FILE[1],
                    url=audio_url,
                    title="Audio description track",
                    expires_at=expiry(audio_url, self._link_ttl_seconds),
                    provider_id=f"{job_id}/audio",
                )
            )
        text = output_text(results.output, text_format)
        if text is None and output == "text":
            raise unreadable()
        if text is not None:
            extension, media_type = FILE_TYPES[text_format]
            found.append(
                File(
                    name=f"{FILE_STEM}.{extension}",
                    media_type=media_type,
                    text=text,
                    title=f"Audio description ({FORMAT_NAMES[text_format]})",
                    provider_id=f"{job_id}/text",
                )
            )
        return tuple(found)

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """get_results signs its links again on every call: the same output, a fresh link."""
        try:
            status = await self.poll(ref)
        except ProviderError as exc:
            if exc.code == "not_found":
                return None
            raise
        if status.state is not Progress.DONE:
            return None
        for fresh in status.outputs:
            if output.provider_id is not None and fresh.provider_id == output.provider_id:
                return fresh
        return next((f for f in status.outputs if f.type == output.type), None)

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        return None  # ViddyScribe documents no webhooks: results are polled

    async def check_credentials(self) -> None:
        """get_results for a job no team has: 404 (not found) comes past the key check,
        401 is a refused key. A read: it makes and costs nothing."""
        url = str(httpx.URL(RESULTS_PATH, params={"job_id": NO_SUCH_JOB}))
        response = await send(self._client, "GET", url, label=LABEL, idempotent=True)
        if response.status_code >= 300 and response.status_code != httpx.codes.NOT_FOUND:
            raise error_from_response(response, secrets=self._secrets)

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._storage.aclose()

    # --- reading ----------------------------------------------------------------------------
    def _read(self, response: httpx.Response, model: type[_M]) -> _M:
        """The documented body of a 2xx; ViddyScribe's own error for anything else."""
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self._secrets)
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            # `from None`: the validation error quotes the body, which must stay out of logs.
            raise unreadable() from None


def _build(settings: ViddyScribeSettings, shared: SharedState) -> ViddyScribeProvider:
    assert settings.api_key is not None
    languages = form.parse_languages(settings.languages) if settings.languages else form.LANGUAGES
    return ViddyScribeProvider(
        settings.api_key.get_secret_value(),
        str(settings.base_url).rstrip("/"),
        shared=shared,
        in_flight_limit=settings.in_flight,
        languages=languages,
        voices=form.parse_voices(settings.voices) if settings.voices else form.VOICES,
        link_ttl_seconds=settings.link_ttl_minutes * 60,
        upload_wait_seconds=settings.upload_wait_seconds,
        multipart_max_bytes=int(settings.multipart_max_mb * 1_000_000),
        timeout=settings.timeout_seconds,
    )


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.DESCRIPTION,
    settings=ViddyScribeSettings,
    form=form.FORM,
    build=_build,
    key_variable="VIDDYSCRIBE_API_KEY",
)
