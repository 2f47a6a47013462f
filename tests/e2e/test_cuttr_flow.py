"""/clip with Cuttr end to end over HTTP: the price shown and confirmed by the requester only,
one charge, clips in the thread; cancel, expiry and budgets spend nothing; twenty Confirm
clicks make one create; `/reel spend`; and "Clip this video" on a file uploaded to Slack, to
Cuttr as a multipart create and to Vizard through a signed link."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from typing import Any

import httpx

from bot import ids
from bot.jobs import Job, JobState
from bot.sandbox.transcript import render_blocks
from bot.store.spend import Budget, Spend, month_of
from providers.base import ErrorKind
from providers.simulators.cuttr import CuttrSimulator
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.e2e.test_reel import reel_reply

VIDEO = "https://videos.example.com/keynote.mp4"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 200


async def _with_cuttr(make_stack: StackFactory, **overrides: Any) -> tuple[Stack, CuttrSimulator]:
    stack = await make_stack(cuttr=True, **overrides)
    assert stack.cuttr is not None
    return stack, stack.cuttr


async def _with_links(make_stack: StackFactory, **overrides: Any) -> Stack:
    """Vizard fetching its videos, and the bot at a public URL of its own (signed links)."""
    port = _free_port()
    return await make_stack(
        vizard_fetches=True, port=port, public_url=f"http://127.0.0.1:{port}", **overrides
    )


async def _submit_for_vizard(stack: Stack, view: dict[str, Any]) -> httpx.Response:
    auto = {"type": "multi_static_select", "selected_options": [{"value": "0"}]}
    return await stack.slack.view_submission(view, {"length": {"length": auto}}, user_id=ALICE)


async def _clip(stack: Stack, text: str, user: str = ALICE) -> None:
    answer = await stack.slack.slash_command("/clip", text, user_id=user, channel_id=CHANNEL)
    assert answer.status_code == 200


async def _priced(stack: Stack, user: str = ALICE) -> Job:
    """The job once its price is on the root message."""

    async def posted() -> bool:
        jobs = await stack.jobs(user)
        return bool(jobs) and jobs[0].root_ts is not None

    await stack.wait_for(posted)
    [job] = await stack.jobs(user)
    return job


async def _click(stack: Stack, action: str, job: Job, user: str = ALICE) -> None:
    answer = await stack.slack.block_action(
        action, job.id, user_id=user, channel_id=CHANNEL, message_ts=str(job.root_ts)
    )
    assert answer.status_code == 200


def _root_text(stack: Stack, job: Job) -> str:
    return "\n".join(render_blocks(stack.sandbox.message(CHANNEL, str(job.root_ts)).blocks))


async def test_confirm_makes_one_charge_and_the_clips_arrive_in_the_thread(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack, cuttr_price_cents_per_clip=100)
    await _clip(stack, f"{VIDEO} provider=cuttr clips=2 style=viral captions=on heading=auto")
    job = await _priced(stack)
    assert job.state is JobState.AWAITING_CONFIRMATION
    assert "2 clips with Cuttr will cost $2.00 from the team wallet." in _root_text(stack, job)
    await stack.runtime.poller.tick()
    assert cuttr.create_attempts == 0, "nothing is sent before the requester confirms"

    await _click(stack, ids.CONFIRM_ACTION, job, user=BOB)
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    assert cuttr.create_attempts == 0, "only the requester can confirm"

    await _click(stack, ids.CONFIRM_ACTION, job)
    [done] = await stack.wait_until_delivered()
    assert done.state is JobState.DONE, done.error
    assert len(cuttr.creates) == 1 and cuttr.charged_cents == 300
    assert (done.quoted_cents, done.charged_cents) == (200, 300), "what Cuttr charged counts"
    assert "charged $3.00 (quoted $2.00)" in _root_text(stack, done)
    assert done.provider_answer is not None and done.provider_answer["status"] == "completed"
    replies = stack.sandbox.thread(CHANNEL, str(done.root_ts))
    assert [r.text.split(":")[0] for r in replies] == ["Clip 1 of 2", f"<@{ALICE}> Clip 2 of 2"]
    edits = json.dumps([e.blocks for e in stack.sandbox.message(CHANNEL, str(done.root_ts)).edits])
    assert "of 2 clips made" in edits, "Cuttr's progress, completed of total"


async def test_cancel_or_expiry_calls_nothing_and_spends_nothing(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack, confirm_expiry_minutes=1)
    await _clip(stack, f"{VIDEO} provider=cuttr clips=1")
    job = await _priced(stack)
    await _click(stack, ids.CANCEL_ACTION, job)
    [cancelled] = await stack.wait_until_settled()
    assert cancelled.state is JobState.CANCELLED

    await _clip(stack, f"{VIDEO} provider=cuttr clips=3", user=BOB)
    waiting = await _priced(stack, BOB)
    stack.clock.advance(61)
    stack.runtime.poller.wake()
    [expired] = await stack.wait_until_settled(BOB)
    assert expired.state is JobState.FAILED and expired.error_kind is ErrorKind.EXPIRED
    assert "nothing was spent" in str(expired.error)
    await _click(stack, ids.CONFIRM_ACTION, waiting, user=BOB)
    await asyncio.sleep(0.5)
    assert cuttr.create_attempts == 0 and cuttr.charged_cents == 0


async def test_twenty_concurrent_confirm_clicks_make_exactly_one_create(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack)
    await _clip(stack, f"{VIDEO} provider=cuttr clips=2")
    job = await _priced(stack)
    await asyncio.gather(*(_click(stack, ids.CONFIRM_ACTION, job) for _ in range(20)))
    [done] = await stack.wait_until_settled()
    assert done.state is JobState.DONE
    assert cuttr.create_attempts == 1 and cuttr.charged_cents == 300


async def test_over_the_budget_nothing_is_called_and_what_is_left_is_said(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(
        make_stack, budget_monthly_cents=500, budget_monthly_cents_per_user=300
    )
    stack.sandbox.add_user(BOB, "bob", is_admin=True)
    await _clip(stack, f"{VIDEO} provider=cuttr clips=2")
    first = await _priced(stack)
    await _click(stack, ids.CONFIRM_ACTION, first)
    await stack.wait_until_settled()
    await _clip(stack, f"{VIDEO} provider=cuttr clips=1")

    async def two() -> bool:
        jobs = await stack.jobs()
        return len(jobs) == 2 and all(j.root_ts for j in jobs)

    await stack.wait_for(two)
    second = next(j for j in await stack.jobs() if j.id != first.id)
    await _click(stack, ids.CONFIRM_ACTION, second)
    await stack.wait_until_settled()
    refused = next(j for j in await stack.jobs() if j.id == second.id)
    assert refused.state is JobState.FAILED and refused.error_kind is ErrorKind.OVER_BUDGET
    assert "you have $0.00 left of your $3.00 monthly budget" in str(refused.error)
    assert cuttr.create_attempts == 1 and cuttr.charged_cents == 300

    said = (await reel_reply(stack, "spend", ALICE)).text
    assert "This workspace: *$3.00* of $5.00" in said and "You: *$3.00* of $3.00" in said
    assert "By person" not in said, "a member sees their own"
    told = (await reel_reply(stack, "spend", BOB)).text
    assert "By provider: Cuttr $3.00" in told and f"<@{ALICE}> $3.00" in told


async def test_a_job_that_fails_after_its_charge_says_so_with_the_amount(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack)
    cuttr.fail_next_job("The video has no audio track")
    await _clip(stack, f"{VIDEO} provider=cuttr clips=1")
    await _click(stack, ids.CONFIRM_ACTION, await _priced(stack))
    [failed] = await stack.wait_until_delivered()
    assert failed.state is JobState.FAILED
    shown = _root_text(stack, failed)
    assert "The video has no audio track" in shown
    assert "Cuttr had already charged $1.50 for this request" in shown


async def _shortcut_on_upload(stack: Stack) -> tuple[Any, dict[str, Any]]:
    message = stack.sandbox.person_uploads(CHANNEL, "keynote.mp4", MP4, text="The keynote")
    await stack.slack.message_shortcut(
        "clip_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text, files=message.files,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    return message, stack.sandbox.views_opened[-1]


async def test_clip_this_video_sends_an_uploaded_file_to_cuttr_as_one_multipart_create(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack, clip_default_provider="cuttr")
    message, view = await _shortcut_on_upload(stack)
    shown = {b.get("block_id") for b in view["blocks"]}
    assert "url" not in shown and ids.FILE_BLOCK in shown
    answer = await stack.slack.view_submission(view, {}, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content, answer.text
    job = await _priced(stack)
    assert job.thread_ts == message.ts
    await _click(stack, ids.CONFIRM_ACTION, job)
    [done] = await stack.wait_until_delivered()
    assert done.state is JobState.DONE, done.error
    [create] = cuttr.creates
    assert create["mode"] == "multipart"
    assert create["file"]["sha256"] == hashlib.sha256(MP4).hexdigest()
    replies = stack.sandbox.thread(CHANNEL, message.ts)
    assert sum("Clip " in r.text for r in replies) == 3


async def _uploaded_for_cuttr(make_stack: StackFactory) -> tuple[Stack, CuttrSimulator, Job]:
    """A video uploaded to Slack, sent to Cuttr from the shortcut's form: priced, waiting."""
    stack, cuttr = await _with_cuttr(make_stack, clip_default_provider="cuttr")
    _, view = await _shortcut_on_upload(stack)
    await stack.slack.view_submission(view, {}, user_id=ALICE)
    return stack, cuttr, await _priced(stack)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_vizard_gets_a_signed_link_to_an_uploaded_file_that_stops_working(
    make_stack: StackFactory,
) -> None:
    stack = await _with_links(make_stack, slack_file_link_minutes=5)
    message, view = await _shortcut_on_upload(stack)
    assert "private link" in json.dumps(view["blocks"])
    answer = await _submit_for_vizard(stack, view)
    assert answer.status_code == 200 and not answer.content, answer.text
    [done] = await stack.wait_until_delivered()
    assert done.state is JobState.DONE, done.error
    [create] = stack.vizard.creates
    link = str(create["videoUrl"])
    assert link.startswith(f"{stack.runtime.settings.public_url}media/")
    assert link.endswith("keynote.mp4")
    assert stack.vizard.fetches == [(link, 200, len(MP4))], "Vizard fetched the very file"
    replies = stack.sandbox.thread(CHANNEL, message.ts)
    assert sum("Clip " in r.text for r in replies) == 3
    assert "/media/" not in json.dumps([(r.text, r.blocks) for r in replies]), "never shown"
    async with httpx.AsyncClient() as http:
        forged = link.replace("/media/", "/media/X", 1)
        assert (await http.get(forged)).status_code == 410
        stack.clock.advance(5 * 60 + 1)
        assert (await http.get(link)).status_code == 410, "the link's lifetime is over"


