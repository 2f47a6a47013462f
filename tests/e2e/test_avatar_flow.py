"""/avatar end to end over HTTP: the modal with its searchable lists and provider switch, the
quick path, the message shortcut, progress on the root message and the video in the thread,
for HeyGen and for AI Studios."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.jobs import Job, JobState
from bot.sandbox.server import Message
from bot.sandbox.validation import options_response_problems
from providers.base import ErrorKind, JobKind, Video, dump_request
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory

TYLER = "Tyler-incasualsuit-20220721"
SPANISH_VOICE = "d92994ae0de34b2e8659b456a2f388b8"
PAIGE, NAVY, WHITE = "M000045058", "BG00002320", "BG00002321"


async def _avatar_stack(make_stack: StackFactory, **overrides: Any) -> Stack:
    return await make_stack(heygen=True, aistudios=True, **overrides)


async def _open_modal(stack: Stack, text: str = "") -> dict[str, Any]:
    before = len(stack.sandbox.views_opened)
    answer = await stack.slack.slash_command("/avatar", text, user_id=ALICE, channel_id=CHANNEL)
    assert answer.status_code == 200
    await stack.wait_for(lambda: len(stack.sandbox.views_opened) > before)
    return stack.sandbox.views_opened[-1]


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(b.get("block_id")): b for b in view["blocks"]}


def _block_of(view: dict[str, Any], field: str) -> str:
    for block in view["blocks"]:
        if (block.get("element") or {}).get("action_id") == field:
            return str(block["block_id"])
    raise AssertionError(f"no {field} field in the modal")


def _picked(value: str, label: str | None = None, kind: str = "external_select") -> dict[str, Any]:
    return {
        "type": kind,
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": label or value}},
    }


def _texts(answer: dict[str, Any]) -> list[str]:
    groups = answer.get("option_groups")
    options = [o for g in groups for o in g["options"]] if groups else answer["options"]
    return [o["text"]["text"] for o in options]


async def _options(stack: Stack, view: dict[str, Any], field: str, query: str, **state: Any) -> Any:
    answer = await stack.slack.options_request(
        view, field, query, block_id=_block_of(view, field), values=state
    )
    assert answer.status_code == 200
    body = answer.json()
    assert options_response_problems(body) == []
    return body


async def _updated(stack: Stack, count: int) -> dict[str, Any]:
    await stack.wait_for(lambda: len(stack.sandbox.calls_to("views.update")) >= count)
    return stack.sandbox.views_opened[-1]


async def _done(stack: Stack, seconds: float = 30.0) -> Job:
    jobs = await stack.wait_until_settled(seconds=seconds)
    [job] = [j for j in jobs if j.kind.value == "avatar"]
    return job


def _root_lines(root: Message) -> list[str]:
    versions = [root.blocks] + [e.blocks for e in root.edits]
    return [json.dumps(v) for v in versions]


async def test_heygen_from_the_modal_searches_looks_and_voices_and_posts_one_video(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    assert stack.heygen is not None
    view = await _open_modal(stack)
    blocks = _blocks(view)
    assert blocks[ids.PROVIDER_BLOCK]["element"]["initial_option"]["value"] == "heygen"
    assert blocks["script"]["element"]["multiline"] is True
    assert "5,000" in blocks["script"]["hint"]["text"]
    assert blocks["avatar"]["element"]["type"] == "external_select"

    found = await _options(stack, view, "avatar", "tyler")
    assert _texts(found) == ["Tyler in a casual suit"]
    assert stack.heygen.list_calls["looks"] >= 1

    script = {
        "script": {"script": {"type": "plain_text_input", "value": "Hola, equipo. ¡Bienvenidos!"}}
    }
    await stack.slack.view_select(
        view, "avatar", "avatar", TYLER, label="Tyler in a casual suit",
        element_type="external_select", values=script,
    )  # fmt: skip
    view = await _updated(stack, 1)
    avatar_block = _blocks(view)[_block_of(view, "avatar")]
    assert avatar_block["element"]["initial_option"]["value"] == TYLER
    assert "Tyler in a casual suit" in avatar_block["element"]["initial_option"]["text"]["text"]

    voices = await _options(stack, view, "voice", "spanish")
    [group] = voices["option_groups"]
    assert group["label"]["text"] == "Spanish"
    assert set(_texts(voices)) == {"Lucía", "Mateo"}

    values = script | {
        _block_of(view, "avatar"): {"avatar": _picked(TYLER)},
        _block_of(view, "voice"): {"voice": _picked(SPANISH_VOICE, "Mateo")},
        "aspect": {"aspect": _picked("9:16", kind="static_select")},
        "background": {"background": {"type": "plain_text_input", "value": "#0A84FF"}},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content

    job = await _done(stack)
    assert job.state is JobState.DONE, job.error
    [create] = stack.heygen.creates
    assert (create["avatar_id"], create["voice_id"]) == (TYLER, SPANISH_VOICE)
    assert create["aspect_ratio"] == "9:16"
    assert stack.heygen.create_keys == [job.id], "the create carried the job's idempotency key"
    [root] = stack.sandbox.roots(CHANNEL)
    seen = " ".join(_root_lines(root))
    assert "HeyGen is rendering the video" in seen
    assert "processing" in seen or "waiting" in seen, "HeyGen's own stage was shown"
    assert "Done: 1 video in the thread" in json.dumps(root.blocks)
    [reply] = stack.sandbox.thread(CHANNEL, root.ts)
    [video] = job.outputs
    assert isinstance(video, Video) and video.duration_s
    shown = json.dumps(reply.blocks)
    assert "*Length*" in shown and "link works until" in shown
    button = reply.blocks[1]["accessory"]
    assert (button["action_id"], button["value"]) == (ids.FRESH_LINK_ACTION, f"{job.id}:0")

    await stack.slack.block_action(
        ids.FRESH_LINK_ACTION, button["value"], user_id=BOB, channel_id=CHANNEL,
        message_ts=reply.ts,
    )  # fmt: skip
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    [fresh] = [e for e in stack.sandbox.ephemerals if e.user == BOB]
    assert "fresh link" in fresh.text and video.url not in fresh.text, "a re-signed link"


async def test_switching_to_ai_studios_offers_the_chosen_avatars_outfits_and_shows_progress(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    assert stack.aistudios is not None
    view = await _open_modal(stack)
    script = {"script": {"script": {"type": "plain_text_input", "value": "Quarterly update."}}}
    await stack.slack.view_select(
        view, ids.PROVIDER_BLOCK, ids.PROVIDER_ACTION, "aistudios", values=script
    )
    view = await _updated(stack, 1)
    blocks = _blocks(view)
    assert blocks["script"]["element"]["initial_value"] == "Quarterly update.", "script kept"
    assert "voice" not in [(b.get("element") or {}).get("action_id") for b in view["blocks"]]
    provider_state = {
        ids.PROVIDER_BLOCK: {ids.PROVIDER_ACTION: _picked("aistudios", kind="static_select")}
    }

    early = await _options(stack, view, "outfit", "", **(script | provider_state))
    assert _texts(early) == ["Pick the avatar first"]

    avatars = await _options(stack, view, "avatar", "", **(script | provider_state))
    assert set(_texts(avatars)) == {"Paige", "Jonathan"}
    await stack.slack.view_select(
        view, _block_of(view, "avatar"), "avatar", PAIGE, label="Paige",
        element_type="external_select", values=script | provider_state,
    )  # fmt: skip
    view = await _updated(stack, 2)
    preview = _blocks(view)["preview:avatar"]
    assert preview["elements"][0]["image_url"].startswith("https://")
    state = script | provider_state | {_block_of(view, "avatar"): {"avatar": _picked(PAIGE)}}
    outfits = await _options(stack, view, "outfit", "", **state)
    assert _texts(outfits) == ["Navy suit", "White blouse"]

    values = state | {_block_of(view, "outfit"): {"outfit": _picked(WHITE, "White blouse")}}
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content
    job = await _done(stack)
    assert (job.state, job.provider) == (JobState.DONE, "aistudios"), job.error
    [create] = stack.aistudios.creates
    [scene] = create["scenes"]
    assert (scene["scripts"][0]["modelId"], scene["scripts"][0]["clothId"]) == (PAIGE, WHITE)
    [root] = stack.sandbox.roots(CHANNEL)
    seen = " ".join(_root_lines(root))
    assert "%" in seen and "\\u2588" in seen, "a percentage with a text progress bar"
    [reply] = stack.sandbox.thread(CHANNEL, root.ts)
    assert "link works until" in json.dumps(reply.blocks)


async def test_a_quick_avatar_uses_the_workspace_defaults_and_says_which(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(
        make_stack, heygen_default_avatar_id=TYLER, heygen_default_voice_id=SPANISH_VOICE
    )
    assert stack.heygen is not None
    answer = await stack.slack.slash_command(
        "/avatar", "Don't forget: the demo's at 3pm!", user_id=ALICE, channel_id=CHANNEL
    )
    assert answer.status_code == 200
    said = answer.json()["text"]
    assert "HeyGen" in said and "avatar" in said and "voice" in said
    assert "Tyler in a casual suit" in said or TYLER in said
    job = await _done(stack)
    assert job.state is JobState.DONE
    [create] = stack.heygen.creates
    assert create["script"] == "Don't forget: the demo's at 3pm!"
    assert (create["avatar_id"], create["voice_id"]) == (TYLER, SPANISH_VOICE)


async def test_a_quick_avatar_with_no_default_opens_the_modal_with_the_script(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    view = await _open_modal(stack, "Welcome to the team, Sam.")
    assert _blocks(view)["script"]["element"]["initial_value"] == "Welcome to the team, Sam."
    assert stack.heygen is not None and stack.heygen.creates == []


async def test_the_message_shortcut_makes_the_video_in_that_messages_thread(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack, heygen_default_avatar_id=TYLER)
    stack.sandbox.add_user(BOB, "bob")
    message = stack.sandbox.person_posts(CHANNEL, "Launch day: thank you <@U0BOB> &amp; team!")
    answer = await stack.slack.message_shortcut(
        "make_avatar_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text,
    )  # fmt: skip
    assert answer.status_code == 200
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    assert (
        _blocks(view)["script"]["element"]["initial_value"] == "Launch day: thank you @Bob & team!"
    )
    values = {
        "script": {"script": {"type": "plain_text_input", "value": "Launch day: thank you!"}},
        "avatar": {"avatar": _picked(TYLER)},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    assert answer.status_code == 200 and not answer.content
    job = await _done(stack)
    assert job.state is JobState.DONE and job.thread_ts == message.ts
    thread = stack.sandbox.thread(CHANNEL, message.ts)
    assert len(thread) == 2, "the status message and the video, both in that thread"
    assert [m for m in stack.sandbox.roots(CHANNEL) if m.via != "person"] == []


async def test_avatar_help_lists_both_providers_and_their_options(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    answer = await stack.slack.slash_command("/avatar", "help", user_id=ALICE, channel_id=CHANNEL)
    text = answer.json()["text"]
    for word in ("`heygen`", "`aistudios`", "`avatar=<id>`", "`outfit=<id>`", "before the text"):
        assert word in text, word


async def test_modal_errors_come_back_under_the_field(make_stack: StackFactory) -> None:
    stack = await _avatar_stack(make_stack)
    view = await _open_modal(stack)
    values = {
        "script": {"script": {"type": "plain_text_input", "value": "Hi"}},
        "avatar": {"avatar": _picked(ids.NO_CHOICE, "Loading")},
        "background": {"background": {"type": "plain_text_input", "value": "blue"}},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    body = answer.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) >= {"avatar"}
    assert stack.heygen is not None and stack.heygen.creates == []


async def test_changing_the_avatar_empties_the_outfit_even_when_a_default_is_set(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        aistudios=True, aistudios_default_model_id=PAIGE, aistudios_default_clothes_id=NAVY
    )
    assert stack.aistudios is not None
    view = await _open_modal(stack)
    assert _blocks(view)["outfit"]["element"]["initial_option"]["value"] == NAVY
    script = {"script": {"script": {"type": "plain_text_input", "value": "Hello."}}}
    await stack.slack.view_select(
        view, "avatar", "avatar", "M000004017", label="Jonathan",
        element_type="external_select", values=script | {"outfit": {"outfit": _picked(NAVY)}},
    )  # fmt: skip
    view = await _updated(stack, 1)
    outfit = _blocks(view)[_block_of(view, "outfit")]
    assert "initial_option" not in outfit["element"], "Paige's outfit is not Jonathan's"
    # A stale pick sent anyway (an old view) is refused under the field, with no create.
    values = script | {
        _block_of(view, "avatar"): {"avatar": _picked("M000004017")},
        _block_of(view, "outfit"): {"outfit": _picked(NAVY)},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    body = answer.json()
    assert body["response_action"] == "errors"
    assert "does not offer that outfit" in body["errors"][_block_of(view, "outfit")]
    assert stack.aistudios.creates == []


async def test_a_submission_while_the_provider_switch_is_on_its_way_is_held_back(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    view = await _open_modal(stack)  # HeyGen's form
    values = {
        ids.PROVIDER_BLOCK: {ids.PROVIDER_ACTION: _picked("aistudios", kind="static_select")},
        "script": {"script": {"type": "plain_text_input", "value": "Hi"}},
        "avatar": {"avatar": _picked(TYLER)},
    }
    answer = await stack.slack.view_submission(view, values, user_id=ALICE)
    body = answer.json()
    assert body["response_action"] == "errors" and ids.PROVIDER_BLOCK in body["errors"]
    assert stack.heygen is not None and stack.heygen.creates == []
    assert stack.aistudios is not None and stack.aistudios.creates == []


async def test_a_long_heygen_script_carried_to_ai_studios_is_kept_and_flagged_on_submit(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack)
    view = await _open_modal(stack)
    long_script = "word " * 504  # 2,520 characters: fine for HeyGen, over AI Studios' 2,000
    script = {"script": {"script": {"type": "plain_text_input", "value": long_script}}}
    await stack.slack.view_select(
        view, ids.PROVIDER_BLOCK, ids.PROVIDER_ACTION, "aistudios", values=script
    )
    view = await _updated(stack, 1)
    assert stack.sandbox.calls_to("views.update")[-1].error is None, "Slack took the view"
    assert _blocks(view)["script"]["element"]["initial_value"] == long_script


async def test_heygen_saying_slow_down_for_hours_delays_the_video_but_never_fails_it(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack, heygen_default_avatar_id=TYLER)
    assert stack.heygen is not None
    stack.heygen.inject("create", "error", code="rate_limit_exceeded", times=7)
    await stack.slack.slash_command("/avatar", "Patience.", user_id=ALICE, channel_id=CHANNEL)

    waited = 0.0

    async def finished() -> bool:
        nonlocal waited
        jobs = await stack.jobs()
        if not jobs or jobs[0].settled:
            return bool(jobs)
        job = jobs[0]
        lease = await stack.runtime.store.lease_end(job.id)
        idle = lease is None or lease <= stack.clock()
        if idle and job.state is JobState.QUEUED and job.next_run_at is not None:
            # An hour between each of HeyGen's refusals, skipped while the job waits (never
            # during a turn, whose lease would run out).
            ahead = job.next_run_at - stack.clock() + 3600
            if ahead > 0:
                stack.clock.advance(ahead)
                waited += ahead
        return False

    await stack.wait_for(finished, seconds=30)
    [job] = await stack.jobs()
    assert job.state is JobState.DONE, job.error
    assert stack.heygen.create_attempts == 8 and len(stack.heygen.creates) == 1
    assert waited > 6 * 3600, "the refusals spanned more than the 6 h resend window"


async def test_a_create_sent_without_a_key_is_never_resent_by_a_replica_that_sends_keys(
    make_stack: StackFactory,
) -> None:
    # A v2 replica (no Idempotency-Key) died mid-create; this replica runs v3.
    stack = await _avatar_stack(make_stack)
    assert stack.heygen is not None
    heygen = stack.runtime.providers["heygen"]
    request = heygen.build_request({"script": "Hi", "avatar": TYLER, "aspect": "16:9"})
    now = stack.clock()
    job = Job(
        kind=JobKind.AVATAR, provider="heygen", state=JobState.SUBMITTING, channel_id=CHANNEL,
        user_id=ALICE, source="Hi", request=dump_request(request), next_run_at=now,
        create_started_at=now, create_attempts=1, create_keyed=False,
    )  # fmt: skip
    await stack.runtime.store.add(job)
    stack.runtime.poller.wake()
    [done] = await stack.wait_until_settled()
    assert done.error_kind is ErrorKind.CREATE_LOST
    assert stack.heygen.create_attempts == 0, "never sent again, not even with a key"


async def test_a_command_naming_another_avatar_opens_the_form_to_pick_its_outfit(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(
        aistudios=True, aistudios_default_model_id=PAIGE, aistudios_default_clothes_id=NAVY
    )
    view = await _open_modal(stack, "avatar=M000004017 Hello there.")
    blocks = _blocks(view)
    assert blocks["avatar"]["element"]["initial_option"]["value"] == "M000004017"
    assert "initial_option" not in blocks["outfit"]["element"], "Paige's default is not used"
    assert blocks["script"]["element"]["initial_value"] == "Hello there."
    assert stack.aistudios is not None and stack.aistudios.creates == []


async def test_the_shortcut_leaves_out_invisible_characters_the_form_would_refuse(
    make_stack: StackFactory,
) -> None:
    stack = await _avatar_stack(make_stack, heygen_default_avatar_id=TYLER)
    message = stack.sandbox.person_posts(CHANNEL, "Hello\u200b team\u200d!")
    await stack.slack.message_shortcut(
        "make_avatar_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text,
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    shown = _blocks(stack.sandbox.views_opened[-1])["script"]["element"]["initial_value"]
    assert shown == "Hello team\u200d!"
