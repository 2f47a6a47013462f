"""Publishes each person's App Home: when they open it, and when one of their jobs changes
state (told by the job runner at the end of every turn).

A refresh is off the job's path: a task, its failures only logged. Refreshes for one person
are coalesced: the first change schedules a publish a moment later, and every change until
it runs rides along, so fifty jobs finishing at once publish once, not fifty times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.budget import NO_TEAM
from bot.home_view import ACTIVE_SHOWN, AdminPart, Home, home_view, workspace_settings
from bot.jobs import Job, JobState
from bot.listeners.reel import own_jobs, providers_text, spend_text
from bot.notify import slack_error
from bot.service import Reelbot
from bot.store.spend import month_of

log = logging.getLogger(__name__)
# The person's jobs read for the Home (the store keeps 50 a person): more than are shown,
# so the rest are counted. Only this workspace's (one user id can be in several on Grid).
_OWN_READ = 50
# How many jobs' last known states are kept, to tell a state change from a mere turn.
_STATES_KEPT = 10_000


class HomeTab:
    def __init__(
        self,
        client: AsyncWebClient,
        reelbot: Reelbot,
        *,
        settle_seconds: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._reelbot = reelbot
        self._settle = settle_seconds
        self._clock = clock
        self._states: OrderedDict[str, JobState] = OrderedDict()
        # The (person, workspace) Homes whose refresh is scheduled: on Enterprise Grid one
        # person has a Home in each workspace of the org.
        self._pending: set[tuple[str, str | None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- building and publishing ---------------------------------------------------------------
    async def build(self, user_id: str, team_id: str | None) -> Home:
        reelbot = self._reelbot
        store = reelbot.store
        jobs = await own_jobs(reelbot, user_id, team_id, _OWN_READ)
        labels = {p.name: p.label for p in reelbot.plugins}
        labels |= {p.name: p.label for p in reelbot.providers.values()}
        admin_part = None
        # After Slack's ack (an event), so a rate-limited users.info may be waited out.
        if await reelbot.admins.is_admin(self._client, team_id, user_id):
            active = await store.active_for_team(team_id, ACTIVE_SHOWN)
            report = await store.spend_report(team_id or NO_TEAM, month_of(self._clock()))
            # Spend exists where a paid provider has charged this month or budgets are set.
            paid = bool(report.by_provider) or reelbot.budget.limited
            admin_part = AdminPart(
                active=active,
                settings=await workspace_settings(reelbot, team_id),
                spend=spend_text(reelbot, report, user_id, admin=True) if paid else None,
            )
        providers = await providers_text(reelbot, team_id)
        return Home(user_id, jobs, providers, labels, admin_part)

    async def publish(self, user_id: str, team_id: str | None) -> None:
        home = await self.build(user_id, team_id)
        await self._client.views_publish(user_id=user_id, view=home_view(home))

    # --- refreshes when jobs change --------------------------------------------------------------
    def job_turned(self, job: Job) -> None:
        """A job's turn ended (the runner's observer): refresh its requester's Home when its
        state is not the one last seen here. Never raises."""
        try:
            seen = self._states.pop(job.id, None)
            self._states[job.id] = job.state
            while len(self._states) > _STATES_KEPT:
                self._states.popitem(last=False)
            if seen is not job.state:
                self.refresh_soon(job.user_id, job.team_id)
        except Exception:  # the job's own turn must not notice
            log.exception("job %s: Home refresh not scheduled", job.id)

    def refresh_soon(self, user_id: str, team_id: str | None) -> None:
        if (user_id, team_id) in self._pending:
            return
        self._pending.add((user_id, team_id))
        task = asyncio.get_running_loop().create_task(self._refresh_later(user_id, team_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh_later(self, user_id: str, team_id: str | None) -> None:
        await asyncio.sleep(self._settle)
        self._pending.discard((user_id, team_id))
        try:
            await self.publish(user_id, team_id)
        except SlackApiError as exc:
            log.warning("Home of %s not refreshed (%s)", user_id, slack_error(exc))
        except Exception as exc:
            log.warning("Home of %s not refreshed (%s)", user_id, type(exc).__name__)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._pending.clear()
