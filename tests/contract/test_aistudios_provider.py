"""AIStudiosProvider against the AI Studios simulator over real HTTP on loopback.

The error walk makes the simulator really produce each error and checks the kind and a piece
of the sentence written here, never read from the client's table. The token tests share one
real Redis between two providers (two replicas), and the SQLite store for one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.store import RedisJobStore, SqliteJobStore
from providers.aistudios import (
    FORM,
    PLUGIN,
    AIStudiosProvider,
    AIStudiosRequest,
    AIStudiosSettings,
    TokenAuth,
)
from providers.base import (
    NOT_SENT,
    BadInput,
    Description,
    Failed,
    JobKind,
    NeedsAdmin,
    Progress,
    Provider,
    ProviderError,
    RateLimited,
    SharedState,
    Status,
    Unavailable,
    Video,
    dump_request,
)
from providers.forms import FieldError, FieldType, Form
from providers.memory_state import MemoryState
from providers.simulators.aistudios import AIStudiosSimulator, Endpoint, Fault

APP_ID = "app-7d1e2b4c"
USER_KEY = "uk-live-0f3c9a7d1e2b4c6a8e0f"
KEY = "0" * 32
MODEL, CLOTH, OTHER_CLOTH = "M000045058", "BG00002320", "BG00002321"


def a_request(**changes: Any) -> AIStudiosRequest:
    fields: dict[str, Any] = {
        "script": "Hello team, here is this week's update from the product group.",
        "model_id": MODEL,
        "cloth_id": CLOTH,
        "background": "#1A2B3C",
        "orientation": "landscape",
        "title": "Weekly update",
    }
    fields.update(changes)
    return AIStudiosRequest(**fields)


def make(
    sim: AIStudiosSimulator, shared: SharedState | None = None, **kw: Any
) -> AIStudiosProvider:
    app_id = kw.pop("app_id", APP_ID)
    user_key = kw.pop("user_key", USER_KEY)
    return AIStudiosProvider(app_id, user_key, shared or MemoryState(), sim.base_url, **kw)


@pytest.fixture
async def sim() -> AsyncIterator[AIStudiosSimulator]:
    simulator = AIStudiosSimulator(APP_ID, USER_KEY, render_seconds=0.4)
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture
async def provider(sim: AIStudiosSimulator) -> AsyncIterator[AIStudiosProvider]:
    studio = make(sim)
    yield studio
    await studio.aclose()


def defaults(form: Form) -> dict[str, Any]:
    return {f.name: f.default for f in form.fields if f.default is not None}


async def poll_until_done(provider: AIStudiosProvider, ref: str, seconds: float = 5.0) -> Status:
    deadline = time.monotonic() + seconds
    while True:
        status = await provider.poll(ref)
        if status.state is Progress.DONE or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.05)


# --- the seam -------------------------------------------------------------------------------
def test_plugin_and_settings_group_use_the_fixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (PLUGIN.name, PLUGIN.label, PLUGIN.kind) == ("aistudios", "AI Studios", JobKind.AVATAR)
    names = {AIStudiosSettings.env_name(f) for f in AIStudiosSettings.model_fields}
    assert names == {
        "AISTUDIOS_APP_ID",
        "AISTUDIOS_USER_KEY",
        "AISTUDIOS_BASE_URL",
        "AISTUDIOS_DEFAULT_MODEL_ID",
        "AISTUDIOS_DEFAULT_CLOTHES_ID",
        "AISTUDIOS_TIMEOUT_SECONDS",
        "AISTUDIOS_LINK_TTL_HOURS",
        "AISTUDIOS_MAX_SCRIPT_CHARS",
        "AISTUDIOS_IN_FLIGHT",
        "AISTUDIOS_WORKSPACE_ID",
        "AISTUDIOS_RESOLUTION",
    }
    about = AIStudiosSettings.model_fields["base_url"].description or ""
    assert "app.aistudios.com" in about and "app.aistudios.cn" in about
    monkeypatch.setenv("AISTUDIOS_USER_KEY", USER_KEY)
    monkeypatch.setenv("AISTUDIOS_APP_ID", " ")
    only_key = AIStudiosSettings(_env_file=None)
    assert not only_key.configured, "a blank app id is unset"
    monkeypatch.setenv("AISTUDIOS_APP_ID", APP_ID)
    settings = AIStudiosSettings(_env_file=None)
    assert settings.configured
    assert str(settings.base_url).rstrip("/") == "https://app.aistudios.com"
    assert (settings.resolution, settings.in_flight, settings.max_script_chars) == (
        "1080",
        None,
        2000,
    )
    assert settings.secrets() == [USER_KEY]


async def test_plugin_builds_a_provider_with_the_workspace_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "APP_ID": APP_ID,
        "USER_KEY": USER_KEY,
        "DEFAULT_MODEL_ID": MODEL,
        "DEFAULT_CLOTHES_ID": CLOTH,
        "MAX_SCRIPT_CHARS": "500",
        "IN_FLIGHT": "4",
    }.items():
        monkeypatch.setenv(f"AISTUDIOS_{name}", value)
    built = PLUGIN.create(AIStudiosSettings(_env_file=None), MemoryState())
    try:
        studio: Provider = built
        assert studio.in_flight_limit == 4
        assert studio.retryable_create is False, "AI Studios takes no idempotency key"
        assert studio.rate_windows == ()
        assert studio.quote(a_request()) is None
        assert defaults(studio.form) == {**defaults(FORM), "avatar": MODEL, "outfit": CLOTH}
        assert studio.form.subject_field.max_length == 500
        assert PLUGIN.form.subject_field.max_length == 2000
    finally:
        await built.aclose()


def test_form_declares_the_fields_and_their_dependency() -> None:
    assert FORM.subject == "script"
    assert [(f.name, f.type) for f in FORM.fields] == [
        ("script", FieldType.TEXT),
        ("avatar", FieldType.LOOKUP),
        ("outfit", FieldType.LOOKUP),
        ("background", FieldType.TEXT),
        ("orientation", FieldType.CHOICE),
        ("title", FieldType.TEXT),
    ]
    script = FORM.subject_field
    assert script.required and script.multiline and script.max_length == 2000
    outfit = FORM.get("outfit")
    assert outfit is not None and outfit.required and outfit.depends_on == ("avatar",)
    assert FORM.triggers == frozenset({"avatar"})
    assert defaults(FORM) == {"background": "#FFFFFF", "orientation": "landscape"}


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"script": "   "}, "script", "script"),
        ({"script": "x" * 2001}, "script", "2,000"),
        ({"avatar": None}, "avatar", "AISTUDIOS_DEFAULT_MODEL_ID"),
        ({"outfit": ""}, "outfit", "AISTUDIOS_DEFAULT_CLOTHES_ID"),
        ({"background": "blue"}, "background", "#RRGGBB"),
        ({"background": "#12345"}, "background", "#RRGGBB"),
        ({"orientation": "square"}, "orientation", "landscape or portrait"),
    ],
)
def test_build_request_names_the_field_that_is_wrong(
    provider: AIStudiosProvider, changes: dict[str, Any], field: str, fragment: str
) -> None:
    values = {"script": "Hello", "avatar": MODEL, "outfit": CLOTH, **changes}
    with pytest.raises(FieldError) as raised:
        provider.build_request(values)
    assert raised.value.name == field
    assert fragment in raised.value.message


def test_request_is_built_stored_loaded_and_described(provider: AIStudiosProvider) -> None:
    script = "Hello   team,\nhere is the update. " + "More words follow here. " * 10
    built = provider.build_request(
        {"script": script, "avatar": MODEL, "outfit": CLOTH, "background": "1a2b3c"}
    )
    assert built.background == "#1A2B3C"
    assert built.orientation == "landscape" and built.title is None
    assert provider.load_request(dump_request(built)) == built
    described = provider.describe(a_request())
    assert described == Description(
        source='"Hello team, here is this week\'s update from the product group."',
        title="Weekly update",
    )
    long = provider.describe(built).source
    assert "\n" not in long and long.startswith('"Hello team, here') and long.endswith('…"')
    assert len(long) <= 82


# --- the happy path -------------------------------------------------------------------------
async def test_create_body_follows_the_reference(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    submission = await provider.submit(a_request(orientation="portrait"), key=KEY)

    assert submission.ref and submission.first_poll_after is None
    [body] = sim.creates
    assert (body["name"], body["orientation"], body["isExport"]) == (
        "Weekly update",
        "portrait",
        True,
    )
    assert body["resolution"] == "1080" and "webhookUrl" not in body
    [scene] = body["scenes"]
    assert scene["sceneIdx"] == 0
    assert scene["scripts"] == [
        {"org": a_request().script, "isTTS": False, "tts": None, "modelId": MODEL, "clothId": CLOTH}
    ]
    assert scene["background"]["source_color"] == "rgb(26,43,60)"
    [clip] = scene["clips"]
    assert clip["type"] == "aiModel"
    assert (clip["model"]["ai_name"], clip["model"]["emotion"]) == (MODEL, CLOTH)
    assert clip["left"] >= 0 and clip["left"] + clip["width"] <= 1080 and clip["height"] == 1920


async def test_progress_climbs_then_the_video_arrives_with_its_link_and_thumbnail(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    percents: list[float] = []
    deadline = time.monotonic() + 5
    while True:
        status = await provider.poll(ref)
        if status.state is Progress.DONE or time.monotonic() > deadline:
            break
        assert status.state is Progress.RUNNING and status.percent is not None
        assert status.stage == "progress"
        percents.append(status.percent)
        await asyncio.sleep(0.03)

    assert status.state is Progress.DONE and status.percent == 100
    assert percents == sorted(percents) and any(0 < p < 100 for p in percents)
    [video] = status.outputs
    assert isinstance(video, Video)
    assert video.url.startswith(sim.base_url) and "Signature=" in video.url
    assert video.title == "Weekly update"
    assert video.thumbnail_url is not None and ref in video.thumbnail_url
    assert video.provider_id == ref
    assert video.expires_at is not None and abs(video.expires_at - (time.time() + 86400)) < 60


async def test_refresh_hands_out_a_freshly_signed_link(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    ref = (await provider.submit(a_request(title=None), key=KEY)).ref
    [video] = (await poll_until_done(provider, ref)).outputs
    assert isinstance(video, Video) and video.title == ""

    fresh = await provider.refresh(ref, video)

    assert isinstance(fresh, Video) and fresh.url != video.url
    assert fresh.provider_id == ref
    assert await provider.refresh("5f0000000000000000000000", video) is None


async def test_catalogs_list_the_models_and_the_clothes_of_the_chosen_one(
    provider: AIStudiosProvider,
) -> None:
    avatars = await provider.catalog("avatar", {})
    assert [(c.value, c.label) for c in avatars] == [(MODEL, "Paige"), ("M000004017", "Jonathan")]
    assert avatars[0].image_url is not None and avatars[0].image_url.endswith(f"{MODEL}.png")
    assert avatars[0].description == "2 outfits" and avatars[1].description == "1 outfit"

    outfits = await provider.catalog("outfit", {"avatar": MODEL})
    assert [(c.value, c.label) for c in outfits] == [
        (CLOTH, "Navy suit"),
        (OTHER_CLOTH, "White blouse"),
    ]
    assert all(c.image_url for c in outfits)
    assert await provider.catalog("outfit", {}) == ()
    assert await provider.catalog("outfit", {"avatar": "M-unknown"}) == ()
    assert await provider.catalog("script", {}) == ()


async def test_webhook_url_is_sent_and_called_back_but_the_shared_endpoint_takes_none(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        await received.put(await request.read())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/aistudios/job-token", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    hook = f"http://{host}:{port}/hooks/aistudios/job-token"
    try:
        await provider.submit(a_request(), key=KEY, webhook_url=hook)
        assert sim.creates[0]["webhookUrl"] == hook
        bodies = [await asyncio.wait_for(received.get(), 5) for _ in range(2)]
    finally:
        await runner.cleanup()

    final = [payload for _, payload in sim.webhooks][-1]
    assert final["progress"] == 100 and final["download_url"] and "credit" in final
    for body in bodies:
        assert provider.webhook_ref({"content-type": "application/json"}, body) is None


# --- errors ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """How to make the simulator produce one error, and what the requester must read."""

    error: type[ProviderError]
    fragment: str
    on: str = "submit"  # or "poll": a project is made first, unless `ref` names one
    ref: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    sim: dict[str, Any] = field(default_factory=dict)
    provider: dict[str, Any] = field(default_factory=dict)
    inject: tuple[Endpoint, Fault, dict[str, Any]] | None = None


CASES: dict[str, Case] = {
    "wrong-user-key": Case(NeedsAdmin, "AISTUDIOS_USER_KEY", provider={"user_key": "uk-old"}),
    "wrong-app-id": Case(NeedsAdmin, "AISTUDIOS_APP_ID", provider={"app_id": "app-other"}),
    "plan-below-pro": Case(NeedsAdmin, "Pro or higher plan", sim={"api_plan": False}),
    "out-of-credits": Case(NeedsAdmin, "run out of credits", sim={"credits": 0}),
    "unknown-avatar": Case(BadInput, "does not offer this avatar", request={"model_id": "M0"}),
    "outfit-of-another-avatar": Case(
        BadInput, "outfit for the chosen avatar", request={"cloth_id": "BG00006160"}
    ),
    "script-too-long-for-ai-studios": Case(
        BadInput, "rejected the video request", sim={"max_script_chars": 10}
    ),
    "project-gone": Case(
        Failed, "no longer has this video project", on="poll", ref="5f0000000000000000000000"
    ),
    "render-fails": Case(
        Failed, "could not render this video", on="poll", sim={"failing_renders": 1}
    ),
    "token-refused-after-renewal": Case(
        NeedsAdmin, "even after renewing it", inject=("create", "code", {"code": 4010, "times": 2})
    ),
    "token-expired-after-renewal": Case(
        NeedsAdmin,
        "expired after renewing it",
        inject=("create", "code", {"code": 4011, "times": 2}),
    ),
    "forbidden": Case(NeedsAdmin, "may use the API", inject=("create", "code", {"code": 4030})),
    "not-found": Case(BadInput, "could not find", inject=("create", "code", {"code": 4040})),
    "validation": Case(BadInput, "check the script", inject=("create", "code", {"code": 4000})),
    "http-429": Case(
        RateLimited,
        "try again shortly",
        inject=("create", "code", {"code": 4290, "retry_after": 7}),
    ),
    "envelope-429-in-a-200": Case(
        RateLimited,
        "try again shortly",
        inject=("progress", "code", {"code": 4290, "status": 200}),
        on="poll",
    ),
    "envelope-internal-error": Case(
        Unavailable,
        "internal problem",
        inject=("progress", "code", {"code": 5000, "status": 200}),
        on="poll",
    ),
    "unknown-code": Case(
        Failed, "HTTP 418, code 4999", inject=("create", "code", {"code": 4999, "status": 418})
    ),
    "unknown-code-falls-back-on-the-status": Case(
        NeedsAdmin, "may use the API", inject=("create", "code", {"code": 0, "status": 403})
    ),
    "token-exchange-rate-limited": Case(
        RateLimited, "try again shortly", inject=("token", "code", {"code": 4290})
    ),
    "http-500-on-create": Case(
        Unavailable, "not answering right now", inject=("create", "http500", {})
    ),
    "malformed": Case(
        Unavailable, "could not read", inject=("progress", "malformed", {}), on="poll"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_every_documented_error_becomes_its_kind_and_sentence(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim = AIStudiosSimulator(APP_ID, USER_KEY, render_seconds=0.1)
    for name, value in case.sim.items():
        setattr(sim, name, value)
    await sim.start()
    studio = make(sim, **case.provider)
    try:
        ref = case.ref or ""
        if case.on == "poll" and case.ref is None:
            ref = (await studio.submit(a_request(), key=KEY)).ref
            await asyncio.sleep(0.15)  # past half way: a failing render has failed by then
        if case.inject is not None:
            endpoint, fault, options = case.inject
            sim.inject(endpoint, fault, **options)
        with pytest.raises(ProviderError) as raised:
            if case.on == "submit":
                await studio.submit(a_request(**case.request), key=KEY)
            else:
                await studio.poll(ref)
    finally:
        await studio.aclose()
        await sim.stop()

    error = raised.value
    assert type(error) is case.error, error.message
    assert case.fragment in error.message
    assert error.message.endswith(".") and ". " not in error.message
    if case.error is NeedsAdmin:
        assert "a workspace admin must" in error.message
    if isinstance(error, RateLimited):
        assert error.retry_after == (7 if case.inject and case.inject[2].get("retry_after") else 60)
    leaks = [USER_KEY, case.provider.get("user_key", USER_KEY), *sim.tokens]
    shown = "".join(traceback.format_exception(error)) + repr(error)
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert not any(secret in shown or secret in logged for secret in leaks)


async def test_a_create_refused_for_its_token_is_sent_once_more_and_makes_one_project(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    await provider.poll((await provider.submit(a_request(), key=KEY)).ref)
    sim.inject("create", "expire_token_now")

    await provider.submit(a_request(), key=KEY)

    assert sim.create_attempts == 3, "one create, then one refused and sent again"
    assert len(sim.creates) == 2
    assert sim.token_exchanges == 2 and sim.refused == 1


@pytest.mark.parametrize("fault", ["http500", "timeout"])
async def test_a_failed_token_exchange_means_the_create_was_never_sent(
    sim: AIStudiosSimulator, fault: Fault
) -> None:
    sim.inject("token", fault, times=3, delay=1.0)
    studio = make(sim, timeout=0.3)
    try:
        with pytest.raises(Unavailable) as raised:
            await studio.submit(a_request(), key=KEY)
    finally:
        await studio.aclose()
    assert raised.value.code == NOT_SENT
    assert sim.calls["token"] == 3, "the exchange is safe to repeat"
    assert sim.create_attempts == 0


async def test_a_poll_answering_500_twice_is_retried(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    ref = (await provider.submit(a_request(), key=KEY)).ref
    sim.inject("progress", "http500", times=2)
    assert (await provider.poll(ref)).state in (Progress.RUNNING, Progress.DONE)
    assert sim.calls["progress"] == 3


async def test_the_token_is_sent_raw_and_the_simulator_refuses_a_bearer_token(
    sim: AIStudiosSimulator, provider: AIStudiosProvider
) -> None:
    token = await provider.auth.token()
    async with httpx.AsyncClient(base_url=sim.base_url) as client:
        raw = await client.get("/api/odin/v3/model", headers={"Authorization": token})
        bearer = await client.get(
            "/api/odin/v3/model", headers={"Authorization": f"Bearer {token}"}
        )
    assert (raw.status_code, bearer.status_code) == (200, 401)


# --- the token, one process -----------------------------------------------------------------
def counting_exchange(delay: float = 0.05) -> tuple[list[str], Callable[[], Awaitable[str]]]:
    issued: list[str] = []

    async def exchange() -> str:
        await asyncio.sleep(delay)
        issued.append(f"token-{len(issued) + 1}")
        return issued[-1]

    return issued, exchange


async def test_many_callers_at_once_in_one_process_make_one_exchange() -> None:
    issued, exchange = counting_exchange()
    auth = TokenAuth(MemoryState(), "scope", exchange, life=60)

    tokens = await asyncio.gather(*(auth.token() for _ in range(50)))

    assert issued == ["token-1"] and set(tokens) == {"token-1"}


async def test_a_token_another_replica_stored_is_used_and_a_newer_one_survives_a_drop() -> None:
    shared = MemoryState()
    issued, exchange = counting_exchange()
    first = TokenAuth(shared, "scope", exchange, life=60)
    second = TokenAuth(shared, "scope", exchange, life=60)
    other_account = TokenAuth(shared, "another scope", exchange, life=60)

    assert await first.token() == await second.token() == "token-1"
    assert await other_account.token() == "token-2", "tokens are kept per account"
    # The second replica renewed meanwhile (say its call was refused): a late drop of the old
    # token by the first must not delete the new one.
    await second.drop("token-1")
    assert await second.token() == "token-3"
    await first.drop("token-1")
    assert await first.token() == "token-3"
    assert issued == ["token-1", "token-2", "token-3"]


async def test_a_lock_left_by_a_replica_that_died_is_taken_over_once_it_expires() -> None:
    shared = MemoryState()
    issued, exchange = counting_exchange()
    auth = TokenAuth(shared, "scope", exchange, life=60, lock_seconds=0.4)
    await shared.shared_put_new(auth.lock_key, "a replica that died", 0.4)
    started = time.monotonic()

    assert await auth.token() == "token-1"
    assert issued == ["token-1"]

    assert 0.35 <= time.monotonic() - started < 2
    assert await shared.shared_get(auth.lock_key) is None, "the lock is released"


async def test_waiting_too_long_for_another_replica_is_unavailable_and_nothing_was_sent() -> None:
    shared = MemoryState()
    issued, exchange = counting_exchange()
    auth = TokenAuth(shared, "scope", exchange, life=60, lock_seconds=30, wait_seconds=0.3)
    await shared.shared_put_new(auth.lock_key, "a replica that hangs", 30)

    with pytest.raises(Unavailable) as raised:
        await auth.token()

    assert raised.value.code == NOT_SENT and issued == []


async def test_a_refused_exchange_releases_the_lock_and_says_what_to_fix(
    sim: AIStudiosSimulator,
) -> None:
    shared = MemoryState()
    studio = make(sim, shared, user_key="uk-revoked")
    try:
        with pytest.raises(NeedsAdmin) as raised:
            await studio.catalog("avatar", {})
    finally:
        await studio.aclose()
    assert "AISTUDIOS_USER_KEY" in raised.value.message
    assert await shared.shared_get(studio.auth.lock_key) is None
    assert await shared.shared_get(studio.auth.key) is None


async def test_a_wrong_user_key_with_the_same_app_id_never_uses_another_accounts_token(
    sim: AIStudiosSimulator,
) -> None:
    """Every workspace's Provider shares one store: a workspace that saved the same app id
    with a key AI Studios refuses must be refused, not ride on the token the right key got."""
    shared = MemoryState()
    owner = make(sim, shared)
    other = make(sim, shared, user_key="uk-WRONG")
    try:
        assert await owner.catalog("avatar", {})
        with pytest.raises(NeedsAdmin) as raised:
            await other.catalog("avatar", {})
    finally:
        await owner.aclose()
        await other.aclose()
    assert "AISTUDIOS_USER_KEY" in raised.value.message
    assert other.auth.key != owner.auth.key


async def test_a_short_lived_token_is_renewed_before_ai_studios_would_refuse_it() -> None:
    sim = AIStudiosSimulator(APP_ID, USER_KEY, token_seconds=1.0, render_seconds=3600)
    await sim.start()
    studio = make(sim, token_seconds=1.0)
    try:
        ref = (await studio.submit(a_request(), key=KEY)).ref
        started = time.monotonic()
        while time.monotonic() - started < 2.6:
            assert (await studio.poll(ref)).state is Progress.RUNNING
            await asyncio.sleep(0.05)
    finally:
        await studio.aclose()
        await sim.stop()
    assert sim.refused == 0, "never sent an expired token"
    assert 3 <= sim.token_exchanges <= 5


async def test_renewal_comes_early_enough_for_a_slow_request_to_arrive_in_time() -> None:
    # A quarter of the life early: a request sent at 0.8 of the life that takes 0.4 s to be
    # looked at would carry a dead token had the old one been used until its very end.
    sim = AIStudiosSimulator(APP_ID, USER_KEY, token_seconds=1.0, render_seconds=3600)
    await sim.start()
    studio = make(sim, token_seconds=1.0)
    try:
        ref = (await studio.submit(a_request(), key=KEY)).ref
        await asyncio.sleep(max(0.0, sim.exchange_times[0] + 0.8 - time.monotonic()))
        sim.inject("progress", "timeout", delay=0.4)
        assert (await studio.poll(ref)).state is Progress.RUNNING
    finally:
        await studio.aclose()
        await sim.stop()
    assert (sim.token_exchanges, sim.refused) == (2, 0)


async def test_the_sqlite_store_keeps_the_token_for_one_replica(
    sim: AIStudiosSimulator, tmp_path: Path
) -> None:
    store = SqliteJobStore(str(tmp_path / "jobs.sqlite3"))
    studio = make(sim, store)
    again = make(sim, store)
    try:
        ref = (await studio.submit(a_request(), key=KEY)).ref
        await asyncio.gather(*(studio.poll(ref) for _ in range(10)))
        await again.poll(ref)  # a restart: another process over the same file
        stored = await store.shared_get(studio.auth.key)
    finally:
        await studio.aclose()
        await again.aclose()
        await store.close()
    assert sim.token_exchanges == 1
    assert stored is not None and USER_KEY not in stored


# --- the token, two replicas over one Redis -------------------------------------------------
@pytest.fixture
async def redis_stores(redis_url: str, redis_prefix: str) -> AsyncIterator[list[RedisJobStore]]:
    stores = [RedisJobStore.from_url(redis_url, redis_prefix) for _ in range(2)]
    yield stores
    for store in stores:
        await store.close()


async def test_two_replicas_make_one_exchange_per_token_life_however_many_polls(
    redis_stores: list[RedisJobStore],
) -> None:
    life, usable, seconds = 2.0, 1.5, 7.0  # the default margin: a quarter of the life
    sim = AIStudiosSimulator(APP_ID, USER_KEY, token_seconds=life, render_seconds=3600)
    await sim.start()
    replicas = [make(sim, store, token_seconds=life) for store in redis_stores]
    polls = 0
    try:
        ref = (await replicas[0].submit(a_request(), key=KEY)).ref
        started = time.monotonic()

        async def hammer(replica: AIStudiosProvider) -> None:
            nonlocal polls
            while time.monotonic() - started < seconds:
                answers = await asyncio.gather(*(replica.poll(ref) for _ in range(8)))
                assert all(a.state is Progress.RUNNING for a in answers)
                polls += len(answers)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(hammer(r) for r in replicas for _ in range(3)))
        elapsed = time.monotonic() - sim.exchange_times[0]
    finally:
        for replica in replicas:
            await replica.aclose()
        await sim.stop()

    assert polls > 300
    lives = math.ceil(elapsed / usable)
    assert 4 <= sim.token_exchanges <= lives + 1, (sim.token_exchanges, lives)
    gaps = [b - a for a, b in zip(sim.exchange_times, sim.exchange_times[1:], strict=False)]
    assert min(gaps) > 0.8 * usable, f"two exchanges for one expiry: {gaps}"


async def test_a_token_ai_studios_drops_early_is_renewed_once_for_both_replicas(
    redis_stores: list[RedisJobStore],
) -> None:
    sim = AIStudiosSimulator(APP_ID, USER_KEY, render_seconds=3600)
    await sim.start()
    replicas = [make(sim, store) for store in redis_stores]
    try:
        ref = (await replicas[0].submit(a_request(), key=KEY)).ref
        await replicas[1].poll(ref)
        assert sim.token_exchanges == 1, "the second replica uses the first one's token"
        sim.inject("progress", "expire_token_now")

        answers = await asyncio.gather(*(r.poll(ref) for r in replicas for _ in range(10)))
    finally:
        for replica in replicas:
            await replica.aclose()
        await sim.stop()

    assert all(a.state is Progress.RUNNING for a in answers)
    assert sim.token_exchanges == 2
    assert sim.refused >= 1
