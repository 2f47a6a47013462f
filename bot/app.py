"""Builds the Slack client and the Bolt AsyncApp and registers every listener: wiring only."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.listeners import actions, commands, views
from bot.service import Reelbot
from bot.settings import Settings


def build_slack_client(settings: Settings) -> AsyncWebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token,
        base_url=str(settings.slack_api_url),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def build_app(settings: Settings, client: AsyncWebClient, reelbot: Reelbot) -> AsyncApp:
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        # Always on: Bolt skips it for socket requests itself, and over HTTP it refuses every
        # unsigned request (in Socket Mode, with no secret, every HTTP post).
        request_verification_enabled=True,
        process_before_response=False,
    )
    for module in (commands, views, actions):
        module.register(app, reelbot)
    return app
