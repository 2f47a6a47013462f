"""HTTP: POST /slack/events (Bolt), with many workspaces GET /slack/install and
/slack/oauth_redirect (Bolt's OAuth flow), provider webhooks (a provider's registered endpoint
/webhooks/{provider} and each job's own /webhooks/{provider}/{job}/{token}), GET /healthz."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.errors import SlackApiError

from bot.downloads import DownloadRefused
from bot.metrics import CONTENT_TYPE
from bot.oauth.teams import for_team
from bot.settings import INSTALL_PATH, REDIRECT_PATH
from providers.base import MediaFile

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024
# Webhook calls handled at once; beyond that a provider is asked to retry (503). A webhook
# only makes a job due, so this bounds store round trips, never the work itself.
MAX_WEBHOOKS = 32


def build_web(runtime: Runtime) -> web.Application:
    async def slack_events(request: web.Request) -> web.Response:
        started = time.monotonic()
        bolt_request = await to_bolt_request(request)
        bolt_response = await runtime.app.async_dispatch(bolt_request)
        answer = await to_aiohttp_response(bolt_response)
        runtime.metrics.ack_seconds.observe(time.monotonic() - started)
        return answer

    async def install(request: web.Request) -> web.Response:
        flow = runtime.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def oauth_redirect(request: web.Request) -> web.Response:
        flow = runtime.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    async def metrics(_: web.Request) -> web.Response:
        body = await runtime.metrics.scrape()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    webhooks = asyncio.Semaphore(MAX_WEBHOOKS)

    async def provider_webhook(request: web.Request) -> web.Response:
        # Signatures are checked with the app's webhook secret, which workspaces share.
        provider = runtime.directory.any_for(request.match_info["provider"])
        if provider is None:
            raise web.HTTPNotFound()
        if webhooks.locked():
            return web.json_response({"ok": False}, status=503, headers={"Retry-After": "5"})
        async with webhooks:
            body = await request.read()
            ref = provider.webhook_ref(request.headers, body)
            if ref is not None:
                job_id = await runtime.store.find_by_ref(provider.name, ref)
                # Due now, or as soon as the turn that holds it ends.
                if job_id is not None and await runtime.hastener.hasten(job_id):
                    log.info("job %s: %s webhook, polling now", job_id, provider.name)
        # The same answer whether or not the call was about one of our jobs.
        return web.json_response({"ok": True})

    async def job_webhook(request: web.Request) -> web.Response:
        """A provider's per-job callback (the callback URL a create carried):
        unsigned, so it is trusted only as far as its token and never read for content."""
        if webhooks.locked():
            return web.json_response({"ok": False}, status=503, headers={"Retry-After": "5"})
        async with webhooks:
            job_id, token = request.match_info["job_id"], request.match_info["token"]
            job = await runtime.store.get(job_id) if len(job_id) <= 64 else None
            if (
                job is not None
                and job.provider == request.match_info["provider"]
                and hmac.compare_digest(job.webhook_token.encode(), token.encode())
                and await runtime.hastener.hasten(job_id)
            ):
                log.info("job %s: %s callback, polling now", job_id, job.provider)
        return web.json_response({"ok": True})

    async def media(request: web.Request) -> web.StreamResponse:
        """A video uploaded to Slack, at its signed link (bot/media_links.py), streamed."""
        links, info = runtime.media_links, request.match_info
        file_id, name = info["file_id"], info["name"]
        team = request.query.get("team")
        if links is None or not links.valid(
            file_id, info["expires"], info["signature"], name, team
        ):
            raise web.HTTPGone(text="This link has expired or is not valid.")
        # Read with the bot token of the workspace the link was made for (many workspaces).
        with for_team(team):
            return await _stream(request, file_id, name)

    async def _stream(request: web.Request, file_id: str, name: str) -> web.StreamResponse:
        answer = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        try:
            chunks = runtime.slack_files.read(MediaFile(name=name, size=1, ref=file_id))
            first = await anext(chunks, b"")
        except (DownloadRefused, SlackApiError) as exc:
            log.info("media link for %s not served (%s)", file_id, type(exc).__name__)
            raise web.HTTPNotFound(text="This file is no longer available.") from None
        await answer.prepare(request)
        await answer.write(first)
        async for chunk in chunks:
            await answer.write(chunk)
        await answer.write_eof()
        return answer

    async def probe(_: web.Request) -> web.Response:
        # Some providers check an endpoint with OPTIONS (in 1 s) before they register it.
        return web.Response(status=200, headers={"Allow": "OPTIONS, POST"})

    async def healthz(_: web.Request) -> web.Response:
        store_ok = await runtime.store_ok()
        socket = await runtime.socket_health()
        last = runtime.poller.last_tick_at
        tick_age = None if last is None else round(time.time() - last, 1)
        # The scheduler ticks every POLL_TICK_SECONDS (and at each wake): ten missed ticks,
        # or a minute, is a poller that stopped working.
        stalled_after = max(60.0, 10 * runtime.settings.poll_tick_seconds)
        ticking = tick_age is not None and tick_age <= stalled_after
        poller_ok = runtime.poller.running and ticking
        poller = ("running" if ticking else "stalled") if runtime.poller.running else "stopped"
        body = {
            "ok": store_ok and poller_ok and (socket is None or socket[0]),
            "store": runtime.store_kind if store_ok else f"{runtime.store_kind} unreachable",
            "poller": poller,
            "last_tick_seconds_ago": tick_age,
            "mode": "socket" if runtime.settings.socket_mode else "http",
            "socket": None if socket is None else ("alive" if socket[0] else "stale"),
            "socket_last_pong_seconds_ago": None
            if socket is None or socket[1] is None
            else round(socket[1], 1),
            "providers": sorted(runtime.providers),
        }
        return web.json_response(body, status=200 if body["ok"] else 503)

    application = web.Application(client_max_size=MAX_BODY)
    if not runtime.settings.socket_mode:
        # In Socket Mode Slack's requests come over the socket; nothing may arrive by HTTP.
        application.router.add_post("/slack/events", slack_events)
    if runtime.app.oauth_flow is not None:
        application.router.add_get(INSTALL_PATH, install)
        application.router.add_get(REDIRECT_PATH, oauth_redirect)
    application.router.add_post("/webhooks/{provider}", provider_webhook)
    application.router.add_route("OPTIONS", "/webhooks/{provider}", probe)
    application.router.add_post("/webhooks/{provider}/{job_id}/{token}", job_webhook)
    application.router.add_route("OPTIONS", "/webhooks/{provider}/{job_id}/{token}", probe)
    application.router.add_get("/healthz", healthz)
    application.router.add_get("/metrics", metrics)
    application.router.add_get("/media/{file_id}/{expires}/{signature}/{name}", media)
    return application
