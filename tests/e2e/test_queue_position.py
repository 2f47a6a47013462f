"""Waiting in line, told where you stand: jobs over Vizard's 3-a-minute window and over an
in-flight limit say their place on their root message and move up until they are sent; the
last result mentions the requester; a thumbnail is an image block; every message has a plain
fallback text."""

from __future__ import annotations

import itertools
import json
import re

from cryptography.fernet import Fernet

from bot.jobs import Job, JobState
from bot.sandbox import SlackRequests
from bot.sandbox.server import Message
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.e2e.test_workspace_keys import (  # noqa: F401 - the workspace fixture
    ADMIN_A,
    KEY_A,
    KEY_FIELD,
    MEMBER_A,
    MEMBER_B,
    TEAM_A,
    TEAM_B,
    Workspaces,
    _create_keys,
    _open_keys_modal,
    _people,
    _typed,
    workspace,
)

_WINDOW = "Vizard accepts 3 new requests a minute and 20 an hour from Reelbot."


def _versions(root: Message) -> list[str]:
    """Every text the root message showed, in order (as posted, then each update)."""
    return [root.text, *(edit.text for edit in root.edits)]


async def _job_for(stack: Stack, source: str, user: str = ALICE) -> Job:
    [job] = [j for j in await stack.jobs(user) if j.source == source]
    return job


async def _turn_taken(stack: Stack, source: str, user: str = ALICE) -> None:
    """Until the job with this source was sent, or its root message shows its place."""

    async def shown() -> bool:
        jobs = [j for j in await stack.jobs(user) if j.source == source]
        if not jobs or jobs[0].root_ts is None:
            return False
        if jobs[0].state is not JobState.QUEUED:
            return True
        return "in line" in stack.sandbox.message(CHANNEL, jobs[0].root_ts).text

    await stack.wait_for(shown)


def _plain(text: str) -> bool:
    """Reads well in a notification: not empty, no bold, code or emoji codes, no placeholders."""
    return (
        bool(text.strip())
        and not re.search(r"[*`]|:[a-z_]+:|\bNone\b|undefined|\{|\}", text)
        and "<!" not in text
    )


async def test_jobs_over_vizards_window_say_their_place_and_move_up_until_sent(
    stack: Stack,
) -> None:
    sources = [f"https://v.example.com/talk-{n}.mp4" for n in range(1, 8)]
    for source in sources:
        await stack.slack.slash_command("/clip", source, user_id=ALICE, channel_id=CHANNEL)
        await _turn_taken(stack, source)
    assert len(stack.vizard.creates) == 3, "three a minute"

    def shown(n: int) -> str:
        return stack.sandbox.message(CHANNEL, str(roots[n].root_ts)).text

    roots = [await _job_for(stack, s) for s in sources]
    assert shown(3) == (
        "Queued: clips from Vizard for https://v.example.com/talk-4.mp4. "
        f"Next in line for Vizard, less than a minute: {_WINDOW} Nothing to do on your side."
    )
    assert shown(4).split(". ", 1)[1] == (
        f"2nd in line for Vizard, less than a minute: {_WINDOW} Nothing to do on your side."
    )
    assert "3rd in line for Vizard, less than a minute:" in shown(5)
    assert "4th in line for Vizard, about 2 minutes:" in shown(6)

    # The window opens: the first three in line are sent, the fourth moves up.
    stack.clock.advance(61)

    async def sent(n: int) -> bool:
        return (await _job_for(stack, sources[n])).state is not JobState.QUEUED

    for n in (3, 4, 5):
        await stack.wait_for(lambda n=n: sent(n))  # type: ignore[misc]
    await stack.wait_for(lambda: "Next in line for Vizard" in shown(6))
    assert not await sent(6)
    assert len(stack.vizard.creates) == 6
    assert "Next in line for Vizard, less than a minute:" in shown(6)

    stack.clock.advance(61)
    jobs = await stack.wait_until_settled(seconds=30)
    assert [j.state for j in jobs] == [JobState.DONE] * 7
    assert len(stack.vizard.creates) == 7

    # The seventh job's root message went 4th -> next -> sent, never back.
    places = [
        re.search(r"(\w+) in line for Vizard", text)
        for text in _versions(stack.sandbox.message(CHANNEL, str(roots[6].root_ts)))
    ]
    seen = [p.group(1) for p in places if p is not None]
    assert seen[0] == "4th" and seen[-1] == "Next"
    order = ["4th", "3rd", "2nd", "Next"]
    assert [order.index(p) for p in seen] == sorted(order.index(p) for p in seen), seen
    shown_seventh = _versions(stack.sandbox.message(CHANNEL, str(roots[6].root_ts)))
    assert all(a != b for a, b in itertools.pairwise(shown_seventh)), "updated only on a change"
    final = stack.sandbox.message(CHANNEL, str(roots[6].root_ts))
    assert final.text == "Done: 3 clips from Vizard for https://v.example.com/talk-7.mp4"

    # Each finished job's last clip mentions the requester, once; the others do not.
    for job in jobs:
        replies = stack.sandbox.thread(CHANNEL, str(job.root_ts))
        assert [f"<@{ALICE}>" in r.text for r in replies] == [False, False, True]
        assert f"<@{ALICE}> all 3 clips are ready." in json.dumps(replies[-1].blocks)

    texts = [c.params.get("text", "") for c in stack.sandbox.calls_to("chat.postMessage")]
    texts += [c.params.get("text", "") for c in stack.sandbox.calls_to("chat.update")]
    assert texts and all(_plain(str(t)) for t in texts), [t for t in texts if not _plain(str(t))]


