from __future__ import annotations

import json
from typing import Any

import pytest

from bot import blocks, ids, mrkdwn
from bot.jobs import Job, JobState
from bot.kinds import KINDS
from bot.modals import ModalContext, request_modal
from bot.sandbox.transcript import render_blocks
from providers.base import Clip, ErrorKind, File, JobKind, Video
from providers.vizard import FORM
from tests.factories import make_job


def _job(**changes: Any) -> Job:
    return make_job(source="https://v.example.com/a.mp4?x=1&y=<2>", title="Q3", **changes)


def _section_texts(body: list[dict[str, object]]) -> list[str]:
    return [str(b["text"]["text"]) for b in body if b["type"] == "section"]  # type: ignore[index]


def test_root_message_names_requester_source_provider_state_and_offers_cancel() -> None:
    text, body = blocks.root_message(_job(), "Vizard")
    rendered = json.dumps(body)
    assert "<@U1>" in rendered and "Vizard" in rendered and "Queued" in rendered
    assert "&amp;y=&lt;2&gt;" in rendered, "the source is escaped for mrkdwn"
    assert ids.CANCEL_ACTION in rendered
    assert text == "Queued: clips from Vizard for Q3"


def test_nothing_a_person_typed_can_mention_the_channel_in_blocks_or_fallback_text() -> None:
    job = make_job(
        source="https://v.example.com/<!channel>.mp4", title="<!here> <@U0BOSS> <#C0X|x>"
    )
    text, body = blocks.root_message(job, "Vizard")
    for shown in (text, json.dumps(body)):
        assert "<!channel>" not in shown and "<!here>" not in shown
        assert "<@U0BOSS>" not in shown and "<#C0X" not in shown
    assert "&lt;!here&gt;" in text
    untitled, _ = blocks.root_message(job.changed(title=None), "Vizard")
    assert "&lt;!channel&gt;" in untitled and "<!channel>" not in untitled


def test_a_finished_job_has_no_cancel_button_and_says_why_it_failed() -> None:
    failed = _job().moved(JobState.FAILED, error="Vizard could not <download> it.")
    _, body = blocks.root_message(failed, "Vizard")
    assert ids.CANCEL_ACTION not in json.dumps(body)
    assert "could not &lt;download&gt; it." in json.dumps(body)


def test_a_job_awaiting_confirmation_shows_the_price_with_confirm_and_cancel() -> None:
    job = _job(
        state=JobState.AWAITING_CONFIRMATION,
        quoted_cents=300,
        notice="2 clips will cost $3.00 from the team wallet.",
    )
    _, body = blocks.root_message(job, "Made")
    lines = render_blocks(body)
    assert any("Waiting for @U1 to confirm" in line and "$3.00" in line for line in lines)
    assert "[Confirm] [Cancel]" in lines
    assert "quoted $3.00" in json.dumps(body)
    charged = job.moved(JobState.QUEUED).changed(charged_cents=450)
    assert "charged $4.50 (quoted $3.00)" in json.dumps(blocks.root_message(charged, "Made")[1])


def test_clip_reply_carries_title_length_score_reason_excerpt_and_expiry() -> None:
    clip = Clip(
        url="https://cdn.example.com/1.mp4",
        title="Hook <1>",
        duration_s=75.4,
        score=8.7,
        reason="Strong open",
        transcript="word " * 200,
        expires_at=1_800_000_000,
        editor_url="https://vizard.example.com/e/1",
    )
    text, body = blocks.result_reply(1, 3, clip)
    assert text == "Clip 1 of 3: Hook &lt;1&gt;"
    rendered = json.dumps(body)
    for part in ("1/3", "1:15", "8.7/10", "Strong open", "Download the clip", "<!date^1800000000^"):
        assert part in rendered
    excerpt = next(t for t in _section_texts(body) if "> " in t)
    assert len(excerpt.split("> ", 1)[1]) <= blocks.EXCERPT


def test_a_link_too_long_for_a_section_is_never_cut() -> None:
    long_url = "https://cdn.example.com/clip.mp4?sig=" + "a" * 3200
    _, body = blocks.result_reply(1, 1, Clip(url=long_url, editor_url=long_url, title="t"))
    for text in _section_texts(body):
        assert len(text) <= 3000
        assert long_url[:100] not in text
    assert "too long" in json.dumps(body)


def test_a_link_cannot_close_its_own_markup() -> None:
    shown = mrkdwn.link("https://x.example.com/a|b><!channel>", "<label>")
    assert shown == "<https://x.example.com/a%7Cb%3E%3C!channel%3E|&lt;label&gt;>"


