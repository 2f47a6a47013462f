"""Operating the bot: health, the webhook fast path, Slack pushing back while clips are posted."""

from __future__ import annotations

import itertools
import json

import httpx

from bot import ids
from bot.jobs import Job, JobState
from providers.base import Clip
from tests.conftest import free_port
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.factories import make_job


async def test_healthz_reports_store_and_poller(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{stack.runtime.port}/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert (body["store"], body["poller"], body["mode"]) == ("redis", "running", "http")
    assert body["providers"] == ["vizard"]


async def test_healthz_is_503_when_the_store_is_unreachable(make_stack: StackFactory) -> None:
    stack = await make_stack(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{stack.runtime.port}/healthz")
    assert answer.status_code == 503
    assert answer.json()["ok"] is False


async def test_vizard_webhook_makes_the_job_finish_without_waiting_for_the_next_poll(
    make_stack: StackFactory,
) -> None:
    port = free_port()
    stack = await make_stack(
        port=port, public_url=f"http://127.0.0.1:{port}", poll_min_seconds=600, poll_max_seconds=600
    )
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled(seconds=15)
    assert job.state is JobState.DONE
    # The job's own callback URL, with its unguessable token.
    own = f"http://127.0.0.1:{port}/webhooks/vizard/{job.id}/{job.webhook_token}"
    assert stack.vizard.creates[0]["webhookUrl"] == own
    assert len(job.webhook_token) >= 32
    assert stack.vizard.queries >= 1, "the result still comes from Reelbot's own poll"


async def test_a_webhook_about_an_unknown_project_changes_nothing(stack: Stack) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"http://127.0.0.1:{stack.runtime.port}/webhooks/vizard",
            json={"code": 2000, "projectId": 123456},
        )
        missing = await http.post(f"http://127.0.0.1:{stack.runtime.port}/webhooks/nope", json={})
    assert answer.status_code == 200
    assert missing.status_code == 404
    assert stack.vizard.queries == 0


async def test_slack_rate_limits_while_posting_clips_delay_but_never_duplicate(
    stack: Stack,
) -> None:
    stack.sandbox.fail_next(
        "chat.postMessage", error="ratelimited", status=429, retry_after=1, times=2
    )
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled(seconds=30)
    [root] = stack.sandbox.roots(CHANNEL)
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert [r.text for r in replies] == _clip_texts(job)


async def test_a_clip_slack_refuses_is_posted_on_a_later_tick_exactly_once(stack: Stack) -> None:
    stack.vizard.render_seconds = 0.0
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    stack.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=200, times=1, retry_after=None
    )
    [job] = await stack.wait_until_settled(seconds=30)
    assert job.state is JobState.DONE
    [root] = stack.sandbox.roots(CHANNEL)
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert len(replies) == 3
    assert len({r.text for r in replies}) == 3
    assert "Done: 3 clips" in json.dumps(root.blocks)


async def test_vizard_down_for_a_while_then_back_the_job_still_finishes(stack: Stack) -> None:
    stack.vizard.inject("query", "http500", times=4)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )

    async def retried() -> bool:
        return any(j.provider_retries for j in await stack.jobs())

    await stack.wait_for(retried)
    stack.clock.advance(30)
    [job] = await stack.wait_until_settled(seconds=30)
    assert job.state is JobState.DONE


async def test_clips_a_stopped_replica_never_posted_are_posted_by_the_next_one(
    stack: Stack,
) -> None:
    # What a replica leaves behind when it stops right after recording "done": the clips are
    # stored, nothing is posted, and the job is due one lease later.
    now = stack.clock()
    outputs = [Clip(url=f"https://cdn.example.com/{n}.mp4", title=f"Clip {n}") for n in (1, 2, 3)]
    job = make_job(channel_id=CHANNEL, user_id=ALICE, provider_ref="42")
    job = (
        job.moved(JobState.SUBMITTING)
        .moved(JobState.SUBMITTED)
        .moved(JobState.DONE, outputs=outputs, next_run_at=now)
    )
    await stack.runtime.store.add(job, owner="a-stopped-replica", lease_until=now + 120)

    await stack.runtime.poller.tick()
    assert stack.sandbox.roots(CHANNEL) == [], "not before the lease ends"

    stack.clock.advance(121)
    await stack.runtime.poller.tick()
    [root] = stack.sandbox.roots(CHANNEL)
    assert [r.text for r in stack.sandbox.thread(CHANNEL, root.ts)] == [
        "Clip 1 of 3: Clip 1",
        "Clip 2 of 3: Clip 2",
        f"<@{ALICE}> Clip 3 of 3: Clip 3 (all 3 clips are ready)",
    ]
    stored = await stack.runtime.store.get(job.id)
    assert stored is not None and stored.next_run_at is None and stored.settled

    stack.clock.advance(3600)
    await stack.runtime.poller.tick()
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3