async def test_beyond_heygens_in_flight_limit_a_job_says_it_waits_for_the_running_one(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        heygen=True, heygen_in_flight=1, heygen_default_avatar_id="Tyler-incasualsuit-20220721"
    )
    assert stack.heygen is not None
    stack.heygen.render_seconds = 3.0
    scripts = ["First script.", "Second script.", "Third script."]
    for count, (user, script) in enumerate(zip((ALICE, BOB, ALICE), scripts, strict=True)):
        await stack.slack.slash_command("/avatar", script, user_id=user, channel_id=CHANNEL)
        await stack.wait_for(lambda c=count: len(stack.sandbox.roots(CHANNEL)) > c)  # type: ignore[misc]

    async def waiting_shown() -> bool:
        jobs = [j for u in (ALICE, BOB) for j in await stack.jobs(u)]
        texts = [stack.sandbox.message(CHANNEL, j.root_ts).text for j in jobs if j.root_ts]
        return sum("in line for HeyGen" in t for t in texts) == 2

    await stack.wait_for(waiting_shown)
    assert len(stack.heygen.creates) == 1
    jobs = [j for u in (ALICE, BOB) for j in await stack.jobs(u)]
    waiting = sorted((j for j in jobs if j.state is JobState.QUEUED), key=lambda j: j.created_at)
    shown = [stack.sandbox.message(CHANNEL, str(j.root_ts)).text for j in waiting]
    running = "waiting for the running video to finish (HeyGen works on 1 at a time for Reelbot)."
    assert shown[0].endswith(f"Next in line for HeyGen, {running}"), shown
    assert shown[1].endswith(f"2nd in line for HeyGen, {running}"), shown

    await stack.wait_until_settled(ALICE, seconds=60)
    moved_up = [
        t.split(", waiting")[0].rsplit(". ", 1)[-1]
        for t in _versions(stack.sandbox.message(CHANNEL, str(waiting[1].root_ts)))
        if "in line" in t
    ]
    assert moved_up == ["2nd in line for HeyGen", "Next in line for HeyGen"]
    [bobs] = await stack.wait_until_settled(BOB, seconds=60)
    assert bobs.state is JobState.DONE
    [reply] = stack.sandbox.thread(CHANNEL, str(bobs.root_ts))
    assert reply.text == f"<@{BOB}> Your video is ready"
    [video] = bobs.outputs
    image = reply.blocks[-2]
    assert image["type"] == "image" and image["image_url"] == getattr(video, "thumbnail_url", None)
    assert image["alt_text"] == "Thumbnail of your video"
    assert reply.blocks[-1]["elements"][0]["text"] == f"<@{BOB}> your video is ready."


