"""/reel over HTTP: jobs, status, cancel, providers and help, each for the person asking."""

from __future__ import annotations

from bot.jobs import JobState
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory


async def _reel(stack: Stack, text: str, user: str = ALICE) -> str:
    answer = await stack.slack.slash_command("/reel", text, user_id=user, channel_id=CHANNEL)
    assert answer.status_code == 200 and answer.json()["response_type"] == "ephemeral"
    return str(answer.json()["text"])


async def test_jobs_status_cancel_providers_and_help(make_stack: StackFactory) -> None:
    stack = await make_stack(cuttr=True)
    assert "no jobs yet" in await _reel(stack, "jobs")
    await stack.slack.slash_command(
        "/clip", "https://v.example.com/a.mp4 provider=cuttr clips=2", user_id=ALICE,
        channel_id=CHANNEL,
    )  # fmt: skip

    async def priced() -> bool:
        jobs = await stack.jobs()
        return bool(jobs) and jobs[0].root_ts is not None

    await stack.wait_for(priced)
    [job] = await stack.jobs()
    short = job.id[:8]
    listed = await _reel(stack, "jobs")
    assert f"`{short}` Cuttr clips" in listed and "awaiting confirmation" in listed
    status = await _reel(stack, f"status {short}")
    assert "Quoted $3.00" in status and "will cost $3.00" in status
    assert "None of your recent jobs" in await _reel(stack, f"status {short}", user=BOB)
    assert "Give the job's id" in await _reel(stack, "status not-an-id")
    assert f"Cancelled `{short}`" in await _reel(stack, f"cancel {short}")
    [cancelled] = await stack.wait_until_settled()
    assert cancelled.state is JobState.CANCELLED and cancelled.cancelled_by == ALICE
    assert "already cancelled" in await _reel(stack, f"cancel {job.id}")
    providers = await _reel(stack, "providers")
    assert "Vizard: `/clip` makes clips (3 per minute, 20 per hour)" in providers
    assert (
        "Cuttr: `/clip`" in providers and "Not set up here: HeyGen (`HEYGEN_API_KEY`)" in providers
    )
    for text in ("help", "", "dance"):
        shown = await _reel(stack, text)
        assert "`/reel jobs`" in shown and "`/clip` makes clips" in shown
        assert "/avatar" not in shown, "only the providers configured here"