def test_video_and_file_replies_say_what_they_are() -> None:
    video = Video(
        url="https://cdn.example.com/v.mp4",
        title="Welcome",
        duration_s=62,
        thumbnail_url="https://cdn.example.com/v.jpg",
        expires_at=1_800_000_000,
    )
    text, body = blocks.result_reply(1, 1, video)
    assert text == "Welcome is ready"
    assert body[-1] == {
        "type": "image",
        "image_url": "https://cdn.example.com/v.jpg",
        "alt_text": "Thumbnail of Welcome",
    }
    assert "1:02" in json.dumps(body) and "Download the video" in json.dumps(body)
    file = File(name="talk.vtt", media_type="text/vtt", text="WEBVTT\n\n00:01 ```A door```")
    _, body = blocks.result_reply(1, 2, file)
    rendered = json.dumps(body)
    assert "talk.vtt" in rendered and "WEBVTT" in rendered
    assert rendered.count("```") == 2, "the text cannot end its own code block"


def test_the_modal_is_built_from_the_form_and_fits_slack_limits() -> None:
    context = ModalContext(JobKind.CLIPS.value, "vizard", "C1")
    view = request_modal(KINDS[JobKind.CLIPS], FORM, context)
    assert len(view["blocks"]) <= 100
    assert all(len(view[k]["text"]) <= 24 for k in ("title", "submit", "close"))
    assert [b["block_id"] for b in view["blocks"]] == [
        "url",
        "lang",
        "length",
        ids.SWITCHES_BLOCK,
        "name",
    ]
    switches = view["blocks"][3]["element"]
    assert [o["value"] for o in switches["initial_options"]] == ["subtitles", "headline"]
    assert ModalContext.load(view["private_metadata"]) == context
    assert len(json.dumps(view)) < 250_000


def test_with_several_providers_the_modal_starts_with_a_provider_switch() -> None:
    context = ModalContext(JobKind.CLIPS.value, "vizard", "C1", thread_ts="1.2")
    view = request_modal(
        KINDS[JobKind.CLIPS], FORM, context, [("vizard", "Vizard"), ("made", "Made")]
    )
    first = view["blocks"][0]
    assert first["block_id"] == ids.PROVIDER_BLOCK and first["dispatch_action"] is True
    assert first["element"]["initial_option"]["value"] == "vizard"
    assert ModalContext.load(view["private_metadata"]) == context


def test_numbers_a_provider_gets_wrong_read_as_unknown() -> None:
    clip = Clip(url="https://x/1.mp4", duration_s=float("nan"), score=float("inf"))
    assert (clip.duration_s, clip.score) == (None, None)
    assert Video(url="https://x/v.mp4", duration_s=-3).duration_s is None
    _, body = blocks.result_reply(1, 1, clip)
    assert "unknown length" in json.dumps(body)
    assert blocks.duration(float("nan")) == "unknown length"


def test_urls_too_long_for_their_block_are_left_out_not_sent() -> None:
    huge = "https://cdn.example.com/" + "a|<>" * 800
    video = Video(url="https://cdn.example.com/v.mp4", thumbnail_url=huge)
    _, body = blocks.result_reply(1, 1, video)
    assert "image" not in json.dumps(body)
    _, body = blocks.result_reply(1, 1, Clip(url="https://x/1.mp4", editor_url=huge))
    for block in body:
        for element in block.get("elements", []):
            assert len(element["text"]) <= 3000


def test_a_job_that_ended_after_a_charge_or_a_lost_create_says_the_money() -> None:
    charged = _job(quoted_cents=300, charged_cents=450).changed(
        state=JobState.CANCELLED, cancelled_by="U1"
    )
    lost = _job(quoted_cents=300).changed(
        state=JobState.FAILED, error="Cuttr did not confirm it.", error_kind=ErrorKind.CREATE_LOST
    )
    refused = _job(quoted_cents=300).changed(
        state=JobState.FAILED, error="The wallet is empty.", error_kind=ErrorKind.NEEDS_ADMIN
    )
    assert "Cuttr had already charged $4.50" in json.dumps(blocks.root_message(charged, "Cuttr"))
    assert "may have charged up to $3.00" in json.dumps(blocks.root_message(lost, "Cuttr"))
    shown = json.dumps(blocks.root_message(refused, "Cuttr"))
    assert "already charged" not in shown and "may have charged" not in shown