async def test_without_a_public_url_an_uploaded_file_for_vizard_is_refused_with_the_reason(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    message = stack.sandbox.person_uploads(CHANNEL, "keynote.mp4", MP4)
    await stack.slack.message_shortcut(
        "clip_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts, text="",
        files=message.files,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.ephemerals))
    assert "REELBOT_PUBLIC_URL" in stack.sandbox.ephemerals[-1].text
    assert stack.sandbox.views_opened == [] and stack.vizard.create_attempts == 0


async def test_a_reservation_left_by_a_stopped_turn_goes_back_when_the_job_ends_unsent(
    make_stack: StackFactory,
) -> None:
    stack, cuttr = await _with_cuttr(make_stack, budget_monthly_cents=300)
    await _clip(stack, f"{VIDEO} provider=cuttr clips=2")
    job = await _priced(stack)
    # A replica reserved this job's quote and stopped before its create was sent.
    month = month_of(job.created_at)
    spend = Spend(str(job.team_id), month, job.id, ALICE, "cuttr", 300)
    assert (await stack.runtime.store.reserve_spend(spend, Budget(300))).ok
    await _click(stack, ids.CANCEL_ACTION, job)
    await stack.wait_until_settled()

    async def given_back() -> bool:
        return (await stack.runtime.store.spend_report(str(job.team_id), month)).total == 0

    await stack.wait_for(given_back)
    assert cuttr.create_attempts == 0


