"""Reviewer's probe (left for the keys form's owner): the keys form's submission must ack in
time when users.info is rate limited. (The queue-keys probe that was here is now
tests/e2e/test_queue_position.py::test_a_workspace_with_its_own_key_has_its_own_line_and_rate_window.)"""

from __future__ import annotations

import asyncio

from cryptography.fernet import Fernet

from tests.e2e.conftest import StackFactory
from tests.e2e.test_workspace_keys import (  # noqa: F401 - the fixture
    ADMIN_A,
    KEY_A,
    KEY_FIELD,
    TEAM_A,
    Workspaces,
    _open_keys_modal,
    _people,
    _typed,
    workspace,
)


async def test_probe_keys_form_acks_in_time_when_users_info_is_rate_limited(
    make_stack: StackFactory,
    workspace: Workspaces,  # noqa: F811
) -> None:
    """The keys form's submission asks users.info, reads the store and tries the key (up to
    1.5 s) before its ack; users.info answering 429 with Retry-After 2 pushes the ack past
    Slack's 3 s (Vizard answering the trial in 1.2 s, within its own budget). The admin
    then sees Slack's error while the key was saved all the same."""
    import time

    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a = workspace(stack, TEAM_A)
    modal = await _open_keys_modal(a, ADMIN_A)
    stack.sandbox.fail_next("users.info", status=429, retry_after=2)
    stack.vizard.inject("query", "timeout", delay=1.2)  # the trial answers within its 1.5 s
    started = time.monotonic()
    saved = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)
    took = time.monotonic() - started
    dm = stack.sandbox.dm_channel(ADMIN_A)
    await asyncio.sleep(1.0)
    saved_anyway = any("own key" in m.text for m in stack.sandbox.messages(dm))
    assert saved.status_code == 200 and took < 3.0, (
        f"HTTP {saved.status_code} after {took:.1f} s; key saved anyway: {saved_anyway}"
    )
