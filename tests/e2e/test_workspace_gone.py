"""A workspace that uninstalled the app: a job of it stored after the uninstall's cancel pass
(a command already in flight) is never created at its provider."""

from __future__ import annotations

import asyncio

from cryptography.fernet import Fernet

from bot.parse import Submit, parse_command
from bot.service import Origin
from providers.base import JobKind
from tests.e2e import test_oauth as oauth
from tests.e2e.conftest import StackFactory
from tests.e2e.test_workspace_keys import KEY_A, _create_keys


async def test_a_job_of_an_uninstalled_workspace_is_never_sent(
    make_stack: StackFactory,
) -> None:
    """Beta set its own Vizard key, then uninstalls. A /clip of Beta's whose job was stored
    just after the uninstall's cancel pass (the command was already in flight; likewise any
    job left over when the uninstall handler gave up on a store outage or its replica died)
    must not be created at all: nothing can be posted there any more, and Beta's own key
    went with its settings, so it would run on the app's account. Its root message is
    refused (no installation) and the job is cancelled unsent."""
    stack = await oauth.two_workspaces(
        make_stack, betty_is_admin=True, reelbot_secret_key=Fernet.generate_key().decode()
    )
    sandbox = stack.sandbox
    stack.vizard.api_keys.add(KEY_A)
    await oauth.install_both(stack)
    keys = stack.runtime.directory.keys
    assert keys is not None
    await keys.put(oauth.BETA, "vizard", {"api_key": KEY_A})

    sandbox.uninstall(oauth.BETA)
    async with oauth._beta_requests(stack) as beta:
        event = await beta.event({"type": "app_uninstalled", "event_ts": "1700000000.000900"})
        assert event.status_code == 200
    installations = stack.runtime.oauth.installations if stack.runtime.oauth else None
    assert installations is not None

    async def gone() -> bool:
        return await installations.async_find_bot(enterprise_id=None, team_id=oauth.BETA) is None

    await stack.wait_for(gone)

    # The /clip listener's own step (create_job before its ack), landing just after.
    reelbot = stack.runtime.reelbot
    offers = await reelbot.offers(JobKind.CLIPS, oauth.BETA)
    command = parse_command("https://videos.example.com/late.mp4", offers, "vizard")
    assert isinstance(command, Submit)
    await reelbot.create_job(
        command, Origin(oauth.BETTY, oauth.BETA_CHANNEL, "late-request", team_id=oauth.BETA)
    )
    reelbot.poller.wake()
    await asyncio.sleep(3.0)
    assert _create_keys(stack, "late") == [], (
        "a job of an uninstalled workspace was created at Vizard (on the app's key)"
    )
    [job] = await stack.jobs(oauth.BETTY)
    assert job.state.value == "cancelled" and "uninstalled" in (job.notice or "")