async def test_a_signed_link_that_waited_in_the_queue_is_signed_afresh_for_the_create(
    make_stack: StackFactory,
) -> None:
    stack = await _with_links(make_stack, slack_file_link_minutes=1, vizard_per_minute=1)
    await _clip(stack, "https://videos.example.com/first.mp4")  # takes this minute's slot
    await stack.wait_for(lambda: len(stack.vizard.creates) == 1)
    _, view = await _shortcut_on_upload(stack)
    await _submit_for_vizard(stack, view)

    async def queued() -> bool:
        return any(j.media_link for j in await stack.jobs())

    await stack.wait_for(queued)
    [waiting] = [j for j in await stack.jobs() if j.media_link]
    stack.clock.advance(90)  # past the link's minute, and into the next rate window
    stack.runtime.poller.wake()
    await stack.wait_until_delivered()
    link = str(stack.vizard.creates[-1]["videoUrl"])
    assert link != waiting.media_link, "signed afresh"
    assert stack.vizard.fetches[-1] == (link, 200, len(MP4))
    async with httpx.AsyncClient() as http:
        assert (await http.get(str(waiting.media_link))).status_code == 410, "the first expired"


async def test_a_cancel_while_the_file_is_fetched_sends_and_charges_nothing(
    make_stack: StackFactory,
) -> None:
    stack, cuttr, job = await _uploaded_for_cuttr(make_stack)
    fetching = asyncio.Event()
    stack.sandbox.hold_before("files.info", fetching)
    await _click(stack, ids.CONFIRM_ACTION, job)
    await stack.wait_for(lambda: not stack.sandbox._pre_holds["files.info"])  # being held
    await _click(stack, ids.CANCEL_ACTION, job)
    fetching.set()
    [cancelled] = await stack.wait_until_settled()
    await asyncio.sleep(0.5)
    assert cancelled.state is JobState.CANCELLED
    assert cuttr.create_attempts == 0 and cuttr.charged_cents == 0


async def test_a_slack_hiccup_while_the_file_is_fetched_retries_and_charges_once(
    make_stack: StackFactory,
) -> None:
    stack, cuttr, job = await _uploaded_for_cuttr(make_stack)
    stack.sandbox.fail_next("files.info", error="service_unavailable", status=200, retry_after=None)
    await _click(stack, ids.CONFIRM_ACTION, job)

    async def retried() -> bool:
        [current] = await stack.jobs()
        return current.provider_retries == 1

    await stack.wait_for(retried)
    assert cuttr.create_attempts == 0
    stack.clock.advance(10)
    stack.runtime.poller.wake()
    [done] = await stack.wait_until_delivered()
    assert done.state is JobState.DONE, done.error
    assert cuttr.create_attempts == 1 and cuttr.charged_cents == 450