async def test_bot_removed_from_the_channel_mid_job_moves_the_job_to_a_dm(stack: Stack) -> None:
    stack.vizard.render_seconds = 1.0
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    stack.sandbox.add_channel(CHANNEL, "general", member=False)

    [job] = await stack.wait_until_settled()
    assert job.state is JobState.DONE
    assert job.root_channel is not None and job.root_channel.startswith("D")
    dm = stack.sandbox.messages(job.root_channel)
    assert any("/invite @Reelbot" in m.text for m in dm)
    replies = stack.sandbox.thread(job.root_channel, str(job.root_ts))
    assert len(replies) == 3
    assert "Done: 3 clips" in json.dumps(
        stack.sandbox.message(job.root_channel, str(job.root_ts)).blocks
    )


def _clip_texts(job: Job) -> list[str]:
    total = len(job.outputs)
    texts = [f"Clip {n} of {total}: {o.title}" for n, o in enumerate(job.outputs, 1)]
    texts[-1] = f"<@{job.user_id}> {texts[-1]} (all {total} clips are ready)"
    return texts


def _clip_posts(stack: Stack, root_ts: str) -> list[str | None]:
    """The errors of every chat.postMessage into the root's thread, in order."""
    return [
        c.error
        for c in stack.sandbox.calls_to("chat.postMessage")
        if c.params.get("thread_ts") == root_ts
    ]


async def test_a_clip_post_answered_500_that_slack_never_made_is_posted_once(
    stack: Stack,
) -> None:
    stack.vizard.render_seconds = 0.5
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    stack.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None
    )
    [job] = await stack.wait_until_settled(seconds=30)
    [root] = stack.sandbox.roots(CHANNEL)
    replies = stack.sandbox.thread(CHANNEL, root.ts)
    assert [r.text for r in replies] == _clip_texts(job)
    assert _clip_posts(stack, root.ts) == ["internal_error", None, None, None]
    assert stack.sandbox.calls_to("conversations.replies"), "the thread was read back first"


async def test_a_clip_slack_posted_but_answered_500_for_is_not_posted_again(
    stack: Stack,
) -> None:
    stack.vizard.render_seconds = 0.5
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    stack.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None, after_commit=True
    )
    [job] = await stack.wait_until_settled(seconds=30)
    [root] = stack.sandbox.roots(CHANNEL)
    texts = [r.text for r in stack.sandbox.thread(CHANNEL, root.ts)]
    assert sorted(texts) == sorted(_clip_texts(job))
    assert _clip_posts(stack, root.ts) == ["internal_error", None, None]
    assert all(d.ts for d in job.deliveries.values()), "the found post's ts was recorded"


async def test_a_root_message_slack_posted_but_answered_500_for_is_posted_once(
    stack: Stack,
) -> None:
    stack.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None, after_commit=True
    )
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled(seconds=30)
    [root] = stack.sandbox.roots(CHANNEL)
    assert root.ts == job.root_ts
    assert "Done: 3 clips" in json.dumps(root.blocks)
    assert len(stack.sandbox.thread(CHANNEL, root.ts)) == 3
    assert stack.sandbox.calls_to("conversations.history"), "the channel was read back first"


async def test_polls_come_when_they_are_due_not_at_the_next_tick(
    make_stack: StackFactory,
) -> None:
    # A 5 s tick and a 0.4 s poll cap: polls must follow the cap, not wait for ticks.
    stack = await make_stack(poll_tick_seconds=5, poll_min_seconds=0.4, poll_max_seconds=0.4)
    stack.vizard.render_seconds = 3.0
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled(seconds=15)
    assert job.state is JobState.DONE
    # About 3 s of rendering at one poll every 0.4 s: 7 or 8 polls; at the tick, one or two.
    assert stack.vizard.queries >= 6, stack.vizard.queries


