"""Builds every part from Settings and runs them on one event loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import build_app, build_slack_client
from bot.catalogs import Catalogs
from bot.creates import Timing
from bot.directory import ProviderDirectory
from bot.downloads import Downloader, DownloadPolicy
from bot.hasten import Hastener
from bot.home_tab import HomeTab
from bot.jobs import Job
from bot.media_links import MediaLinks
from bot.metrics import Metrics
from bot.notify import Notifier
from bot.oauth.stores import OAuthStores, open_oauth_stores
from bot.oauth.teams import TeamTokens
from bot.poller import Poller
from bot.registry import build_providers
from bot.runner import JobRunner
from bot.service import Reelbot
from bot.settings import Settings
from bot.slack_files import SlackFiles
from bot.store import JobStore, open_store
from bot.store.spend import Budget
from bot.uploads import Uploader
from bot.vault import Vault
from bot.web import build_web
from bot.workspace_keys import WorkspaceKeys
from providers.base import JobKind, Output, Provider

log = logging.getLogger(__name__)
# How long SIGTERM waits for the job turns in flight (docker-compose allows longer).
STOP_GRACE_SECONDS = 30.0


def _downloader(settings: Settings, max_mb: float) -> Downloader:
    """Downloads are safe: configured base URLs (the providers', Slack's) may be plain http or
    private (simulators run on loopback); nothing else may. The bot token goes to Slack's
    file host only."""
    trusted = [str(settings.slack_api_url)]
    for plugin in settings.plugins:
        base = getattr(settings.group(plugin.name), "base_url", None)
        if base is not None:
            trusted.append(str(base))
    slack_host = urlsplit(str(settings.slack_api_url)).hostname or "slack.com"
    policy = DownloadPolicy.build(
        int(max_mb * 1_000_000),
        trusted_urls=trusted,
        token_hosts=["files.slack.com", slack_host],
    )
    return Downloader(policy)


def _link_secret(settings: Settings) -> str:
    """What signed media links are keyed with: the app's own secrets, never sent anywhere."""
    values = (
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_bot_token,
        settings.slack_client_secret,
    )
    return "".join(v.get_secret_value() for v in values if v is not None)


