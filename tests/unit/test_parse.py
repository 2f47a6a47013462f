from __future__ import annotations

import pytest

from bot import ids
from bot.parse import (
    Invalid,
    ModalErrors,
    OpenModal,
    ShowHelp,
    Submit,
    help_text,
    parse_clip_modal,
    parse_clip_text,
)
from tests.bad_inputs import BAD_CLIP_TEXTS


@pytest.mark.parametrize(
    ("text", "words"), [(t, w) for _, t, w in BAD_CLIP_TEXTS], ids=[i for i, _, _ in BAD_CLIP_TEXTS]
)
def test_bad_clip_text_is_refused_with_a_message_naming_the_problem(
    text: str, words: tuple[str, ...]
) -> None:
    outcome = parse_clip_text(text)
    assert isinstance(outcome, Invalid), outcome
    for word in words:
        assert word.lower() in outcome.message.lower(), outcome.message
    assert "Traceback" not in outcome.message


def test_empty_text_opens_the_modal() -> None:
    assert parse_clip_text("   ") == OpenModal()


@pytest.mark.parametrize("text", ["help", "HELP", " --help ", "?"])
def test_help_words_show_help(text: str) -> None:
    assert parse_clip_text(text) == ShowHelp()


def test_help_names_every_option_and_the_admin_step_when_unconfigured() -> None:
    text = help_text(configured=False)
    for key in ("lang=", "length=", "subtitles=", "headline=", "name="):
        assert key in text
    assert "VIZARD_API_KEY" in text


def test_plain_link_gets_vizard_defaults() -> None:
    outcome = parse_clip_text("https://videos.example.com/talk.MP4")
    assert isinstance(outcome, Submit)
    body = outcome.request.model_dump(by_alias=True, exclude_none=True)
    assert body == {
        "videoUrl": "https://videos.example.com/talk.MP4",
        "videoType": 1,
        "ext": "mp4",
        "lang": "auto",
        "preferLength": [0],
        "subtitleSwitch": 1,
        "headlineSwitch": 1,
    }


def test_options_map_to_vizard_fields() -> None:
    outcome = parse_clip_text(
        "<https://videos.example.com/a.mov|a.mov> lang=ZH-tw length=2,1 subtitles=off "
        "headline=no name=“Q3 all hands”"
    )
    assert isinstance(outcome, Submit)
    request = outcome.request
    assert (request.video_url, request.ext, request.lang) == (
        "https://videos.example.com/a.mov",
        "mov",
        "zh-TW",
    )
    assert request.prefer_length == [1, 2]
    assert (request.subtitle_switch, request.headline_switch) == (0, 0)
    assert request.project_name == "Q3 all hands"


def test_youtube_link_needs_no_extension() -> None:
    outcome = parse_clip_text("https://www.youtube.com/watch?v=abc123 length=auto")
    assert isinstance(outcome, Submit)
    assert outcome.request.video_type == 2
    assert outcome.request.ext is None


def _modal_values(
    url: str = "https://v.example.com/a.mp4",
    lang: str = "en",
    lengths: tuple[str, ...] = ("1",),
    switches: tuple[str, ...] = ("subtitles",),
    name: str | None = None,
) -> dict[str, object]:
    return {
        ids.URL_BLOCK: {ids.URL_BLOCK: {"type": "plain_text_input", "value": url}},
        ids.LANG_BLOCK: {
            ids.LANG_BLOCK: {"type": "static_select", "selected_option": {"value": lang}}
        },
        ids.LENGTH_BLOCK: {
            ids.LENGTH_BLOCK: {
                "type": "multi_static_select",
                "selected_options": [{"value": v} for v in lengths],
            }
        },
        ids.SWITCHES_BLOCK: {
            ids.SWITCHES_BLOCK: {
                "type": "checkboxes",
                "selected_options": [{"value": v} for v in switches],
            }
        },
        ids.NAME_BLOCK: {ids.NAME_BLOCK: {"type": "plain_text_input", "value": name}},
    }


def test_modal_values_become_a_request() -> None:
    outcome = parse_clip_modal(_modal_values(name="Launch"))
    assert isinstance(outcome, Submit)
    assert outcome.request.lang == "en"
    assert outcome.request.prefer_length == [1]
    assert (outcome.request.subtitle_switch, outcome.request.headline_switch) == (1, 0)
    assert outcome.request.project_name == "Launch"


def test_modal_errors_name_each_bad_field() -> None:
    outcome = parse_clip_modal(
        _modal_values(url="javascript:alert(1)", lengths=("0", "3"), name="x" * 101)
    )
    assert isinstance(outcome, ModalErrors)
    assert set(outcome.errors) == {ids.URL_BLOCK, ids.LENGTH_BLOCK, ids.NAME_BLOCK}


def test_modal_without_any_length_is_an_error() -> None:
    outcome = parse_clip_modal(_modal_values(lengths=()))
    assert isinstance(outcome, ModalErrors)
    assert ids.LENGTH_BLOCK in outcome.errors


def test_slack_escaping_in_command_text_is_undone() -> None:
    outcome = parse_clip_text("<https://cdn.example.com/a.mp4?sig=1&amp;exp=2> name=R&amp;D&lt;3")
    assert isinstance(outcome, Submit)
    assert outcome.request.video_url == "https://cdn.example.com/a.mp4?sig=1&exp=2"
    assert outcome.request.project_name == "R&D<3"


def test_youtube_link_with_a_start_time_survives_slack_escaping() -> None:
    outcome = parse_clip_text("https://www.youtube.com/watch?v=abc&amp;t=30")
    assert isinstance(outcome, Submit)
    assert outcome.request.video_url == "https://www.youtube.com/watch?v=abc&t=30"
