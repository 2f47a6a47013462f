"""Channel presets over HTTP: an admin sets a channel's defaults in the editor modal (signed
block_actions and view_submission at the bot, views recorded by the Slack sandbox), and the
quick commands and forms in that channel use them, as the provider simulators receive them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from bot import ids
from bot.sandbox.modal_requests import VERIFICATION_TOKEN
from bot.sandbox.signing import FORM
from tests.e2e.conftest import ALICE, BOB, CHANNEL, Stack, StackFactory
from tests.e2e.test_reel import reel_reply

RANDOM = "C0RANDOM"
LINK = "https://videos.example.com/talk.mp4"
TYLER = "Tyler-incasualsuit-20220721"
SPANISH_VOICE = "d92994ae0de34b2e8659b456a2f388b8"


async def _presets_stack(make_stack: StackFactory, **options: Any) -> Stack:
    stack = await make_stack(**options)
    stack.sandbox.add_user(ALICE, "alice", is_admin=True)
    stack.sandbox.add_user(BOB, "bob")
    stack.sandbox.add_channel(RANDOM, "random")
    return stack


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Blocks by the field they hold (a field's block id may carry a `~` suffix)."""
    found = {}
    for block in view["blocks"]:
        element = block.get("element") or {}
        found[str(element.get("action_id") or block.get("block_id"))] = block
    return found


def _select(value: str, kind: str = "static_select") -> dict[str, Any]:
    return {"type": kind, "selected_option": {"value": value, "text": {"type": "plain_text",
            "text": value}}}  # fmt: skip


def _channel(channel_id: str) -> dict[str, Any]:
    return {
        ids.PRESET_CHANNEL_BLOCK: {
            ids.PRESET_CHANNEL_ACTION: {
                "type": "conversations_select",
                "selected_conversation": channel_id,
            }
        }
    }


def _state(view: dict[str, Any], **fields: dict[str, Any]) -> dict[str, Any]:
    """Slack's state of the editor: each field's element state under the block id it has."""
    blocks = _blocks(view)
    return {blocks[name]["block_id"]: {name: element} for name, element in fields.items()}


async def _interaction(stack: Stack, payload: dict[str, Any]) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    answer = await stack.slack.post(body, FORM)
    assert answer.status_code == 200
    return answer


async def _click_in_view(
    stack: Stack, view: dict[str, Any], action_id: str, user: str, state: dict[str, Any],
    **action: Any,
) -> httpx.Response:  # fmt: skip
    """A click or pick inside an open modal (block_actions with a view container)."""
    shown = json.loads(json.dumps(view)) | {"state": {"values": state}}
    return await _interaction(
        stack,
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": stack.sandbox.team_id},
            "api_app_id": stack.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": stack.sandbox.issue_trigger_id(user),
            "team": {"id": stack.sandbox.team_id, "domain": stack.sandbox.team_domain},
            "view": shown,
            "actions": [{"action_id": action_id, "block_id": "b", "action_ts": "1.0", **action}],
        },
    )


async def _home(stack: Stack, user: str) -> dict[str, Any]:
    before = len(stack.sandbox.calls_to("views.publish"))
    await stack.slack.app_home_opened(user)
    await stack.wait_for(lambda: len(stack.sandbox.calls_to("views.publish")) > before)
    return stack.sandbox.home_views[user]


