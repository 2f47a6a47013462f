"""Builds the Slack client and the Bolt AsyncApp and registers every listener: wiring only."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
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
from bot.oauth import uninstall
from bot.oauth.pages import CALLBACK_OPTIONS
from bot.oauth.stores import OAuthStores
from bot.oauth.teams import TeamTokens, TeamWebClient, bind_team
from bot.service import Reelbot
from bot.settings import INSTALL_PATH, REDIRECT_PATH, Settings
from bot.slack_retries import OnRetry, retry_handlers

# What a person from a workspace with no installation (uninstalled) reads.
NOT_INSTALLED_MESSAGE = (
    "Reelbot is not installed in this workspace any more. A workspace admin can add it "
    "again from the app's install page."
)


def build_slack_client(
    settings: Settings,
    *,
    posting: bool = False,
    tokens: TeamTokens | None = None,
    on_retry: OnRetry | None = None,
) -> AsyncWebClient:
    """The Web API client, with slack_sdk's retry handlers (bot/slack_retries.py: with
    `posting`, 429s only). With `tokens` (many workspaces), each call carries the bot token
    of the workspace in hand (bot/oauth/teams.py)."""
    handlers = retry_handlers(posting=posting, on_retry=on_retry)
    if tokens is not None:
        return TeamWebClient(tokens, base_url=str(settings.slack_api_url), retry_handlers=handlers)
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token, base_url=str(settings.slack_api_url), retry_handlers=handlers
    )


def _oauth_settings(settings: Settings, stores: OAuthStores) -> AsyncOAuthSettings:
    assert settings.slack_client_id is not None and settings.slack_client_secret is not None
    return AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=settings.scopes,
        installation_store=stores.installations,
        installation_store_bot_only=True,
        state_store=stores.states,
        redirect_uri=settings.redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=CALLBACK_OPTIONS,
    )


class _DropTokenSkippedWarning(logging.Filter):
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that our client
    # wins; our client is deliberate (it carries the retry handlers), so the warning is noise.
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_DROP_TOKEN_SKIPPED = _DropTokenSkippedWarning()


def build_app(
    settings: Settings,
    client: AsyncWebClient,
    reelbot: Reelbot,
    home_tab: HomeTab | None = None,
    *,
    oauth: OAuthStores | None = None,
    tokens: TeamTokens | None = None,
) -> AsyncApp:
    """With `oauth` (and the `tokens` the clients use), many workspaces: Bolt's OAuth flow
    and the installation store authorize each request, and uninstalls are handled."""
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
        oauth_settings=None if oauth is None else _oauth_settings(settings, oauth),
        installation_store_bot_only=True if oauth is not None else None,
        user_facing_authorize_error_message=NOT_INSTALLED_MESSAGE if oauth is not None else None,
    )
    if oauth is not None and tokens is not None:
        app.use(bind_team)
        uninstall.register(app, oauth.installations, tokens, reelbot)
    for module in (commands, forms, views, shortcuts, actions, reel, presets, provider_keys):
        module.register(app, reelbot)
    home.register(app, home_tab or HomeTab(client, reelbot))
    return app
