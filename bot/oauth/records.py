"""What both installation stores share: how installations and bots are keyed and written,
and which stored installation answers a lookup (the semantics of slack_sdk's SQLite3 store).

A workspace is keyed by (enterprise id, team id), each "" when absent; an org-wide install
(is_enterprise_install) is keyed with team "". Each store keeps the latest installation per
installer (user id, "" when none) and the latest bot per workspace.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterable, Sequence

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation

# How long an OAuth state is good for (Bolt's default): the installer's round trip to Slack.
STATE_SECONDS = 600.0


class TeamInstallationStore(AsyncInstallationStore, abc.ABC):
    """An installation store that also finds a workspace's bot by its team id alone, as a
    job knows its workspace (a workspace of an Enterprise Grid org is saved under the org)."""

    @abc.abstractmethod
    async def async_find_bot_for_team(self, team_id: str) -> Bot | None: ...


def workspace(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
) -> tuple[str, str]:
    """The key a lookup goes by."""
    return enterprise_id or "", "" if is_enterprise_install else team_id or ""


def installation_key(installation: Installation) -> tuple[str, str, str]:
    """(enterprise, team, user) an installation is saved under."""
    return installation.enterprise_id or "", installation.team_id or "", installation.user_id or ""


def bot_key(bot: Bot) -> tuple[str, str]:
    return bot.enterprise_id or "", bot.team_id or ""


def dump_installation(installation: Installation) -> str:
    return json.dumps(vars(installation))


def load_installation(data: str | bytes) -> Installation:
    return Installation(**json.loads(data))


def dump_bot(bot: Bot) -> str:
    return json.dumps(vars(bot))


def load_bot(data: str | bytes) -> Bot:
    return Bot(**json.loads(data))


def latest(installations: Iterable[Installation]) -> Installation | None:
    return max(installations, key=lambda i: i.installed_at, default=None)


def chosen(stored: Sequence[Installation], user_id: str | None) -> Installation | None:
    """The installation a lookup answers: the user's, or the workspace's latest (`answer`)."""
    if user_id is None:
        found = latest(stored)
    else:
        found = next((i for i in stored if i.user_id == user_id), None)
    return answer(found, user_id, stored)


def answer(
    found: Installation | None, user_id: str | None, others: Iterable[Installation]
) -> Installation | None:
    """A user's installation, or one without a bot token, carries the workspace's latest bot
    token (the newest of `others` that has one), as slack_sdk's stores do (bolt-python#664)."""
    if found is None or (user_id is None and found.bot_token is not None):
        return found
    newest = latest(i for i in others if i.bot_token is not None)
    if newest is not None:
        found.bot_token = newest.bot_token
        found.bot_id = newest.bot_id
        found.bot_user_id = newest.bot_user_id
        found.bot_scopes = newest.bot_scopes
        found.bot_refresh_token = newest.bot_refresh_token
        found.bot_token_expires_at = newest.bot_token_expires_at
    return found
