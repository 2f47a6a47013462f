from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from bot import ids
from bot.help import help_text
from bot.parse import (
    Invalid,
    ModalErrors,
    Offer,
    OpenModal,
    ShowHelp,
    Submit,
    parse_command,
    parse_modal,
)
from providers.base import Description
from providers.forms import Choice, FieldError, FieldType, Form, FormField
from providers.vizard import VizardProvider, VizardRequest
from tests.bad_inputs import BAD_CLIP_TEXTS

VIZARD = VizardProvider("k")
OFFERS = {"vizard": VIZARD}


def parse(text: str) -> object:
    return parse_command(text, OFFERS, "vizard")


def request_of(outcome: object) -> VizardRequest:
    assert isinstance(outcome, Submit), outcome
    assert isinstance(outcome.request, VizardRequest)
    return outcome.request


@pytest.mark.parametrize(
    ("text", "words"), [(t, w) for _, t, w in BAD_CLIP_TEXTS], ids=[i for i, _, _ in BAD_CLIP_TEXTS]
)
def test_bad_clip_text_is_refused_with_a_message_naming_the_problem(
    text: str, words: tuple[str, ...]
) -> None:
    outcome = parse(text)
    assert isinstance(outcome, Invalid), outcome
    for word in words:
        assert word.lower() in outcome.message.lower(), outcome.message
    assert "Traceback" not in outcome.message


def test_empty_text_opens_the_modal_of_the_default_provider() -> None:
    assert parse("   ") == OpenModal("vizard")


@pytest.mark.parametrize("text", ["help", "HELP", " --help ", "?"])
def test_help_words_show_help(text: str) -> None:
    assert parse(text) == ShowHelp()


def test_help_names_every_option_and_the_admin_step_for_what_is_unconfigured() -> None:
    text = help_text("/clip", "clips", [VIZARD], [("Vizard", "VIZARD_API_KEY")])
    for key in ("lang=", "length=", "subtitles=", "headline=", "name="):
        assert key in text
    assert "VIZARD_API_KEY" in text
    assert "`/clip <video link> [options]`" in text


def test_plain_link_gets_vizard_defaults() -> None:
    outcome = parse("https://videos.example.com/talk.MP4")
    body = request_of(outcome).model_dump(by_alias=True, exclude_none=True)
    assert body == {
        "videoUrl": "https://videos.example.com/talk.MP4",
        "videoType": 1,
        "ext": "mp4",
        "lang": "auto",
        "preferLength": [0],
        "subtitleSwitch": 1,
        "headlineSwitch": 1,
    }
    assert isinstance(outcome, Submit)
    assert outcome.description == Description(source="https://videos.example.com/talk.MP4")


def test_options_map_to_vizard_fields() -> None:
    outcome = parse(
        "<https://videos.example.com/a.mov|a.mov> lang=ZH-tw length=2,1 subtitles=off "
        "headline=no name=“Q3 all hands”"
    )
    request = request_of(outcome)
    assert (request.video_url, request.ext, request.lang) == (
        "https://videos.example.com/a.mov",
        "mov",
        "zh-TW",
    )
    assert request.prefer_length == [1, 2]
    assert (request.subtitle_switch, request.headline_switch) == (0, 0)
    assert request.project_name == "Q3 all hands"
    assert isinstance(outcome, Submit) and outcome.description.title == "Q3 all hands"


def test_youtube_link_needs_no_extension() -> None:
    request = request_of(parse("https://www.youtube.com/watch?v=abc123 length=auto"))
    assert request.video_type == 2
    assert request.ext is None


