"""Vizard.ai behind the provider protocol: its settings group, submit, poll, refresh, webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote as percent_encode

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr
from pydantic_settings import SettingsConfigDict

from providers.base import (
    Clip,
    Description,
    JobKind,
    NeedsAdmin,
    Output,
    Progress,
    Quote,
    RateWindow,
    SharedState,
    Status,
    Submission,
    dump_request,
    own_request,
)
from providers.forms import Choice, Form
from providers.http import make_client, send
from providers.plugin import ProviderPlugin, ProviderSettings
from providers.vizard import form
from providers.vizard.api import (
    API_KEY_HEADER,
    CODE_OK,
    CODE_RUNNING,
    CREATE_PATH,
    DEFAULT_BASE_URL,
    LABEL,
    NAME,
    QUERY_PATH,
    RATE_WINDOWS,
    VizardCreateResponse,
    VizardQueryResponse,
    VizardRequest,
    error_for,
    read_body,
    unreadable,
)

# Project ids are positive numbers, so no account has project 0.
NO_SUCH_PROJECT = "0"


class VizardSettings(ProviderSettings):
    """VIZARD_*: the key, where the API is, and the documented create limits."""

    model_config = SettingsConfigDict(env_prefix="VIZARD_")

    api_key: SecretStr | None = None
    base_url: HttpUrl = HttpUrl(DEFAULT_BASE_URL)
    per_minute: Annotated[int, Field(ge=1)] = 3
    per_hour: Annotated[int, Field(ge=1)] = 20
    timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    link_ttl_hours: Annotated[float, Field(gt=0)] = 168.0


class VizardProvider:
    name: str = NAME
    label: str = LABEL
    kind: JobKind = JobKind.CLIPS
    form: Form = form.FORM
    # Vizard documents no concurrency limit and takes no idempotency key.
    in_flight_limit: int | None = None
    retryable_create: bool = False

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        rate_windows: tuple[RateWindow, ...] = RATE_WINDOWS,
        link_ttl_seconds: float = 7 * 86400,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.rate_windows = rate_windows
        self._link_ttl_seconds = link_ttl_seconds
        self._client = make_client(
            base_url,
            {API_KEY_HEADER: api_key, "Content-Type": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    def build_request(self, values: Mapping[str, Any]) -> VizardRequest:
        return form.build_request(values)

    def load_request(self, stored: Mapping[str, Any]) -> VizardRequest:
        return VizardRequest.model_validate(stored)

    def describe(self, request: BaseModel) -> Description:
        vizard = own_request(request, VizardRequest, LABEL)
        return Description(source=vizard.video_url, title=vizard.project_name)

    async def catalog(self, field: str, values: Mapping[str, Any]) -> tuple[Choice, ...]:
        return ()  # every Vizard field is a fixed list

    def quote(self, request: BaseModel) -> Quote | None:
        return None  # paid by plan minutes, not per request

    async def submit(
        self, request: BaseModel, *, key: str, webhook_url: str | None = None
    ) -> Submission:
        body = dump_request(own_request(request, VizardRequest, LABEL))
        if webhook_url is not None:
            body["webhookUrl"] = webhook_url
        response = await send(
            self._client, "POST", CREATE_PATH, label=LABEL, idempotent=False, json=body
        )
        created = read_body(response, VizardCreateResponse)
        if created.code != CODE_OK:
            raise error_for(created.code)
        if created.project_id is None or str(created.project_id).strip() == "":
            raise unreadable()
        return Submission(ref=str(created.project_id))

    async def poll(self, ref: str) -> Status:
        path = QUERY_PATH.format(project_id=percent_encode(ref, safe=""))
        response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
        queried = read_body(response, VizardQueryResponse)
        if queried.code == CODE_RUNNING:
            return Status(state=Progress.RUNNING)
        if queried.code != CODE_OK:
            raise error_for(queried.code)
        # The link lifetime counts from this answer: every query hands out fresh links.
        expires_at = time.time() + self._link_ttl_seconds
        outputs = tuple(
            Clip(
                url=clip.video_url,
                title=clip.title,
                duration_s=None
                if clip.video_ms_duration is None
                else clip.video_ms_duration / 1000,
                score=clip.viral_score,
                reason=clip.viral_reason,
                transcript=clip.transcript,
                topics=tuple(clip.related_topic),
                expires_at=expires_at,
                editor_url=clip.clip_editor_url,
                provider_id=None if clip.video_id is None else str(clip.video_id),
            )
            for clip in queried.videos
        )
        return Status(state=Progress.DONE, outputs=outputs)

    async def refresh(self, ref: str, output: Output) -> Output | None:
        """A query hands out fresh links: find the same clip (by videoId) in a new answer."""
        status = await self.poll(ref)
        for fresh in status.outputs:
            if output.provider_id is not None and fresh.provider_id == output.provider_id:
                return fresh
        return None

    def webhook_ref(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """The projectId a callback names. Vizard signs nothing, so this only hastens a poll."""
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        project_id = payload.get("projectId")
        if isinstance(project_id, bool):
            return None
        if isinstance(project_id, int):
            return str(project_id)
        if isinstance(project_id, str) and project_id.strip().isdigit():
            return project_id.strip()
        return None

    async def check_credentials(self) -> None:
        """Queries a project no account has: 4001 is a refused key; any other code (Vizard
        documents none for an unknown project) came past the key check."""
        path = QUERY_PATH.format(project_id=NO_SUCH_PROJECT)
        response = await send(self._client, "GET", path, label=LABEL, idempotent=True)
        code = read_body(response, VizardQueryResponse).code
        if code in (CODE_OK, CODE_RUNNING):
            return
        error = error_for(code)
        if isinstance(error, NeedsAdmin):  # the key, or minutes used up: an admin's to fix
            raise error

    async def aclose(self) -> None:
        await self._client.aclose()


def _build(settings: VizardSettings, shared: SharedState) -> VizardProvider:
    assert settings.api_key is not None
    return VizardProvider(
        settings.api_key.get_secret_value(),
        str(settings.base_url).rstrip("/"),
        rate_windows=(RateWindow(60, settings.per_minute), RateWindow(3600, settings.per_hour)),
        link_ttl_seconds=settings.link_ttl_hours * 3600,
        timeout=settings.timeout_seconds,
    )


PLUGIN = ProviderPlugin(
    name=NAME,
    label=LABEL,
    kind=JobKind.CLIPS,
    settings=VizardSettings,
    form=form.FORM,
    build=_build,
    key_variable="VIZARD_API_KEY",
)
