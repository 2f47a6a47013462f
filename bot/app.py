"""Builds the Slack client and the Bolt AsyncApp and registers every listener: wiring only."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.home_tab import HomeTab
from bot.listeners import (
    actions,
    commands,
    forms,
    home,
    presets,
    provider_keys,
    reel,
    shortcuts,
    views,
)
from bot.service import Reelbot
from bot.settings import Settings


def build_slack_client(settings: Settings, *, posting: bool = False) -> AsyncWebClient:
    """The Web API client. With `posting`, it retries only 429s (Slack did nothing then):
    a message whose post answered 5xx or dropped is reconciled by reading the thread back,
    never by resending it blindly (bot/notify.py)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers: list[AsyncRetryHandler] = [AsyncRateLimitErrorRetryHandler(max_retry_count=5)]
    if not posting:
        handlers += [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
    return AsyncWebClient(
        token=token, base_url=str(settings.slack_api_url), retry_handlers=handlers
    )


class _DropTokenSkippedWarning(logging.Filter):
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that our client
    # wins; our client is deliberate (it carries the retry handlers), so the warning is noise.
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_DROP_TOKEN_SKIPPED = _DropTokenSkippedWarning()


def build_app(
    settings: Settings, client: AsyncWebClient, reelbot: Reelbot, home_tab: HomeTab | None = None
) -> AsyncApp:
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_DROP_TOKEN_SKIPPED)
    app = AsyncApp(
        client=client,
        signing_secret=secret,
        # Always on: Bolt skips it for socket requests itself, and over HTTP it refuses every
        # unsigned request (in Socket Mode, with no secret, every HTTP post).
        request_verification_enabled=True,
        process_before_response=False,
    )
    for module in (commands, forms, views, shortcuts, actions, reel, presets, provider_keys):
        module.register(app, reelbot)
    home.register(app, home_tab or HomeTab(client, reelbot))
    return app
