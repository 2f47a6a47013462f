"""Requests to the bot's /slack/events, built and signed the way Slack builds and signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.sandbox.modal_requests import VERIFICATION_TOKEN, ModalRequests
from bot.sandbox.server import Message, SlackSandbox

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


class SlackRequests(ModalRequests):
    """Sends what Slack sends: slash commands, interactions and events, signed."""

    def __init__(
        self,
        events_url: str,
        signing_secret: str,
        sandbox: SlackSandbox,
        *,
        team_id: str | None = None,
        api_app_id: str = "A0REELBOT",
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.events_url = events_url
        self.signing_secret = signing_secret
        self.sandbox = sandbox
        self.team_id = team_id or sandbox.team_id
        self.api_app_id = api_app_id
        self.trigger_ids: list[str] = []
        self._own_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=10.0)
        self._serial = 0

    @property
    def last_trigger_id(self) -> str | None:
        return self.trigger_ids[-1] if self.trigger_ids else None

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def __aenter__(self) -> SlackRequests:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- what a person does in Slack -----------------------------------------------------

    async def slash_command(
        self,
        command: str = "/clip",
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        user_name: str = "alice",
        channel_id: str = "C0GENERAL",
        channel_name: str = "general",
    ) -> httpx.Response:
        fields = self.slash_command_fields(
            command,
            text,
            user_id=user_id,
            user_name=user_name,
            channel_id=channel_id,
            channel_name=channel_name,
        )
        return await self.post(urlencode(fields).encode(), FORM)

    def slash_command_fields(
        self,
        command: str = "/clip",
        text: str = "",
        *,
        user_id: str = "U0ALICE",
        user_name: str = "alice",
        channel_id: str = "C0GENERAL",
        channel_name: str = "general",
    ) -> dict[str, str]:
        """A slash command's fields, with a fresh trigger_id and response_url from the sandbox.

        Over HTTP they are form-encoded; in Socket Mode they are an envelope's payload as is.
        """
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.sandbox.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.sandbox.response_url(channel_id, user_id),
            "trigger_id": self._trigger(user_id),
        }

    async def block_action(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        message_ts: str,
        block_id: str | None = None,
    ) -> httpx.Response:
        """A click on a button in the bot's message `message_ts`.

        The button's block_id and label are taken from that message when the sandbox has it.
        """
        message = _message_or_none(self.sandbox, channel_id, message_ts)
        found_block, label = _find_button(message.blocks if message else [], action_id)
        now = self._action_ts()
        message_json: dict[str, Any] = {
            "type": "message",
            "user": self.sandbox.bot_user_id,
            "bot_id": self.sandbox.bot_id,
            "app_id": self.sandbox.app_id,
            "team": self.team_id,
            "ts": message_ts,
            "text": message.text if message else "",
            "blocks": message.blocks if message else [],
        }
        if message is not None and message.thread_ts:
            message_json["thread_ts"] = message.thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": self._trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": self._channel(channel_id),
            "message": message_json,
            "state": {"values": {}},
            "response_url": self.sandbox.response_url(channel_id, user_id, message_ts=message_ts),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id or found_block or "sandbox-block",
                    "text": {"type": "plain_text", "text": label or value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": now,
                }
            ],
        }
        return await self._interaction(payload)

    async def home_action(
        self, action_id: str, value: str, *, user_id: str = "U0ALICE"
    ) -> httpx.Response:
        """A click on a button in the person's App Home, as Slack sends it: the container is
        the published view (no channel, no message). The button's block_id and label are
        taken from that view when the sandbox has it."""
        home = self.sandbox.home_views.get(user_id)
        found_block, label = _find_button(home["blocks"] if home else [], action_id)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": home["id"] if home else "V0NONE"},
            "trigger_id": self._trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": home or {"type": "home", "blocks": []},
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": found_block or "sandbox-block",
                    "text": {"type": "plain_text", "text": label or value, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": self._action_ts(),
                }
            ],
        }
        return await self._interaction(payload)

    async def message_shortcut(
        self,
        callback_id: str,
        *,
        user_id: str = "U0ALICE",
        channel_id: str = "C0GENERAL",
        message_ts: str,
        text: str,
        thread_ts: str | None = None,
        author: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> httpx.Response:
        """The message menu action `callback_id` on a message (by `author`, default the user),
        with the files the message carries."""
        message: dict[str, Any] = {
            "type": "message",
            "user": author or user_id,
            "ts": message_ts,
            "text": text,
            "team": self.team_id,
        }
        if files:
            message["files"] = files
            message["upload"] = True
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        payload: dict[str, Any] = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": self._action_ts(),
            "team": self._team(),
            "user": self._user(user_id),
            "channel": self._channel(channel_id),
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": self._trigger(user_id),
            "response_url": self.sandbox.response_url(channel_id, user_id),
            "message_ts": message_ts,
            "message": message,
        }
        return await self._interaction(payload)

    async def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """An Events API delivery; give the same `event_id` and a `retry_num` to redeliver."""
        self._serial += 1
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev0SANDBOX{self._serial:06d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.sandbox.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return await self.post(json.dumps(envelope).encode(), JSON, headers=headers)

    async def app_home_opened(self, user_id: str = "U0ALICE") -> httpx.Response:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.sandbox.dm_channel(user_id),
            "tab": "home",
            "event_ts": self._action_ts(),
        }
        home = self.sandbox.home_views.get(user_id)
        if home is not None:
            event["view"] = home
        return await self.event(event)

    # -- the wire ------------------------------------------------------------------------

    async def post(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST `body` signed now, or with the given (possibly stale or forged) values."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": (
                sign(self.signing_secret, stamp, body) if signature is None else signature
            ),
            **(headers or {}),
        }
        return await self._http.post(self.events_url, content=body, headers=sent)

    async def _interaction(self, payload: Mapping[str, Any]) -> httpx.Response:
        return await self.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)

    def _trigger(self, user_id: str) -> str:
        trigger = self.sandbox.issue_trigger_id(user_id)
        self.trigger_ids.append(trigger)
        return trigger

    def _action_ts(self) -> str:
        return f"{time.time():.6f}"

    def _team(self) -> dict[str, str]:
        return {"id": self.team_id, "domain": self.sandbox.team_domain}

    def _user(self, user_id: str) -> dict[str, str]:
        known = self.sandbox.users.get(user_id)
        name = known.name if known else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _channel(self, channel_id: str) -> dict[str, str]:
        known = self.sandbox.channels.get(channel_id)
        name = known.name if known else channel_id
        if known is not None and known.user is not None:
            name = "directmessage"
        return {"id": channel_id, "name": name}


def _message_or_none(sandbox: SlackSandbox, channel: str, ts: str) -> Message | None:
    try:
        return sandbox.message(channel, ts)
    except KeyError:
        return None


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[str | None, str | None]:
    """The block_id and label of the element `action_id` in these blocks, if it is there."""
    for block in blocks:
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                text = element.get("text")
                label = text.get("text") if isinstance(text, dict) else None
                return block.get("block_id"), label
    return None, None