def test_thumbnails_are_image_blocks_only_for_web_addresses() -> None:
    clip = Clip(
        url="https://x/1.mp4", title="Hook <1>", thumbnail_url="http://cdn.example.com/1.png"
    )
    _, body = blocks.result_reply(2, 3, clip)
    assert body[-1] == {
        "type": "image",
        "image_url": "http://cdn.example.com/1.png",
        "alt_text": "Thumbnail of Hook <1>",
    }, "alt text is plain text: shown as the provider wrote it"
    for odd in ("javascript:alert(1)", "ftp://cdn.example.com/1.png", "", "/1.png"):
        _, body = blocks.result_reply(1, 1, Video(url="https://x/v.mp4", thumbnail_url=odd))
        assert all(b["type"] != "image" for b in body)
    _, body = blocks.result_reply(
        1, 1, Video(url="https://x/v.mp4", thumbnail_url="https://t/v.jpg")
    )
    assert body[-1]["alt_text"] == "Thumbnail of your video"


def test_the_last_result_mentions_the_requester_in_text_and_blocks() -> None:
    clips = [Clip(url=f"https://x/{n}.mp4", title=f"Moment {n}") for n in (1, 2, 3)]
    text, body = blocks.result_reply(1, 3, clips[0])
    assert text == "Clip 1 of 3: Moment 1" and "<@" not in json.dumps(body)
    text, body = blocks.result_reply(3, 3, clips[2], requester="U0ALICE")
    assert text == "<@U0ALICE> Clip 3 of 3: Moment 3 (all 3 clips are ready)"
    assert body[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "<@U0ALICE> all 3 clips are ready."}],
    }
    text, body = blocks.result_reply(1, 1, Video(url="https://x/v.mp4"), requester="U0BOB")
    assert text == "<@U0BOB> Your video is ready"
    assert body[-1]["elements"][0]["text"] == "<@U0BOB> your video is ready."


@pytest.mark.parametrize(
    ("state", "changes", "expected"),
    [
        (JobState.AWAITING_CONFIRMATION, {}, "Waiting for confirmation: clips from Vizard for Q3"),
        (JobState.SUBMITTED, {}, "Submitted to Vizard: clips for Q3"),
        (JobState.RENDERING, {"percent": 41.6}, "Vizard is making the clips (42%): Q3"),
        (JobState.DONE, {"outputs": [Clip(url="https://x/1.mp4")] * 3},
         "Done: 3 clips from Vizard for Q3"),
        (JobState.DONE, {}, "Done, but Vizard found no clips in this video: Q3"),
        (JobState.FAILED, {"error": "Vizard could not *download* `it`."},
         "Failed: clips from Vizard for Q3. Vizard could not download it."),
        (JobState.CANCELLED, {"cancelled_by": "U1"}, "Cancelled: clips from Vizard for Q3"),
    ],
)  # fmt: skip
def test_the_root_fallback_text_says_what_happened_in_plain_words(
    state: JobState, changes: dict[str, Any], expected: str
) -> None:
    job = _job().model_copy(update={"state": state, **changes})
    text, _ = blocks.root_message(job, "Vizard")
    assert text == expected


def test_a_waiting_job_says_its_place_in_the_fallback_text_too() -> None:
    job = _job(
        notice="2nd in line for Vizard, about 2 minutes: Vizard accepts 3 new requests a minute."
    )
    text, body = blocks.root_message(job, "Vizard")
    assert text == (
        "Queued: clips from Vizard for Q3. 2nd in line for Vizard, about 2 minutes: "
        "Vizard accepts 3 new requests a minute."
    )
    assert "2nd in line for Vizard, about 2 minutes" in json.dumps(body)


def test_a_job_that_ended_without_results_says_so_to_the_requester() -> None:
    failed = _job(user_id="U0ALICE").moved(JobState.FAILED, error="Vizard could not *fetch* <it>.")
    text, body = blocks.end_reply(failed, "Vizard")
    assert text == "<@U0ALICE> Failed: Vizard could not fetch &lt;it&gt;."
    assert body == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "<@U0ALICE> *Failed:* Vizard could not *fetch* &lt;it&gt;.",
            },
        }
    ]
    empty = _job(user_id="U0ALICE").moved(JobState.SUBMITTING).moved(JobState.SUBMITTED)
    text, _ = blocks.end_reply(empty.moved(JobState.DONE), "Vizard")
    assert text == "<@U0ALICE> Done, but Vizard found no clips in this video."
