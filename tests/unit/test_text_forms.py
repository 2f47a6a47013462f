"""Forms whose subject is free text (a script) and whose fields search a provider's lists:
command parsing, modal state, the modal builder and the options answers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bot import ids
from bot.catalogs import matching, options_payload
from bot.kinds import KINDS
from bot.modals import ModalContext, request_modal, state_values
from bot.parse import Invalid, OpenModal, Submit, parse_command, parse_modal, plain_text
from bot.sandbox.validation import options_response_problems
from providers.base import Description, JobKind
from providers.forms import Choice, FieldType, Form, FormField

FORM = Form(
    subject="script",
    summary="Make a presenter read a script",
    example="Hello team",
    fields=(
        FormField("script", "Script", FieldType.TEXT, "what the avatar says", required=True,
                  max_length=5000, multiline=True),
        FormField("avatar", "Avatar", FieldType.LOOKUP, "who presents", required=True),
        FormField("outfit", "Outfit", FieldType.LOOKUP, "what they wear", depends_on=("avatar",)),
        FormField("captions", "Captions", FieldType.SWITCH, "captions", default=False),
        FormField("title", "Title", FieldType.TEXT, "a title", max_length=100),
    ),
)  # fmt: skip


class _Request(BaseModel):
    script: str
    avatar: str
    outfit: str | None = None
    captions: bool = False


class _Avatars:
    label = "Faces"

    def __init__(self, form: Form = FORM, name: str = "faces") -> None:
        self.form = form
        self.name = name

    def build_request(self, values: Mapping[str, Any]) -> BaseModel:
        return _Request(
            script=values["script"],
            avatar=values["avatar"],
            outfit=values.get("outfit"),
            captions=bool(values.get("captions")),
        )

    def describe(self, request: BaseModel) -> Description:
        assert isinstance(request, _Request)
        return Description(source=request.script[:20])


WITH_DEFAULT = _Avatars(FORM.with_defaults({"avatar": "anna-1"}))
NO_DEFAULT = _Avatars()


def test_a_script_with_apostrophes_and_quotes_is_kept_word_for_word() -> None:
    text = "It's \"great\" news: we've shipped, don't miss it!"
    outcome = parse_command(text, {"faces": WITH_DEFAULT}, "faces")
    assert isinstance(outcome, Submit), outcome
    assert isinstance(outcome.request, _Request)
    assert outcome.request.script == text
    assert outcome.defaults_used == ("avatar",)


def test_leading_options_are_read_and_the_rest_is_the_script() -> None:
    text = 'avatar=bob-2 captions=on Hello avatar=not-an-option, "quoted" text'
    outcome = parse_command(text, {"faces": NO_DEFAULT}, "faces")
    assert isinstance(outcome, Submit), outcome
    assert isinstance(outcome.request, _Request)
    assert outcome.request.avatar == "bob-2"
    assert outcome.request.captions is True
    assert outcome.request.script == 'Hello avatar=not-an-option, "quoted" text'
    assert outcome.defaults_used == ()


def test_without_a_default_avatar_the_modal_opens_with_the_script_filled_in() -> None:
    outcome = parse_command("Welcome aboard", {"faces": NO_DEFAULT}, "faces")
    assert outcome == OpenModal("faces", {"script": "Welcome aboard"})


def test_a_provider_option_picks_the_provider_and_an_unknown_one_is_refused() -> None:
    offers = {
        "faces": NO_DEFAULT,
        "other": _Avatars(FORM.with_defaults({"avatar": "o-1"}), "other"),
    }
    picked = parse_command("provider=other Hi there", offers, "faces")
    assert isinstance(picked, Submit) and picked.provider == "other"
    refused = parse_command("provider=nope Hi there", offers, "faces")
    assert isinstance(refused, Invalid) and "`faces`" in refused.message


def test_a_script_over_the_limit_is_refused_with_its_length() -> None:
    outcome = parse_command("x" * 5001, {"faces": WITH_DEFAULT}, "faces")
    assert isinstance(outcome, Invalid)
    assert "5,000" in outcome.message and "5,001" in outcome.message


def test_an_id_with_spaces_is_refused() -> None:
    outcome = parse_command('avatar="two words" Hi', {"faces": WITH_DEFAULT}, "faces")
    assert isinstance(outcome, Invalid) and "avatar id" in outcome.message


def test_slack_markup_in_a_message_reads_as_a_person_reads_it() -> None:
    text = "Hi <@U123>, see <https://x.example/a|the doc> in <#C1|general> &amp; <!here>"
    assert plain_text(text) == "Hi @U123, see the doc in #general & @here"


def _state(**picked: str) -> dict[str, Any]:
    values: dict[str, Any] = {"script": {"script": {"type": "plain_text_input", "value": "Hi"}}}
    for name, value in picked.items():
        block = f"{name}~3" if name == "outfit" else name
        values[block] = {
            name: {
                "type": "external_select",
                "selected_option": {"value": value, "text": {"type": "plain_text", "text": "X"}},
            }
        }
    return values


def test_modal_state_reads_picks_under_re_rendered_block_ids() -> None:
    result = parse_modal(_state(avatar="anna-1", outfit="red"), NO_DEFAULT)
    assert isinstance(result, Submit), result
    assert isinstance(result.request, _Request)
    assert (result.request.avatar, result.request.outfit) == ("anna-1", "red")


def test_a_modal_without_an_avatar_gets_an_error_under_it() -> None:
    result = parse_modal(_state(), NO_DEFAULT)
    assert result == parse_modal(_state(avatar=ids.NO_CHOICE), NO_DEFAULT)
    assert not isinstance(result, Submit)
    assert "avatar" in result.errors["avatar"].lower()


def test_the_modal_renders_searchable_fields_with_the_pick_and_its_preview() -> None:
    context = ModalContext(JobKind.AVATAR.value, "faces", "C1", revision=2, switches=1)
    anna = Choice("anna-1", "Anna", description="female", image_url="https://cdn.example/a.png")
    view = request_modal(
        KINDS[JobKind.AVATAR], FORM, context, values={"avatar": "anna-1"}, chosen={"avatar": anna}
    )
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    # Re-keyed on a provider switch only; the outfit (it depends on the avatar) every time.
    avatar = blocks["avatar~s1"]
    assert avatar["dispatch_action"] is True
    assert avatar["element"]["type"] == "external_select"
    assert avatar["element"]["initial_option"]["value"] == "anna-1"
    assert blocks["preview:avatar"]["elements"][0]["image_url"] == "https://cdn.example/a.png"
    assert "initial_option" not in blocks["outfit~2"]["element"]
    entered, picked = state_values(_state(avatar="anna-1"), FORM)
    assert entered["avatar"] == "anna-1" and picked["avatar"].label == "X"


def test_options_answers_keep_to_slacks_limits_and_group_by_language() -> None:
    voices = tuple(
        Choice(f"v{n}", f"Voice {n} " + "x" * 80, description="d" * 90, group=f"Lang {n % 3}")
        for n in range(250)
    )
    answer = options_payload(list(voices))
    assert options_response_problems(answer) == []
    assert sum(len(g["options"]) for g in answer["option_groups"]) == 100
    assert {g["label"]["text"] for g in answer["option_groups"]} == {"Lang 0", "Lang 1", "Lang 2"}
    noted = options_payload([], note="Loading the list")
    assert noted["options"][0]["value"] == ids.NO_CHOICE


def test_matching_needs_every_word_typed_in_the_name_description_or_group() -> None:
    choices = (
        Choice("1", "Sara", description="female", group="English"),
        Choice("2", "Jean", description="male", group="French"),
    )
    assert [c.value for c in matching(choices, "french")] == ["2"]
    assert [c.value for c in matching(choices, "SARA english")] == ["1"]
    assert [c.value for c in matching(choices, "")] == ["1", "2"]
    assert matching(choices, "sara french") == []


def test_prose_keeps_emoji_joiners_soft_hyphens_direction_marks_and_line_breaks() -> None:
    hebrew = "\u200f\u05e9\u05dc\u05d5\u05dd\u200f"
    text = f"Meet our dev team 👩\u200d💻!\nCo\u00adoperation {hebrew}, “quoted”."
    outcome = parse_command(text, {"faces": WITH_DEFAULT}, "faces")
    assert isinstance(outcome, Submit), outcome
    assert isinstance(outcome.request, _Request)
    assert outcome.request.script == text


def test_invisible_controls_are_still_refused_in_a_script() -> None:
    for bad in ("Hi\u0007 there", "Hi\u202e there", "Hi\u200b there"):
        outcome = parse_command(bad, {"faces": WITH_DEFAULT}, "faces")
        assert isinstance(outcome, Invalid), bad


def test_curly_quotes_work_around_option_values_only() -> None:
    outcome = parse_command("title=“Launch day” It\u2019s “here”", {"faces": WITH_DEFAULT}, "faces")
    assert isinstance(outcome, Submit), outcome
    assert outcome.values["title"] == "Launch day"
    assert isinstance(outcome.request, _Request) and outcome.request.script == "It\u2019s “here”"


def test_a_script_too_long_for_the_form_is_refused_before_the_modal_opens() -> None:
    outcome = parse_command("x" * 3500, {"faces": NO_DEFAULT}, "faces")
    assert isinstance(outcome, Invalid)
    assert "3,000" in outcome.message and "`avatar=<id>`" in outcome.message
    long_title = parse_command("title=" + "t" * 150 + " Hi", {"faces": NO_DEFAULT}, "faces")
    assert isinstance(long_title, Invalid) and "100" in long_title.message
    only_options = parse_command("captions=on", {"faces": NO_DEFAULT}, "faces")
    assert only_options == OpenModal("faces", {"captions": True})
