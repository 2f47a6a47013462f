from __future__ import annotations

import json

from bot import blocks, ids
from bot.jobs import Job, JobState
from providers.base import Output
from tests.factories import make_job


def _job() -> Job:
    return make_job(source="https://v.example.com/a.mp4?x=1&y=<2>", request={"projectName": "Q3"})


def _section_texts(body: list[dict[str, object]]) -> list[str]:
    return [str(b["text"]["text"]) for b in body if b["type"] == "section"]  # type: ignore[index]


def test_root_message_names_requester_source_provider_state_and_offers_cancel() -> None:
    text, body = blocks.root_message(_job(), "Vizard")
    rendered = json.dumps(body)
    assert "<@U1>" in rendered and "Vizard" in rendered and "Queued" in rendered
    assert "&amp;y=&lt;2&gt;" in rendered, "the source is escaped for mrkdwn"
    assert ids.CANCEL_ACTION in rendered
    assert text.endswith("queued")


def test_a_finished_job_has_no_cancel_button_and_says_why_it_failed() -> None:
    failed = _job().moved(JobState.FAILED, error="Vizard could not <download> it.")
    _, body = blocks.root_message(failed, "Vizard")
    assert ids.CANCEL_ACTION not in json.dumps(body)
    assert "could not &lt;download&gt; it." in json.dumps(body)


def test_clip_reply_carries_title_length_score_reason_excerpt_and_expiry() -> None:
    clip = Output(
        url="https://cdn.example.com/1.mp4",
        title="Hook <1>",
        duration_s=75.4,
        score=8.7,
        reason="Strong open",
        text="word " * 200,
        expires_at=1_800_000_000,
        editor_url="https://vizard.example.com/e/1",
    )
    text, body = blocks.clip_reply(1, 3, clip)
    assert text == "Clip 1/3: Hook &lt;1&gt;"
    rendered = json.dumps(body)
    for part in ("1/3", "1:15", "8.7/10", "Strong open", "Download the clip", "<!date^1800000000^"):
        assert part in rendered
    excerpt = next(t for t in _section_texts(body) if "> " in t)
    assert len(excerpt.split("> ", 1)[1]) <= blocks.EXCERPT


def test_a_link_too_long_for_a_section_is_never_cut() -> None:
    long_url = "https://cdn.example.com/clip.mp4?sig=" + "a" * 3200
    _, body = blocks.clip_reply(1, 1, Output(url=long_url, editor_url=long_url, title="t"))
    for text in _section_texts(body):
        assert len(text) <= 3000
        assert long_url[:100] not in text
    assert "too long" in json.dumps(body)


def test_clip_modal_fits_slack_limits() -> None:
    view = blocks.clip_modal('{"channel_id": "C1"}')
    assert len(view["blocks"]) <= 100
    assert all(len(view[k]["text"]) <= 24 for k in ("title", "submit", "close"))
    assert [b["block_id"] for b in view["blocks"]] == [
        ids.URL_BLOCK,
        ids.LANG_BLOCK,
        ids.LENGTH_BLOCK,
        ids.SWITCHES_BLOCK,
        ids.NAME_BLOCK,
    ]
    assert len(json.dumps(view)) < 250_000