def _modal_values(
    url: str = "https://v.example.com/a.mp4",
    lang: str = "en",
    lengths: tuple[str, ...] = ("1",),
    switches: tuple[str, ...] = ("subtitles",),
    name: str | None = None,
) -> dict[str, object]:
    return {
        "url": {"url": {"type": "plain_text_input", "value": url}},
        "lang": {"lang": {"type": "static_select", "selected_option": {"value": lang}}},
        "length": {
            "length": {
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
        "name": {"name": {"type": "plain_text_input", "value": name}},
    }


def test_modal_values_become_a_request() -> None:
    request = request_of(parse_modal(_modal_values(name="Launch"), VIZARD))
    assert request.lang == "en"
    assert request.prefer_length == [1]
    assert (request.subtitle_switch, request.headline_switch) == (1, 0)
    assert request.project_name == "Launch"


def test_modal_errors_name_each_bad_field() -> None:
    outcome = parse_modal(
        _modal_values(url="javascript:alert(1)", lengths=("0", "3"), name="x" * 101), VIZARD
    )
    assert isinstance(outcome, ModalErrors)
    assert set(outcome.errors) == {"url", "length", "name"}


def test_modal_without_any_length_is_an_error() -> None:
    outcome = parse_modal(_modal_values(lengths=()), VIZARD)
    assert isinstance(outcome, ModalErrors)
    assert "length" in outcome.errors


def test_a_forged_modal_choice_is_refused() -> None:
    outcome = parse_modal(_modal_values(lang="klingon"), VIZARD)
    assert isinstance(outcome, ModalErrors)
    assert "klingon" in outcome.errors["lang"]


def test_slack_escaping_in_command_text_is_undone() -> None:
    request = request_of(parse("<https://cdn.example.com/a.mp4?sig=1&amp;exp=2> name=R&amp;D&lt;3"))
    assert request.video_url == "https://cdn.example.com/a.mp4?sig=1&exp=2"
    assert request.project_name == "R&D<3"


def test_youtube_link_with_a_start_time_survives_slack_escaping() -> None:
    request = request_of(parse("https://www.youtube.com/watch?v=abc&amp;t=30"))
    assert request.video_url == "https://www.youtube.com/watch?v=abc&t=30"


# --- the parser knows no provider: a made-up form exercises every field type ----------------
class _Req(BaseModel):
    link: str
    size: int
    colour: str
    tags: list[str]
    loud: bool
    note: str | None


class _Made:
    name = "made"
    label = "Made Up"
    form = Form(
        subject="link",
        summary="Made-up things",
        example="https://x.example.com/a.mp4 size=3",
        fields=(
            FormField("link", "Video link", FieldType.URL, "a link", required=True),
            FormField(
                "size", "Size", FieldType.INTEGER, "how big", default=2, minimum=1, maximum=5
            ),
            FormField(
                "colour",
                "Colour",
                FieldType.CHOICE,
                "a colour",
                choices=(Choice("red", "Red"), Choice("blue", "Blue", aliases=("navy",))),
                default="red",
            ),
            FormField(
                "tags",
                "Tags",
                FieldType.CHOICES,
                "tags",
                choices=(Choice("a", "A"), Choice("b", "B"), Choice("c", "C")),
                default=(),
                maximum=2,
            ),
            FormField("loud", "Loud", FieldType.SWITCH, "noise", default=False),
            FormField("note", "Note", FieldType.TEXT, "a note", max_length=10),
        ),
    )

    def build_request(self, values: Mapping[str, Any]) -> BaseModel:
        if values["size"] == 4 and values["loud"]:
            raise FieldError("size", "Size 4 is never loud.")
        return _Req(
            link=values["link"],
            size=values["size"],
            colour=values["colour"],
            tags=list(values["tags"]),
            loud=values["loud"],
            note=values["note"],
        )

    def describe(self, request: BaseModel) -> Description:
        assert isinstance(request, _Req)
        return Description(source=request.link, title=request.note)


MADE: dict[str, Offer] = {"made": _Made()}


def test_every_field_type_is_checked_by_its_type() -> None:
    outcome = parse_command(
        "https://x.example.com/a.mp4 size=5 colour=NAVY tags=a,b loud=on note=hi",
        MADE,
        "made",
    )
    assert isinstance(outcome, Submit)
    assert outcome.request == _Req(
        link="https://x.example.com/a.mp4",
        size=5,
        colour="blue",
        tags=["a", "b"],
        loud=True,
        note="hi",
    )
    assert outcome.description.title == "hi"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("size=9", ("from 1 to 5", "9")),
        ("size=big", ("big", "whole number")),
        ("colour=green", ("green", "red", "blue")),
        ("tags=a,b,c", ("at most 2",)),
        ("tags=z", ("`z`",)),
        ("loud=maybe", ("loud=on",)),
        ("note=" + "n" * 11, ("10",)),
        ("size=4 loud=on", ("never loud",)),
        ("provider=other", ("`provider=other` is not set up", "`made`")),
    ],
)
def test_each_type_refuses_what_it_cannot_take(options: str, words: tuple[str, ...]) -> None:
    outcome = parse_command(f"https://x.example.com/a.mp4 {options}", MADE, "made")
    assert isinstance(outcome, Invalid), outcome
    for word in words:
        assert word in outcome.message, outcome.message


def test_with_two_providers_the_text_may_choose_one() -> None:
    both: dict[str, Offer] = {"vizard": VIZARD, "made": _Made()}
    chosen = parse_command("https://x.example.com/a.mp4 provider=made size=1", both, "vizard")
    assert isinstance(chosen, Submit) and chosen.provider == "made"
    default = parse_command("https://x.example.com/a.mp4", both, "vizard")
    assert isinstance(default, Submit) and default.provider == "vizard"
    unknown = parse_command("https://x.example.com/a.mp4 provider=nope", both, "vizard")
    assert isinstance(unknown, Invalid) and "`vizard`" in unknown.message
    assert parse_command("provider=made", both, "vizard") == OpenModal("made")


@pytest.mark.parametrize(
    "text",
    [
        "https://a.example.com/a.mp4 provider=`x`<!here>",
        "https://a.example.com/a.mp4 lang=<!channel>",
        "https://a.example.com/a.mp4 <@U0BOSS>=1",
        "https://a.example.com/a.mp4 subtitles=`<!everyone>`",
    ],
)
def test_a_refusal_never_echoes_markup_back(text: str) -> None:
    outcome = parse(text)
    assert isinstance(outcome, Invalid), outcome
    for markup in ("<!here>", "<!channel>", "<@U0BOSS>", "<!everyone>"):
        assert markup not in outcome.message
    assert outcome.message.count("`") % 2 == 0, "no code span is left open"