class StartupError(Exception):
    """The bot could not start; the message names what to check."""


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        store: JobStore | None = None,
        providers: dict[str, Provider] | None = None,
        clock: Callable[[], float] = time.time,
        socket_connect_seconds: float = 30.0,
    ) -> None:
        self.settings = settings
        self._socket_connect_seconds = socket_connect_seconds
        self.clock = clock
        self.store_kind = "redis" if settings.redis_url else "sqlite"
        self.store = store or open_store(
            redis_url=settings.redis_url,
            sqlite_path=settings.reelbot_db,
            prefix=settings.key_prefix,
        )
        self.providers = build_providers(settings, self.store) if providers is None else providers
        secret_key = settings.reelbot_secret_key
        vault = Vault(secret_key.get_secret_value()) if secret_key is not None else None
        self.directory = ProviderDirectory(
            self.providers,
            settings=settings,
            shared=self.store,
            keys=WorkspaceKeys(self.store, vault, settings.plugins),
        )
        # Many workspaces: installations and OAuth states beside the jobs (same Redis or file),
        # and clients that sign each call with the bot token of the workspace in hand.
        self.oauth: OAuthStores | None = None
        self.team_tokens: TeamTokens | None = None
        if settings.oauth:
            assert settings.slack_client_id is not None
            self.oauth = open_oauth_stores(
                client_id=settings.slack_client_id,
                redis_url=settings.redis_url,
                sqlite_path=settings.reelbot_db,
                prefix=settings.key_prefix,
            )
            self.team_tokens = TeamTokens(self.oauth.installations)
        labels = {p.name: p.label for p in settings.plugins}
        labels |= {p.name: p.label for p in self.providers.values()}
        self.metrics = Metrics(
            [p.name for p in settings.plugins] + list(self.providers),
            queue_depth=self.store.queue_depth,
        )
        retried = self.metrics.slack_retry
        self.client = build_slack_client(settings, tokens=self.team_tokens, on_retry=retried)
        self.poster = build_slack_client(
            settings, posting=True, tokens=self.team_tokens, on_retry=retried
        )
        self.budget = Budget(settings.budget_monthly_cents, settings.budget_monthly_cents_per_user)
        # Description files are always uploaded; RESULTS_AS_FILES adds clips and videos.
        self.uploader = Uploader(
            self.poster,
            _downloader(settings, settings.slack_upload_max_mb),
            refresh=self._fresh_output,
            clock=clock,
        )
        token = (
            self.team_tokens.current
            if self.team_tokens is not None
            else settings.slack_bot_token.get_secret_value()
            if settings.slack_bot_token
            else ""
        )
        self.slack_files = SlackFiles(
            self.client, _downloader(settings, settings.slack_file_max_mb), token
        )
        self.notifier = Notifier(
            self.client,
            self.store,
            labels,
            self.poster,
            posts_per_second=settings.slack_channel_posts_per_second,
            clock=clock,
            uploader=self.uploader,
            every_result=settings.results_as_files,
        )
        timing = Timing(
            poll_min=settings.poll_min_seconds,
            poll_max=max(settings.poll_min_seconds, settings.poll_max_seconds),
            job_timeout=settings.job_timeout_hours * 3600,
            lease=settings.job_lease_seconds,
        )
        webhook_base = str(settings.public_url) if settings.public_url else None
        self.media_links = (
            MediaLinks(
                webhook_base,
                _link_secret(settings),
                settings.slack_file_link_minutes * 60,
                clock,
                per_team=settings.oauth,
            )
            if webhook_base
            else None
        )
        self.runner = JobRunner(
            self.store,
            self.directory,
            self.notifier,
            timing=timing,
            webhook_base=webhook_base,
            files=self.slack_files,
            budget=self.budget,
            media_links=self.media_links,
            metrics=self.metrics,
            clock=clock,
        )
        self.poller = Poller(
            self.store,
            self.runner,
            providers=[p.name for p in settings.plugins] + list(self.providers),
            tick_seconds=settings.poll_tick_seconds,
            concurrency=settings.poll_concurrency,
            per_provider=settings.poll_per_provider,
            lease_seconds=timing.lease,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            retention_seconds=settings.job_retention_days * 86400,
            metrics=self.metrics,
            clock=clock,
        )
        self.hastener = Hastener(self.store, self.poller.wake, clock)
        self.reelbot = Reelbot(
            self.store,
            self.directory,
            self.notifier,
            self.poller,
            catalogs=Catalogs(
                self.store, settings.catalog_cache_minutes * 60, scope=self.directory.scope
            ),
            plugins=settings.plugins,
            defaults={kind: settings.default_provider(kind) for kind in JobKind},
            confirm_expiry_seconds=settings.confirm_expiry_minutes * 60,
            budget=self.budget,
            media_links=self.media_links,
            metrics=self.metrics,
            results_as_files=settings.results_as_files,
            clock=clock,
        )
        # App Home: published when opened, and when a job's turn ends in another state.
        self.home = HomeTab(self.client, self.reelbot, clock=clock)
        self.runner.on_turn_end = self.home.job_turned
        self.app = build_app(
            settings,
            self.client,
            self.reelbot,
            self.home,
            oauth=self.oauth,
            tokens=self.team_tokens,
        )
        self.web = build_web(self)
        self._http: aiohttp.ClientSession | None = None
        self._site_runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._socket_since = 0.0
        self.port: int | None = None

    async def _fresh_output(self, job: Job, index: int) -> Output | None:
        provider = (await self.directory.for_team(job.team_id)).get(job.provider)
        if provider is None or job.provider_ref is None:
            return None
        return await provider.refresh(job.provider_ref, job.outputs[index])

    async def store_ok(self) -> bool:
        try:
            return await self.store.ping()
        except Exception:
            return False

    async def start(self, host: str = "0.0.0.0", port: int | None = None) -> int:  # noqa: S104
        """Serve HTTP, start the poller and, with an app token, Socket Mode. Returns the port."""
        if not await self.store_ok():
            if self.store_kind == "sqlite":
                raise StartupError(
                    f"REELBOT_DB is unusable: cannot open {self.settings.reelbot_db!r} "
                    "(check that its folder exists and is writable)"
                )
            # Redis may just be starting (compose, restarts): serve, and let /healthz say 503.
            log.warning("Redis is not answering yet; /healthz reports 503 until it does")
        # One aiohttp session for every Slack call (both clients), instead of one per call.
        self._http = aiohttp.ClientSession()
        self.client.session = self._http
        self.poster.session = self._http
        runner = web.AppRunner(self.web, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, self.settings.port if port is None else port)
        await site.start()
        self._site_runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1]) if sockets else self.settings.port
        self.metrics.watch_providers()
        self.poller.start()
        if self.settings.slack_app_token is not None:
            try:
                await self._connect_socket(self.settings.slack_app_token.get_secret_value())
            except StartupError:
                await self.stop()
                raise
        log.info(
            "reelbot listening on port %s (%s mode, %s store, providers: %s)",
            self.port,
            "socket" if self._socket else "http",
            self.store_kind,
            ", ".join(sorted(self.providers)) or "none",
        )
        return self.port

    async def _connect_socket(self, app_token: str) -> None:
        # connect_async retries forever on a refused token, so the wait is bounded here.
        self._socket = AsyncSocketModeHandler(
            self.app, app_token, ping_interval=self.settings.socket_ping_seconds
        )
        try:
            async with asyncio.timeout(self._socket_connect_seconds):
                await self._socket.connect_async()  # type: ignore[no-untyped-call]
                # The socket client offers no event to await for the first connection.
                while not await self._socket.client.is_connected():  # noqa: ASYNC110
                    await asyncio.sleep(0.1)
            self._socket_since = time.time()
        except TimeoutError:
            raise StartupError(
                f"Socket Mode did not connect within {self._socket_connect_seconds:g} s: "
                "check SLACK_APP_TOKEN (an app-level token with connections:write) and that "
                "Socket Mode is enabled for the app"
            ) from None

    async def socket_health(self) -> tuple[bool, float | None] | None:
        """None in HTTP mode; else whether the socket is alive and how long ago a ping of ours
        was last answered. Alive means answered within four pings (slack_sdk's own stale
        rule), or, before the first answer, connected within the first two ping intervals:
        `is_connected()` alone stays true on a socket that no longer answers."""
        if self._socket is None:
            return None
        client = self._socket.client
        last = getattr(client, "last_ping_pong_time", None)
        interval = float(client.ping_interval)
        if last is None:
            young = time.time() - self._socket_since < 2 * interval
            return young and bool(await client.is_connected()), None
        age = max(0.0, time.time() - float(last))
        return age < 4 * interval and bool(await client.is_connected()), age

    async def stop(self) -> None:
        await self.hastener.aclose()
        await self.poller.stop()
        await self.home.aclose()
        self.metrics.unwatch_providers()
        # After the poller: a turn still in its grace period may be uploading.
        await self.uploader.aclose()
        await self.slack_files.aclose()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._site_runner is not None:
            await self._site_runner.cleanup()
        await self.directory.aclose()
        for provider in self.providers.values():
            await provider.aclose()
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self.oauth is not None:
            await self.oauth.close()
        await self.store.close()
