"""DeepBrain AI Studios behind the provider protocol: settings group, submit, poll, refresh."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote as percent_encode

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr
from pydantic_settings import SettingsConfigDict

from providers.aistudios import form
from providers.aistudios.api import (
    CREATE_PATH,
    DEFAULT_BASE_URL,
    DEFAULT_LINK_TTL_HOURS,
    DEFAULT_MAX_SCRIPT_CHARS,
    DEFAULT_PROJECT_NAME,
    DEFAULT_RESOLUTION,
    DONE_PROGRESS,
    FAILED_STATES,
    LABEL,
    MODELS_PATH,
    NAME,
    PROGRESS_PATH,
    PROJECT_GONE,
    PROJECT_PATH,
    RENDER_FAILED,
    TOKEN_LIFE_SECONDS,
    AIStudiosRequest,
    AvatarModel,
    CreateData,
    ModelList,
    ProgressData,
    ProjectData,
    ProjectInfo,
    Resolution,
    project_body,
    read,
)
from providers.aistudios.auth import TokenAuth, exchange_token
from providers.base import (
    Description,
    Failed,
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
from providers.http import make_client, send
from providers.plugin import ProviderPlugin, ProviderSettings

log = logging.getLogger(__name__)


class AIStudiosSettings(ProviderSettings):
    """AISTUDIOS_*: the API key pair, where the API is, defaults and undocumented limits."""

    model_config = SettingsConfigDict(env_prefix="AISTUDIOS_")

    app_id: str | None = Field(
        default=None, description="The AppId from the AI Studios API key page."
    )
    user_key: SecretStr | None = Field(
        default=None, description="The UserKey shown once with the AppId; it is kept secret."
    )
    base_url: HttpUrl = Field(
        default=HttpUrl(DEFAULT_BASE_URL),
        description="https://app.aistudios.com for the global service, "
        "https://app.aistudios.cn for the China service.",
    )
    default_model_id: str | None = Field(
        default=None, description="The avatar (model id) used when none is chosen."
    )
    default_clothes_id: str | None = Field(
        default=None, description="The outfit (clothes id) used when none is chosen."
    )
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    link_ttl_hours: Annotated[float, Field(gt=0)] = Field(
        default=DEFAULT_LINK_TTL_HOURS,
        description="How long a downloadUrl is taken to work. AI Studios does not document it: "
        "a day is assumed, and the Fresh link button asks for a new one.",
    )
    max_script_chars: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=DEFAULT_MAX_SCRIPT_CHARS,
        description="The longest script accepted. AI Studios documents no limit: 2,000 is an "
        "assumed sane default (a Slack modal input holds at most 3,000).",
    )
    in_flight: Annotated[int | None, Field(ge=1)] = Field(
        default=None, description="Videos open at once across replicas; unset: no limit."
    )
    workspace_id: str | None = Field(
        default=None, description="The AI Studios workspace the projects go in; unset: default."
    )
    resolution: Resolution = Field(default=DEFAULT_RESOLUTION, description="4k, 1080, 720, 480.")

    @property
    def configured(self) -> bool:
        return bool(self.app_id) and self.user_key is not None


class AIStudiosProvider:
    name: str = NAME
    label: str = LABEL
    kind: JobKind = JobKind.AVATAR
    # AI Studios documents no rate limit and takes no idempotency key.
    rate_windows: tuple[RateWindow, ...] = ()
    retryable_create: bool = False

    def __init__(
        self,
        app_id: str,
        user_key: str,
        shared: SharedState,
        base_url: str = DEFAULT_BASE_URL,
        *,
        default_model_id: str | None = None,
        default_clothes_id: str | None = None,
        resolution: str = DEFAULT_RESOLUTION,
        workspace_id: str | None = None,
        max_script_chars: int = DEFAULT_MAX_SCRIPT_CHARS,
        link_ttl_seconds: float = DEFAULT_LINK_TTL_HOURS * 3600,
        in_flight_limit: int | None = None,
        timeout: float = 30.0,
        token_seconds: float = TOKEN_LIFE_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.in_flight_limit = in_flight_limit
        self.form: Form = form.form_for(max_script_chars).with_defaults(
            {"avatar": default_model_id, "outfit": default_clothes_id}
        )
        self._max_script_chars = max_script_chars
        self._resolution = resolution
        self._workspace_id = workspace_id
        self._link_ttl_seconds = link_ttl_seconds
        self._client = make_client(
            base_url, {"Content-Type": "application/json"}, timeout=timeout, transport=transport
        )

        async def exchange() -> str:
            return await exchange_token(self._client, app_id, user_key)

        self._exchange = exchange

        # The account is the app id and the user key together: a token obtained with one user
        # key is never used by a Provider holding another (a workspace that saved the same app
        # id with a wrong key must be refused, not ride on another account's token).
        user_key_digest = hashlib.sha256(user_key.encode()).hexdigest()[:16]
        self.auth = TokenAuth(
            shared,
            f"{base_url.rstrip('/')} {app_id} {user_key_digest}",
            exchange,
            life=token_seconds,
            # An exchange may take three attempts of `timeout` each before it gives up.
            lock_seconds=3 * timeout + 5,
        )
        self._client.auth = self.auth

    def build_request(self, values: Mapping[str, Any]) -> AIStudiosRequest:
        return form.build_request(values, max_script_chars=self._max_script_chars)

    def load_request(self, stored: Mapping[str, Any]) -> AIStudiosRequest:
        return AIStudiosRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        studio = own_request(request, AIStudiosRequest, LABEL)
        return Description(source=form.excerpt(studio.script), title=studio.title)

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        if field == "avatar":
            return tuple(
                Choice(
                    value=model.id,
                    label=model.label.text(model.id),
                    description=_outfits(len(model.clothes)),
                    image_url=model.thumbnail,
                )
                for model in await self._models()
            )
        if field == "outfit":
            avatar = values.get("avatar")
            wanted = str(avatar).strip() if avatar is not None else ""
            if not wanted:
                return ()
            for model in await self._models():
                if model.id == wanted:
                    return tuple(
                        Choice(
                            value=cloth.id,
                            label=cloth.label.text(cloth.id),
                            image_url=cloth.thumbnail,
                        )
                        for cloth in model.clothes
                    )
        return ()

    def quote(self, request: BaseModel) -> Quote | None:
        return None  # paid from the plan's credits, not per request

    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        # `key` is not sent: AI Studios takes no idempotency key, so a lost answer is never
        # sent again (retryable_create is False).
        body = project_body(
            own_request(request, AIStudiosRequest, LABEL),
            resolution=self._resolution,
            workspace_id=self._workspace_id,
            webhook_url=webhook_url,
        )
        response = await send(
            self._client, "POST", CREATE_PATH, label=LABEL, idempotent=False, json=body
        )
        return Submission(ref=read(response, CreateData).project_id)

    async def poll(self, ref: str) -> Status:
        path = PROGRESS_PATH.format(project_id=percent_encode(ref, safe=""))
        response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
        progress = read(response, ProgressData)
        state = (progress.state or "").strip() or None
        if state is not None and state.lower() in FAILED_STATES:
            raise Failed(RENDER_FAILED, code=f"state_{state.lower()}")
        if progress.progress < DONE_PROGRESS or not progress.download_url:
            return Status(state=Progress.RUNNING, percent=progress.progress, stage=state)
        # A fresh downloadUrl on every answer: its life counts from now.
        expires_at = time.time() + self._link_ttl_seconds
        info = await self._project(ref)
        title = (info.name or "").strip() if info is not None else ""
        video = Video(
            url=progress.download_url,
            title="" if title == DEFAULT_PROJECT_NAME else title,
            thumbnail_url=info.thumbnail_url if info is not None else None,
            expires_at=expires_at,
            provider_id=ref,
        )
        return Status(state=Progress.DONE, percent=DONE_PROGRESS, stage=state, outputs=(video,))

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """Progress hands out a re-signed downloadUrl each time it is asked."""
        try:
            status = await self.poll(ref)
        except ProviderError as exc:
            if exc.code in PROJECT_GONE:
                return None
            raise
        return status.outputs[0] if status.outputs else None

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        # AI Studios signs nothing and its callback names only a backendTaskId: callbacks
        # arrive on each job's own unguessable URL, so the shared endpoint takes none.
        return None

    async def check_credentials(self) -> None:
        """A token exchange of its own (free, and it makes nothing): the app id and user key
        are what it proves, whatever token the replicas share."""
        await self._exchange()

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- reads ------------------------------------------------------------------------------
    async def _models(self) -> list[AvatarModel]:
        response = await send(self._client, "GET", MODELS_PATH, label=LABEL, idempotent=True)
        return read(response, ModelList).models

    async def _project(self, ref: str) -> ProjectInfo | None:
        """The project's name and thumbnail, if AI Studios gives them: the video is done
        without them, so any failure here leaves them out."""
        path = PROJECT_PATH.format(project_id=percent_encode(ref, safe=""))
        try:
            response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
            return read(response, ProjectData).project
        except ProviderError as exc:
            log.debug("AI Studios project read failed (%s)", exc.code)
            return None


def _outfits(count: int) -> str:
    return f"{count} outfit" + ("" if count == 1 else "s")


def _build(settings: AIStudiosSettings, shared: SharedState) -> AIStudiosProvider:
    assert settings.app_id is not None and settings.user_key is not None
    return AIStudiosProvider(
        settings.app_id,
        settings.user_key.get_secret_value(),
        shared,
        str(settings.base_url).rstrip("/"),
        default_model_id=settings.default_model_id,
        default_clothes_id=settings.default_clothes_id,
        resolution=settings.resolution,
        workspace_id=settings.workspace_id,
        max_script_chars=settings.max_script_chars,
        link_ttl_seconds=settings.link_ttl_hours * 3600,
        in_flight_limit=settings.in_flight,
        timeout=settings.timeout_seconds,
    )


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.AVATAR,
    settings=AIStudiosSettings,
    form=form.FORM,
    build=_build,
    key_variable="AISTUDIOS_APP_ID and AISTUDIOS_USER_KEY",
)
