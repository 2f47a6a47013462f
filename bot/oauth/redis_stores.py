"""Installations and OAuth states in Redis (Bolt ships no Redis store), for any number of
replicas. Keys, all under the configured prefix:

    oauth:{client_id}:bot:{enterprise}:{team}          string: the workspace's latest Bot
    oauth:{client_id}:installers:{enterprise}:{team}   hash: user id ("" for none) -> that
                                                       installer's latest Installation
    oauth:{client_id}:team:{team}                      string: the enterprise id ("" for
                                                       none) the team's bot is saved under
    oauth:state:{state}                                string, expiring: an issued state
"""

from __future__ import annotations

import logging
import secrets

import redis.asyncio
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.oauth import records

log = logging.getLogger(__name__)


class RedisInstallationStore(records.TeamInstallationStore):
    def __init__(self, client: redis.asyncio.Redis, prefix: str, client_id: str) -> None:
        self._redis = client
        self._base = f"{prefix}oauth:{client_id}:"

    @property
    def logger(self) -> logging.Logger:
        return log

    def _bot(self, enterprise: str, team: str) -> str:
        return f"{self._base}bot:{enterprise}:{team}"

    def _installers(self, enterprise: str, team: str) -> str:
        return f"{self._base}installers:{enterprise}:{team}"

    def _team(self, team: str) -> str:
        return f"{self._base}team:{team}"

    async def async_save(self, installation: Installation) -> None:
        enterprise, team, user = records.installation_key(installation)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._installers(enterprise, team), user, records.dump_installation(installation)
            )
            if installation.bot_token is not None:
                pipe.set(self._bot(enterprise, team), records.dump_bot(installation.to_bot()))
                if team:
                    pipe.set(self._team(team), enterprise)
            await pipe.execute()

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        enterprise, team = records.bot_key(bot)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._bot(enterprise, team), records.dump_bot(bot))
            if team:
                pipe.set(self._team(team), enterprise)
            await pipe.execute()

    async def async_find_bot_for_team(self, team_id: str) -> Bot | None:
        """The bot of a workspace known by its team id alone (in an Enterprise Grid org or
        not), as a job knows its workspace."""
        enterprise = await self._redis.get(self._team(team_id)) if team_id else None
        if enterprise is None:
            return None
        return await self.async_find_bot(
            enterprise_id=enterprise.decode() if isinstance(enterprise, bytes) else enterprise,
            team_id=team_id,
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        data = await self._redis.get(
            self._bot(*records.workspace(enterprise_id, team_id, is_enterprise_install))
        )
        return None if data is None else records.load_bot(data)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        key = self._installers(*records.workspace(enterprise_id, team_id, is_enterprise_install))
        stored = [records.load_installation(v) for v in (await self._redis.hgetall(key)).values()]
        return records.chosen(stored, user_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        enterprise, team = records.workspace(enterprise_id, team_id)
        await self._redis.delete(self._bot(enterprise, team), self._team(team))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        key = self._installers(*records.workspace(enterprise_id, team_id))
        if user_id is None:
            await self._redis.delete(key)
        else:
            await self._redis.hdel(key, user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        enterprise, team = records.workspace(enterprise_id, team_id)
        await self._redis.delete(
            self._bot(enterprise, team), self._installers(enterprise, team), self._team(team)
        )


class RedisOAuthStateStore(AsyncOAuthStateStore):
    """States expire after `expiration_seconds` and are consumed once (DEL answers 1 once)."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        prefix: str,
        expiration_seconds: float = records.STATE_SECONDS,
    ) -> None:
        self._redis = client
        self._base = f"{prefix}oauth:state:"
        self._ttl_ms = max(1, int(expiration_seconds * 1000))

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(24)
        await self._redis.set(self._base + state, "1", px=self._ttl_ms)
        return state

    async def async_consume(self, state: str) -> bool:
        return bool(state) and await self._redis.delete(self._base + state) == 1
