"""HeyGen behind the provider protocol: its settings group, submit, poll, catalogs, webhooks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any, TypeVar
from urllib.parse import quote as percent_encode

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from providers.avatar_fields import script_line
from providers.base import (
    BadInput,
    Description,
    JobKind,
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
from providers.heygen import form
from providers.heygen.api import (
    API_KEY_HEADER,
    DEFAULT_BASE_URL,
    DEFAULT_SIGNATURE_HEADER,
    IDEMPOTENCY_HEADER,
    LABEL,
    LOOKS_PAGE_LIMIT,
    MAX_CATALOG_PAGES,
    MAX_SCRIPT_CHARS,
    NAME,
    V1_OK,
    V2_AVATARS_PATH,
    V2_CREATE_PATH,
    V2_STATUS_PATH,
    V2_VOICES_PATH,
    V3_CREATE_PATH,
    V3_LOOKS_PATH,
    V3_STATUS_PATH,
    V3_VOICES_PATH,
    VOICE_TYPES,
    VOICES_PAGE_LIMIT,
    WAITING_STAGES,
    ApiVersion,
    Created,
    HeyGenRequest,
    Page,
    V1VideoAnswer,
    V2Avatars,
    V2Voices,
    V3Look,
    V3VideoAnswer,
    V3Voice,
    link_expiry,
    v2_body,
    v3_body,
)
from providers.heygen.catalog import avatar_choices, look_choices, voice_choices
from providers.heygen.errors import error_from_response, failure_error, unreadable
from providers.heygen.webhooks import signed_video_id
from providers.http import make_client, send
from providers.plugin import ProviderPlugin, ProviderSettings

_M = TypeVar("_M", bound=BaseModel)
_I = TypeVar("_I", bound=BaseModel)
_GONE = frozenset({"not_found", "40104"})


class HeyGenSettings(ProviderSettings):
    """HEYGEN_*: the key, where the API is, which API version, defaults and webhook signing."""

    model_config = SettingsConfigDict(env_prefix="HEYGEN_")

    api_key: SecretStr | None = None
    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    default_avatar_id: str | None = None
    default_voice_id: str | None = None
    api_version: ApiVersion = "v3"
    webhook_secret: SecretStr | None = None
    webhook_signature_header: Annotated[str, Field(min_length=1)] = DEFAULT_SIGNATURE_HEADER
    # Pay-as-you-go allows 10 video jobs at once; beyond that HeyGen answers 429.
    in_flight: Annotated[int, Field(ge=1)] = 10
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    link_ttl_hours: Annotated[float, Field(gt=0)] = 168.0
    max_script_chars: Annotated[int, Field(ge=1)] = MAX_SCRIPT_CHARS

    @field_validator("api_version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        return (value.strip().lower() or "v3") if isinstance(value, str) else value

    @property
    def configured(self) -> bool:
        """Only the API key counts: the webhook secret is optional."""
        return self.api_key is not None


class HeyGenProvider:
    name: str = NAME
    label: str = LABEL
    kind: JobKind = JobKind.AVATAR
    # HeyGen does not rate-limit generation; a 429 (over the concurrency) carries Retry-After.
    rate_windows: tuple[RateWindow, ...] = ()

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_version: ApiVersion = "v3",
        in_flight_limit: int | None = 10,
        default_avatar_id: str | None = None,
        default_voice_id: str | None = None,
        webhook_secret: str | None = None,
        signature_header: str = DEFAULT_SIGNATURE_HEADER,
        link_ttl_seconds: float = 7 * 86400,
        max_script_chars: int = MAX_SCRIPT_CHARS,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_version: ApiVersion = api_version
        self.in_flight_limit = in_flight_limit
        # Only v3 takes an Idempotency-Key, so only there may a lost create be sent again.
        self.retryable_create = api_version == "v3"
        self.form: Form = form.form_for(api_version, max_script_chars).with_defaults(
            {"avatar": default_avatar_id, "voice": default_voice_id}
        )
        self._max_script_chars = max_script_chars
        self._secrets = (api_key,)
        self._webhook_secret = webhook_secret.encode() if webhook_secret else None
        self._signature_header = signature_header.lower()
        self._link_ttl_seconds = link_ttl_seconds
        self._client = make_client(
            base_url,
            {API_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    # --- requests ---------------------------------------------------------------------------
    def build_request(self, values: Mapping[str, Any]) -> HeyGenRequest:
        return form.build_request(
            values, api_version=self.api_version, max_script_chars=self._max_script_chars
        )

    def load_request(self, stored: Mapping[str, Any]) -> HeyGenRequest:
        return HeyGenRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        heygen = own_request(request, HeyGenRequest, LABEL)
        line = script_line(heygen.script, 80)
        return Description(source=f"\u201c{line}\u201d", title=heygen.title)

    def quote(self, request: BaseModel) -> Quote | None:
        return None  # paid from the account's credits, not per request

    # --- jobs -------------------------------------------------------------------------------
    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        heygen = own_request(request, HeyGenRequest, LABEL)
        v3 = self.api_version == "v3"
        if v3 and heygen.test:
            raise BadInput(
                "HeyGen's v3 API has no test mode, so make this video again with test mode off.",
                code="test_mode_unsupported",
            )
        build = v3_body if v3 else v2_body
        response = await send(
            self._client,
            "POST",
            V3_CREATE_PATH if v3 else V2_CREATE_PATH,
            label=LABEL,
            # Only v3's Idempotency-Key makes a repeat the same create.
            idempotent=v3,
            json=build(heygen, key=key, webhook_url=webhook_url),
            headers={IDEMPOTENCY_HEADER: key} if v3 else None,
        )
        created = self._read(response, Created)
        if not created.data.video_id.strip():
            raise unreadable()
        return Submission(ref=created.data.video_id)

    async def poll(self, ref: str) -> Status:
        if self.api_version == "v3":
            path = V3_STATUS_PATH.format(video_id=percent_encode(ref, safe=""))
            response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
            v3 = self._read(response, V3VideoAnswer).data
            state, video_id = v3.status.strip().lower(), v3.id
            url = v3.captioned_video_url or v3.video_url
            failure = (v3.failure_code, v3.failure_message)
            thumbnail, duration, title = v3.thumbnail_url, v3.duration, v3.title or ""
        else:
            url_path = f"{V2_STATUS_PATH}?video_id={percent_encode(ref, safe='')}"
            response = await send(self._client, "GET", url_path, label=LABEL, idempotent=True)
            answer = self._read(response, V1VideoAnswer)
            if answer.code is not None and answer.code != V1_OK:
                raise error_from_response(response, secrets=self._secrets)
            v1 = answer.data
            state, video_id = v1.status.strip().lower(), v1.id or ref
            url = v1.video_url_caption or v1.video_url
            error = v1.error
            failure = (
                (error.code, error.detail or error.message) if error is not None else (None, None)
            )
            thumbnail, duration, title = v1.thumbnail_url, v1.duration, ""
        if state == "failed":
            raise failure_error(*failure, secrets=self._secrets)
        if state != "completed":
            progress = Progress.PENDING if state in WAITING_STAGES else Progress.RUNNING
            return Status(state=progress, stage=state or None)
        if not url:
            raise unreadable()
        expires_at = link_expiry(url) or time.time() + self._link_ttl_seconds
        video = Video(
            url=url,
            title=title,
            thumbnail_url=thumbnail,
            duration_s=duration,
            expires_at=expires_at,
            provider_id=video_id,
        )
        return Status(state=Progress.DONE, outputs=(video,))

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """HeyGen signs its links again on every status call, so a poll is a fresh link."""
        try:
            status = await self.poll(ref)
        except ProviderError as exc:
            if exc.code in _GONE:
                return None
            raise
        return status.outputs[0] if status.state is Progress.DONE and status.outputs else None

    # --- catalogs ---------------------------------------------------------------------------
    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        if field == "avatar":
            return await (self._looks() if self.api_version == "v3" else self._v2_avatars())
        if field == "voice":
            voices = await (self._voices() if self.api_version == "v3" else self._v2_voices())
            return voice_choices(voices)
        return ()

    async def _looks(self) -> tuple[Choice, ...]:
        looks: list[V3Look] = []
        async for page in self._pages(V3_LOOKS_PATH, {"limit": LOOKS_PAGE_LIMIT}, V3Look):
            looks.extend(page.data)
        return look_choices(looks)

    async def _voices(self) -> list[V3Voice]:
        voices: list[V3Voice] = []
        for voice_type in VOICE_TYPES:
            params: dict[str, Any] = {"limit": VOICES_PAGE_LIMIT, "type": voice_type}
            async for page in self._pages(V3_VOICES_PATH, params, V3Voice):
                voices.extend(page.data)
        return voices

    async def _v2_avatars(self) -> tuple[Choice, ...]:
        response = await send(self._client, "GET", V2_AVATARS_PATH, label=LABEL, idempotent=True)
        return avatar_choices(self._read(response, V2Avatars).data.avatars)

    async def _v2_voices(self) -> list[V3Voice]:
        response = await send(self._client, "GET", V2_VOICES_PATH, label=LABEL, idempotent=True)
        return self._read(response, V2Voices).data.voices

    async def _pages(
        self, path: str, params: dict[str, Any], item: type[_I]
    ) -> AsyncIterator[Page[_I]]:
        token: str | None = None
        for _ in range(MAX_CATALOG_PAGES):
            query = dict(params) if token is None else {**params, "token": token}
            url = str(httpx.URL(path, params=query))
            response = await send(self._client, "GET", url, label=LABEL, idempotent=True)
            page = self._read(response, Page[item])  # type: ignore[valid-type]
            yield page
            if not page.has_more or not page.next_token or page.next_token == token:
                return
            token = page.next_token

    async def check_credentials(self) -> None:
        """One avatar look (v3) or the avatar list (v2, which has no page size): a read that
        needs the key and costs no credits."""
        if self.api_version == "v3":
            url = str(httpx.URL(V3_LOOKS_PATH, params={"limit": 1}))
            response = await send(self._client, "GET", url, label=LABEL, idempotent=True)
            self._read(response, Page[V3Look])
        else:
            response = await send(
                self._client, "GET", V2_AVATARS_PATH, label=LABEL, idempotent=True
            )
            self._read(response, V2Avatars)

    # --- webhooks ---------------------------------------------------------------------------
    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The video a signed call to the registered endpoint names; None unless it verifies.

        Only ever hastens a poll: nothing in the body is used beyond the video id.
        """
        if self._webhook_secret is None:
            return None
        return signed_video_id(
            headers, body, secret=self._webhook_secret, signature_header=self._signature_header
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- reading ----------------------------------------------------------------------------
    def _read(self, response: httpx.Response, model: type[_M]) -> _M:
        """The documented body of a 2xx; HeyGen's own error for anything else."""
        if response.status_code >= 300:
            raise error_from_response(response, secrets=self._secrets)
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            # An error envelope on a 200 (v1/v2 do that) still names its code.
            error = error_from_response(response, secrets=self._secrets)
            if error.code and not error.code.startswith("http_"):
                raise error from None
            # `from None`: the validation error quotes the body, which must stay out of logs.
            raise unreadable() from None


def _build(settings: HeyGenSettings, shared: SharedState) -> HeyGenProvider:
    assert settings.api_key is not None
    secret = settings.webhook_secret
    return HeyGenProvider(
        settings.api_key.get_secret_value(),
        str(settings.base_url).rstrip("/"),
        api_version=settings.api_version,
        in_flight_limit=settings.in_flight,
        default_avatar_id=settings.default_avatar_id,
        default_voice_id=settings.default_voice_id,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        signature_header=settings.webhook_signature_header,
        link_ttl_seconds=settings.link_ttl_hours * 3600,
        max_script_chars=settings.max_script_chars,
        timeout=settings.timeout_seconds,
    )


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.AVATAR,
    settings=HeyGenSettings,
    form=form.FORM,
    build=_build,
    key_variable="HEYGEN_API_KEY",
)
