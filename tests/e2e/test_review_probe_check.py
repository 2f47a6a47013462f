"""Reviewer's probes: `reelbot check` with many workspaces (SLACK_CLIENT_ID/SECRET). The issue:
"exit code 0 only if all hold, and names what failed"."""

from __future__ import annotations

from tests.e2e.test_check import World, world  # noqa: F401 - the fixture

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "c1e4750f00dbeefcafe0123456789abc"


async def test_probe_check_names_a_wrong_client_secret(world: World) -> None:  # noqa: F811
    """With OAuth, Slack can say whether the client id and secret are right for free
    (oauth.v2.access with no code answers invalid_client_id / bad_client_secret before it
    looks at the code); check says nothing about them and exits 0."""
    world.sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    checked = await world.check(
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET="0000000000000000000000000wrongzz9",
    )
    assert checked.code == 1, checked.out


async def test_probe_check_compares_oauth_scopes_with_the_manifest(world: World) -> None:  # noqa: F811
    """With OAuth there is no token to auth.test, but the scopes an install asks for
    (SLACK_SCOPES) can still fall short of manifest.yml's; check stays green."""
    world.sandbox.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    checked = await world.check(
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_SCOPES="commands,chat:write",
    )
    assert checked.code == 1, checked.out