def _presets_button(home: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    for block in home["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == ids.CHANNEL_PRESETS_ACTION:
                return str(block["block_id"]), element
    return None


async def _home_button(stack: Stack, user: str, home: dict[str, Any]) -> None:
    """A click on App Home's "Channel presets" button (no channel behind it); on a member's
    home, where there is none, the click an admin's home would send."""
    block_id, button = _presets_button(home) or ("settings", {"value": "home"})
    await _interaction(
        stack,
        {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "team_id": stack.sandbox.team_id},
            "api_app_id": stack.slack.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": home["id"]},
            "trigger_id": stack.sandbox.issue_trigger_id(user),
            "team": {"id": stack.sandbox.team_id, "domain": stack.sandbox.team_domain},
            "view": home,
            "actions": [
                {
                    "action_id": ids.CHANNEL_PRESETS_ACTION,
                    "block_id": block_id,
                    "type": "button",
                    "value": button["value"],
                    "action_ts": "1.0",
                }
            ],
        },
    )


async def _open_editor(stack: Stack, channel: str = CHANNEL) -> dict[str, Any]:
    before = len(stack.sandbox.views_opened)
    answer = await stack.slack.slash_command("/reel", "preset", user_id=ALICE, channel_id=channel)
    assert answer.status_code == 200
    await stack.wait_for(lambda: len(stack.sandbox.views_opened) > before)
    return stack.sandbox.views_opened[-1]


async def _updated(stack: Stack, count: int) -> dict[str, Any]:
    await stack.wait_for(lambda: len(stack.sandbox.calls_to("views.update")) >= count)
    view_id = stack.sandbox.calls_to("views.update")[count - 1].params["view_id"]
    return next(v for v in stack.sandbox.views_opened if v["id"] == view_id)


async def _quick(stack: Stack, command: str, text: str, channel: str = CHANNEL) -> str:
    answer = await stack.slack.slash_command(command, text, user_id=ALICE, channel_id=channel)
    assert answer.status_code == 200
    return answer.text


async def _vizard_create(stack: Stack, count: int) -> dict[str, Any]:
    await stack.wait_for(lambda: len(stack.vizard.creates) >= count)
    return stack.vizard.creates[count - 1]


async def test_a_vizard_preset_for_general_fills_in_quick_commands_and_the_form_there(
    make_stack: StackFactory,
) -> None:
    stack = await _presets_stack(make_stack)
    view = await _open_editor(stack)
    assert view["callback_id"] == ids.PRESET_MODAL
    blocks = _blocks(view)
    assert blocks[ids.PRESET_CHANNEL_ACTION]["element"]["initial_conversation"] == CHANNEL
    assert "url" not in blocks, "a preset holds no video"
    state = _channel(CHANNEL) | _state(
        view,
        lang=_select("fr"),
        length={"type": "multi_static_select", "selected_options": [{"value": "2"}]},
        switches={"type": "checkboxes", "selected_options": [{"value": "subtitles"},
                  {"value": "headline"}]},
    )  # fmt: skip
    saved = await stack.slack.view_submission(view, state, user_id=ALICE)
    assert saved.status_code == 200
    answer = saved.json()
    assert answer["response_action"] == "update"
    said = answer["view"]["blocks"][0]["text"]["text"]
    assert f"<#{CHANNEL}>" in said and "French (fr)" in said and "30–60 s" in said  # noqa: RUF001

    reply = await _quick(stack, "/clip", LINK)
    assert "this channel's preset" in reply and "French (fr)" in reply
    create = await _vizard_create(stack, 1)
    assert (create["lang"], create["preferLength"]) == ("fr", [2])

    reply = await _quick(stack, "/clip", f"{LINK} lang=de")
    create = await _vizard_create(stack, 2)
    assert (create["lang"], create["preferLength"]) == ("de", [2]), "typed options win"
    assert "French" not in reply

    reply = await _quick(stack, "/clip", LINK, channel=RANDOM)
    create = await _vizard_create(stack, 3)
    assert (create["lang"], create["preferLength"]) == ("auto", [0]), "another channel"
    assert "preset" not in reply

    before = len(stack.sandbox.views_opened)
    await _quick(stack, "/clip", "")
    await stack.wait_for(lambda: len(stack.sandbox.views_opened) > before)
    form = _blocks(stack.sandbox.views_opened[-1])
    assert stack.sandbox.views_opened[-1]["callback_id"] == ids.REQUEST_MODAL
    assert form["lang"]["element"]["initial_option"]["value"] == "fr"
    assert [o["value"] for o in form["length"]["element"]["initial_options"]] == ["2"]
    assert "initial_value" not in form["url"]["element"]

    message = stack.sandbox.person_posts(CHANNEL, f"Our talk: <{LINK}>")
    await stack.slack.message_shortcut(
        "clip_video", user_id=ALICE, channel_id=CHANNEL, message_ts=message.ts,
        text=message.text,
    )  # fmt: skip
    await stack.wait_for(lambda: len(stack.sandbox.views_opened) > before + 1)
    form = _blocks(stack.sandbox.views_opened[-1])
    assert form["lang"]["element"]["initial_option"]["value"] == "fr", "the shortcut's form too"
    assert form["url"]["element"]["initial_value"] == LINK


async def test_an_avatar_preset_set_from_app_home_gives_heygen_its_avatar_and_voice(
    make_stack: StackFactory,
) -> None:
    stack = await _presets_stack(make_stack, heygen=True)
    assert stack.heygen is not None
    home = await _home(stack, ALICE)
    assert _presets_button(home) is not None, "an admin's home has the button"
    await _home_button(stack, ALICE, home)
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    blocks = _blocks(view)
    assert "initial_conversation" not in blocks[ids.PRESET_CHANNEL_ACTION]["element"]
    assert blocks[ids.PRESET_KIND_ACTION]["element"]["initial_option"]["value"] == "clips"

    await _click_in_view(
        stack, view, ids.PRESET_CHANNEL_ACTION, ALICE, _channel(CHANNEL),
        type="conversations_select", selected_conversation=CHANNEL,
    )  # fmt: skip
    view = await _updated(stack, 1)
    assert _blocks(view)[ids.PRESET_CHANNEL_ACTION]["element"]["initial_conversation"] == CHANNEL
    kind = {ids.PRESET_KIND_BLOCK: {ids.PRESET_KIND_ACTION: _select("avatar")}}
    await _click_in_view(
        stack, view, ids.PRESET_KIND_ACTION, ALICE, _channel(CHANNEL) | kind,
        type="static_select", selected_option={"value": "avatar"},
    )  # fmt: skip
    view = await _updated(stack, 2)
    blocks = _blocks(view)
    assert "avatar" in blocks and "script" not in blocks, "HeyGen's form, less the script"
    await stack.slack.view_select(
        view, blocks["avatar"]["block_id"], "avatar", TYLER, label="Tyler in a casual suit",
        element_type="external_select", values=_channel(CHANNEL),
    )  # fmt: skip
    view = await _updated(stack, 3)
    assert view["callback_id"] == ids.PRESET_MODAL, "a pick re-renders the editor, not a request"
    picked = _blocks(view)["avatar"]["element"]["initial_option"]
    assert (picked["value"], picked["text"]["text"]) == (TYLER, "Tyler in a casual suit")
    state = _channel(CHANNEL) | _state(
        view, avatar=_select(TYLER, "external_select"), voice=_select(SPANISH_VOICE,
        "external_select"),
    )  # fmt: skip
    saved = await stack.slack.view_submission(view, state, user_id=ALICE)
    assert saved.json()["response_action"] == "update", saved.text

    reply = await _quick(stack, "/avatar", "Hola, equipo.")
    assert "this channel's preset" in reply and "Tyler in a casual suit" in reply
    await stack.wait_for(lambda: bool(stack.heygen and stack.heygen.creates))
    [create] = stack.heygen.creates
    assert (create["avatar_id"], create["voice_id"]) == (TYLER, SPANISH_VOICE)

    view = await _open_editor(stack)
    blocks = _blocks(view)
    assert blocks[ids.PRESET_KIND_ACTION]["element"]["initial_option"]["value"] == "avatar"
    assert blocks["avatar"]["element"]["initial_option"]["value"] == TYLER


async def test_only_admins_set_presets_bad_values_are_field_errors_and_clearing_works(
    make_stack: StackFactory,
) -> None:
    stack = await _presets_stack(make_stack)
    answer = await stack.slack.slash_command("/reel", "preset", user_id=BOB, channel_id=CHANNEL)
    assert answer.status_code == 200
    await stack.wait_for(lambda: any(e.user == BOB for e in stack.sandbox.ephemerals))
    assert "Only workspace admins" in stack.sandbox.ephemerals[-1].text
    home = await _home(stack, BOB)
    assert _presets_button(home) is None, "a member's home has no button"
    await _home_button(stack, BOB, home)
    dm = stack.sandbox.dm_channel(BOB)

    def told_in_dm() -> bool:
        return any("Only workspace admins" in m.text for m in stack.sandbox.messages(dm))

    await stack.wait_for(told_in_dm)
    assert not stack.sandbox.views_opened, "no editor for a member"

    view = await _open_editor(stack)
    bad = _channel(CHANNEL) | _state(
        view, lang=_select("xx"),
        length={"type": "multi_static_select", "selected_options": [{"value": "0"},
                {"value": "2"}]},
    )  # fmt: skip
    answer = await stack.slack.view_submission(view, bad, user_id=ALICE)
    errors = answer.json()["errors"]
    blocks = _blocks(view)
    assert set(errors) == {blocks["lang"]["block_id"], blocks["length"]["block_id"]}
    assert "can't be combined" in errors[blocks["length"]["block_id"]]
    no_channel = _state(view, lang=_select("fr"))
    answer = await stack.slack.view_submission(view, no_channel, user_id=ALICE)
    assert answer.json()["errors"] == {ids.PRESET_CHANNEL_BLOCK: "Pick the channel these "
                                       "defaults are for."}  # fmt: skip
    good = _channel(CHANNEL) | _state(
        view, lang=_select("fr"),
        length={"type": "multi_static_select", "selected_options": [{"value": "0"}]},
    )  # fmt: skip
    answer = await stack.slack.view_submission(view, good, user_id=BOB)
    assert "Only workspace admins" in answer.json()["errors"][ids.PRESET_CHANNEL_BLOCK]
    assert await stack.runtime.store.config_all(stack.sandbox.team_id) == {}

    answer = await stack.slack.view_submission(view, good, user_id=ALICE)
    assert answer.json()["response_action"] == "update"
    assert list(await stack.runtime.store.config_all(stack.sandbox.team_id)) == [
        f"preset:{CHANNEL}:clips"
    ]

    view = await _open_editor(stack)
    assert _blocks(view)["lang"]["element"]["initial_option"]["value"] == "fr"
    await _click_in_view(
        stack, view, ids.PRESET_CLEAR_ACTION, ALICE, _channel(CHANNEL), type="button",
        value="clear",
    )  # fmt: skip
    view = await _updated(stack, 1)
    assert "Cleared the `/clip` preset" in json.dumps(view["blocks"])
    assert _blocks(view)["lang"]["element"]["initial_option"]["value"] == "auto"
    assert await stack.runtime.store.config_all(stack.sandbox.team_id) == {}
    await _quick(stack, "/clip", LINK)
    create = await _vizard_create(stack, 1)
    assert create["lang"] == "auto"


async def test_switching_provider_in_the_editor_keeps_it_an_editor_and_saves_cuttrs_fields(
    make_stack: StackFactory,
) -> None:
    stack = await _presets_stack(make_stack, cuttr=True)
    view = await _open_editor(stack)
    await stack.slack.view_select(
        view, ids.PROVIDER_BLOCK, ids.PROVIDER_ACTION, "cuttr", values=_channel(CHANNEL)
    )
    view = await _updated(stack, 1)
    blocks = _blocks(view)
    assert view["callback_id"] == ids.PRESET_MODAL and "clips" in blocks and "url" not in blocks
    state = _channel(CHANNEL) | _state(
        view, clips={"type": "number_input", "value": "5"}
    ) | {ids.PROVIDER_BLOCK: {ids.PROVIDER_ACTION: _select("cuttr")}}  # fmt: skip
    saved = await stack.slack.view_submission(view, state, user_id=ALICE)
    assert saved.json()["response_action"] == "update", saved.text
    assert "Cuttr" in saved.json()["view"]["blocks"][0]["text"]["text"]

    reply = await _quick(stack, "/clip", LINK)
    assert "Cuttr, number of clips 5" in reply
    [job] = await stack.jobs()
    assert (job.provider, job.request["num_clips"]) == ("cuttr", 5)
    await _quick(stack, "/clip", f"{LINK} provider=vizard")
    create = await _vizard_create(stack, 1)
    assert create["lang"] == "auto", "Vizard typed: the Cuttr preset does not apply"


async def test_the_presets_button_of_reel_settings_opens_the_editor_for_its_channel(
    make_stack: StackFactory,
) -> None:
    stack = await _presets_stack(make_stack)
    settings = await reel_reply(stack, "settings", ALICE, channel=RANDOM)
    buttons = [e for b in settings.blocks for e in b.get("elements") or []]
    [button] = [e for e in buttons if e.get("action_id") == ids.CHANNEL_PRESETS_ACTION]
    await stack.slack.block_action(
        ids.CHANNEL_PRESETS_ACTION, button["value"], user_id=ALICE, channel_id=RANDOM,
        message_ts="1700000000.000100",
    )  # fmt: skip
    await stack.wait_for(lambda: bool(stack.sandbox.views_opened))
    view = stack.sandbox.views_opened[-1]
    assert view["callback_id"] == ids.PRESET_MODAL
    assert _blocks(view)[ids.PRESET_CHANNEL_ACTION]["element"]["initial_conversation"] == RANDOM
    assert "`/reel preset`" in (await _quick(stack, "/reel", "help"))


async def test_save_says_in_time_that_slack_is_busy_when_users_info_is_rate_limited(
    make_stack: StackFactory,
) -> None:
    """Save asks Slack whether the person is an admin before it answers the form: users.info
    answering 429 with Retry-After 3 must not hold the answer past Slack's 3 s, and nothing
    is saved on a guess."""
    stack = await _presets_stack(make_stack)
    view = await _open_editor(stack)
    stack.clock.advance(120)  # what opening the editor learnt of the admin has expired
    stack.sandbox.fail_next("users.info", status=429, retry_after=3)
    state = _channel(CHANNEL) | _state(
        view, lang=_select("fr"),
        length={"type": "multi_static_select", "selected_options": [{"value": "0"}]},
    )  # fmt: skip
    started = time.monotonic()
    busy = await stack.slack.view_submission(view, state, user_id=ALICE)
    took = time.monotonic() - started
    assert busy.status_code == 200 and took < 3.0, f"HTTP {busy.status_code} after {took:.1f} s"
    assert "Slack is busy" in busy.json()["errors"][ids.PRESET_CHANNEL_BLOCK]
    assert await stack.runtime.store.config_all(stack.sandbox.team_id) == {}

    saved = await stack.slack.view_submission(view, state, user_id=ALICE)
    assert saved.json()["response_action"] == "update"
    assert list(await stack.runtime.store.config_all(stack.sandbox.team_id)) == [
        f"preset:{CHANNEL}:clips"
    ]
