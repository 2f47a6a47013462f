"""What a person does in an open modal, as Slack sends it: picks in selects (block_actions),
options requests of external selects (block_suggestion) and submissions (view_submission)."""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping
from typing import Any

import httpx

# The legacy verification token Slack still puts in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "sandbox-verification-token"  # noqa: S105 - made up, checked by nobody


class ModalRequests(abc.ABC):
    """Mixed into SlackRequests, which signs and sends the payloads."""

    api_app_id: str

    @abc.abstractmethod
    async def _interaction(self, payload: Mapping[str, Any]) -> httpx.Response:
        """Sign and send one interaction payload."""

    @abc.abstractmethod
    def _trigger(self, user_id: str) -> str:
        """A fresh trigger_id the sandbox knows."""

    @abc.abstractmethod
    def _action_ts(self) -> str: ...

    @abc.abstractmethod
    def _team(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def _user(self, user_id: str) -> dict[str, str]: ...

    async def view_select(
        self,
        view: Mapping[str, Any],
        block_id: str,
        action_id: str,
        value: str,
        *,
        user_id: str = "U0ALICE",
        label: str | None = None,
        element_type: str = "static_select",
        values: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """A choice in a select with `dispatch_action` inside an open modal (block_actions).

        `values` is the rest of the modal's state, in Slack's shape; `label` the option's text.
        """
        submitted = json.loads(json.dumps(dict(view)))
        selected = {"text": {"type": "plain_text", "text": label or value}, "value": value}
        state = json.loads(json.dumps(dict(values or {})))
        state[block_id] = {action_id: {"type": element_type, "selected_option": selected}}
        submitted["state"] = {"values": state}
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": submitted.get("id")},
            "trigger_id": self._trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": submitted,
            "actions": [
                {
                    "type": element_type,
                    "action_id": action_id,
                    "block_id": block_id,
                    "selected_option": selected,
                    "action_ts": self._action_ts(),
                }
            ],
        }
        return await self._interaction(payload)

    async def options_request(
        self,
        view: Mapping[str, Any],
        action_id: str,
        query: str = "",
        *,
        block_id: str | None = None,
        values: Mapping[str, Any] | None = None,
        user_id: str = "U0ALICE",
    ) -> httpx.Response:
        """An external select asking for its options as the person types `query`
        (block_suggestion); `values` is the modal's state so far, in Slack's shape."""
        shown = json.loads(json.dumps(dict(view)))
        shown["state"] = {"values": json.loads(json.dumps(dict(values or {})))}
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "user": self._user(user_id),
            "container": {"type": "view", "view_id": shown.get("id")},
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "action_id": action_id,
            "block_id": block_id or action_id,
            "value": query,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": shown,
        }
        return await self._interaction(payload)

    async def view_submission(
        self,
        view: Mapping[str, Any],
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str = "U0ALICE",
    ) -> httpx.Response:
        """Submit `view` (as views.open returned it) with the inputs in Slack's state shape."""
        return await self._interaction(self.view_submission_payload(view, values, user_id=user_id))

    def view_submission_payload(
        self,
        view: Mapping[str, Any],
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        user_id: str = "U0ALICE",
    ) -> dict[str, Any]:
        """The interaction payload `view_submission` sends (a Socket Mode envelope's payload)."""
        submitted = json.loads(json.dumps(dict(view)))
        submitted["state"] = {"values": values}
        return {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self._trigger(user_id),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
