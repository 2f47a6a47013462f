"""The sandbox's workspaces and its OAuth desk: several workspaces (teams), each with its own
bot token once the app is installed there, and oauth.v2.access as Slack answers it.

A test installs the app in a workspace the way a person does: `authorize(team, user)` is the
person pressing Allow on Slack's consent page, which gives the code that Slack hands to the
app's redirect URL; the app then exchanges it at oauth.v2.access for that workspace's bot
token. `uninstall(team)` is the admin removing the app: its tokens stop working at once.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass, field

from bot.sandbox.validation import JSONDict, _ApiError

# Slack's codes are good for 10 minutes, once.
CODE_SECONDS = 600.0


@dataclass
class Workspace:
    team_id: str
    name: str
    domain: str
    tokens: set[str] = field(default_factory=set)


@dataclass
class _Grant:
    team_id: str
    user_id: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    issued: float
    used: bool = False


def _basic(authorization: str) -> tuple[str, str] | None:
    if not authorization.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


class OAuthDesk:
    """The app's OAuth credentials and the codes issued for it; tokens go to workspaces."""

    def __init__(self, workspaces: dict[str, Workspace], app_id: str, bot_user_id: str) -> None:
        self._workspaces = workspaces
        self._app_id = app_id
        self._bot_user_id = bot_user_id
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self._grants: dict[str, _Grant] = {}

    def team_of(self, token: str) -> str | None:
        for workspace in self._workspaces.values():
            if token in workspace.tokens:
                return workspace.team_id
        return None

    def authorize(
        self, team_id: str, user_id: str, scopes: tuple[str, ...], redirect_uri: str | None
    ) -> str:
        if team_id not in self._workspaces:
            raise ValueError(f"the sandbox has no workspace {team_id!r}")
        code = f"{int(time.time())}.{team_id[1:]}.{secrets.token_hex(16)}"
        self._grants[code] = _Grant(team_id, user_id, redirect_uri, scopes, time.monotonic())
        return code

    def exchange(self, params: JSONDict, authorization: str) -> JSONDict:
        """oauth.v2.access: client credentials by HTTP Basic auth or as parameters."""
        credentials = _basic(authorization) or (
            str(params.get("client_id") or ""),
            str(params.get("client_secret") or ""),
        )
        client_id, client_secret = credentials
        if self.client_id is None or client_id != self.client_id:
            raise _ApiError("invalid_client_id")
        if not secrets.compare_digest(client_secret, self.client_secret or ""):
            raise _ApiError("bad_client_secret")
        grant = self._grants.get(str(params.get("code") or ""))
        if grant is None or grant.used or time.monotonic() - grant.issued > CODE_SECONDS:
            raise _ApiError("invalid_code")
        if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
            raise _ApiError("bad_redirect_uri")
        grant.used = True
        workspace = self._workspaces[grant.team_id]
        token = f"xoxb-{workspace.team_id[1:]}-{secrets.token_hex(12)}"
        workspace.tokens.add(token)
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": ",".join(grant.scopes),
            "bot_user_id": self._bot_user_id,
            "app_id": self._app_id,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.user_id},
        }