async def test_a_thumbnail_slack_cannot_fetch_never_holds_back_the_result(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(heygen=True, heygen_default_avatar_id="Tyler-incasualsuit-20220721")
    await stack.slack.slash_command("/avatar", "Hello there.", user_id=ALICE, channel_id=CHANNEL)
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    # Slack answers an image it cannot download with invalid_blocks, refusing the whole post.
    stack.sandbox.fail_next(
        "chat.postMessage", error="invalid_blocks", status=200, retry_after=None
    )
    [job] = await stack.wait_until_delivered()
    assert job.state is JobState.DONE
    refused = [c for c in stack.sandbox.calls_to("chat.postMessage") if c.error]
    assert [c.error for c in refused] == ["invalid_blocks"]
    assert any(b["type"] == "image" for b in refused[0].params["blocks"])
    [reply] = stack.sandbox.thread(CHANNEL, str(job.root_ts))
    assert all(b["type"] != "image" for b in reply.blocks)
    assert reply.text == f"<@{ALICE}> Your video is ready"


async def test_a_workspace_with_its_own_key_has_its_own_line_and_rate_window(
    make_stack: StackFactory,
    workspace: Workspaces,  # noqa: F811
) -> None:
    """Workspace A's own Vizard key is its own Vizard account: A's jobs never wait behind the
    jobs B sends on the app's key, and each line says whose window it waits for."""
    stack = await make_stack(reelbot_secret_key=Fernet.generate_key().decode())
    _people(stack)
    stack.vizard.api_keys.add(KEY_A)
    a, b = workspace(stack, TEAM_A), workspace(stack, TEAM_B)
    modal = await _open_keys_modal(a, ADMIN_A)
    saved = await a.view_submission(modal, _typed(KEY_FIELD, KEY_A), user_id=ADMIN_A)
    assert saved.status_code == 200 and not saved.text

    async def clip(slack: SlackRequests, user: str, video: str) -> str:
        source = f"https://videos.example.com/{video}.mp4"
        answer = await slack.slash_command("/clip", source, user_id=user, channel_id=CHANNEL)
        assert answer.status_code == 200, answer.text
        await _turn_taken(stack, source, user)
        job = await _job_for(stack, source, user)
        return stack.sandbox.message(CHANNEL, str(job.root_ts)).text

    for n in range(3):  # B fills the app's 3-a-minute window
        assert "in line" not in await clip(b, MEMBER_B, f"bravo-{n}")
    for n in range(3):  # A's window is its own
        shown = await clip(a, MEMBER_A, f"alpha-{n}")
        assert "in line" not in shown, shown
        assert _create_keys(stack, f"alpha-{n}") == [KEY_A]
    assert len(stack.vizard.creates) == 6

    # Both windows full: each waits first in its own line, for its own account's window.
    assert await clip(b, MEMBER_B, "bravo-3") == (
        "Queued: clips from Vizard for https://videos.example.com/bravo-3.mp4. "
        f"Next in line for Vizard, less than a minute: {_WINDOW} Nothing to do on your side."
    )
    own_window = (
        "Vizard accepts 3 new requests a minute and 20 an hour for this workspace's account."
    )
    assert await clip(a, MEMBER_A, "alpha-3") == (
        "Queued: clips from Vizard for https://videos.example.com/alpha-3.mp4. "
        f"Next in line for Vizard, less than a minute: {own_window} Nothing to do on your side."
    )
    assert len(stack.vizard.creates) == 6