async def test_posts_into_one_channel_keep_slacks_pace_across_jobs(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(slack_channel_posts_per_second=4)
    stack.sandbox.post_rate_per_channel = 4.0
    stack.sandbox.post_burst = 2  # Slack allows short bursts; exact spacing would jitter
    for name in ("first", "second"):
        await stack.slack.slash_command(
            "/clip", f"https://v.example.com/{name}.mp4", user_id=ALICE, channel_id=CHANNEL
        )
    jobs = await stack.wait_until_settled(seconds=30)
    assert [j.state for j in jobs] == [JobState.DONE, JobState.DONE]
    posts = [c for c in stack.sandbox.calls_to("chat.postMessage") if c.error is None]
    assert len(posts) == 8
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert min(gaps) > 0.2, gaps
    refused = [c for c in stack.sandbox.calls_to("chat.postMessage") if c.error == "ratelimited"]
    assert refused == [], "the pacer keeps Slack from having to refuse"


async def test_one_aiohttp_session_carries_every_slack_call(stack: Stack) -> None:
    runtime = stack.runtime
    assert runtime.client.session is not None
    assert runtime.client.session is runtime.poster.session
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_until_settled()
    assert not runtime.client.session.closed


async def test_finished_jobs_leave_the_store_after_the_retention_period(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(job_retention_days=1)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled()
    await stack.runtime.poller.purge_finished()
    assert await stack.runtime.store.get(job.id) is not None, "kept within the period"
    stack.clock.advance(86400 + 1)
    await stack.runtime.poller.purge_finished()
    assert await stack.runtime.store.get(job.id) is None
    assert await stack.runtime.store.find_by_ref("vizard", str(job.provider_ref)) is None


async def test_fresh_link_asks_the_provider_again_and_answers_only_the_clicker(
    stack: Stack,
) -> None:
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    [job] = await stack.wait_until_settled()
    [root] = stack.sandbox.roots(CHANNEL)
    second = stack.sandbox.thread(CHANNEL, root.ts)[1]
    button = second.blocks[1]["accessory"]
    assert (button["action_id"], button["value"]) == (ids.FRESH_LINK_ACTION, f"{job.id}:1")
    queries = stack.vizard.queries
    stack.clock.advance(3600)
    await stack.slack.block_action(
        ids.FRESH_LINK_ACTION,
        button["value"],
        user_id=BOB,
        channel_id=CHANNEL,
        message_ts=second.ts,
    )
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    [answer] = [e for e in stack.sandbox.ephemerals if e.user == BOB]
    clip = job.outputs[1]
    assert isinstance(clip, Clip)
    assert "fresh link to result 2" in answer.text and clip.url in answer.text
    assert "works until" in answer.text
    assert answer.thread_ts == root.ts
    assert stack.vizard.queries == queries + 1, "the link came from a new query"


async def test_an_uncertain_clip_then_removal_from_the_channel_still_delivers_in_the_dm(
    stack: Stack,
) -> None:
    stack.vizard.render_seconds = 0.5
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    await stack.wait_for(lambda: bool(stack.sandbox.roots(CHANNEL)))
    stack.sandbox.fail_next(
        "chat.postMessage", error="internal_error", status=500, retry_after=None
    )
    await stack.wait_for(lambda: any(c.error for c in stack.sandbox.calls_to("chat.postMessage")))
    stack.sandbox.add_channel(CHANNEL, "general", member=False)
    stack.clock.advance(30)
    [job] = await stack.wait_until_settled(seconds=30)
    assert job.root_channel is not None and job.root_channel.startswith("D")
    replies = stack.sandbox.thread(job.root_channel, str(job.root_ts))
    assert [r.text for r in replies] == _clip_texts(job), "every clip, once, in the DM"


async def test_a_public_channel_the_bot_is_not_in_is_joined_not_left(stack: Stack) -> None:
    stack.sandbox.add_channel("C0PUBLIC", "design", member=False)
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4", user_id=ALICE, channel_id="C0PUBLIC"
    )
    [job] = await stack.wait_until_settled()
    assert job.root_channel == "C0PUBLIC"
    assert [c.params["channel"] for c in stack.sandbox.calls_to("conversations.join")] == [
        "C0PUBLIC"
    ]
    assert len(stack.sandbox.thread("C0PUBLIC", str(job.root_ts))) == 3
    assert stack.sandbox.messages(stack.sandbox.dm_channel(ALICE)) == [], "no DM needed"
