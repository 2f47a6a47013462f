"""Channel presets, pure parts: what a preset keeps, how it is read back, and how it merges
with what a person types (typed options win), for link and script commands alike."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bot import ids
from bot.kinds import KINDS
from bot.modals import ModalContext, state_values
from bot.parse import Offer, OpenModal, Submit, parse_command, parse_modal
from bot.preset_modal import preset_modal
from bot.presets import (
    Applied,
    ChannelPreset,
    KindPreset,
    apply_preset,
    fitted,
    preset_key,
    preset_values,
)
from providers.base import Description, JobKind
from providers.cuttr import CuttrProvider
from providers.forms import FieldType, Form, FormField
from providers.vizard import VizardProvider, VizardRequest

VIZARD = VizardProvider("k")
CUTTR = CuttrProvider("k")
CLIP_OFFERS: dict[str, Offer] = {"vizard": VIZARD, "cuttr": CUTTR}
LINK = "https://videos.example.com/talk.mp4"
FRENCH_SHORT = KindPreset("vizard", {"lang": "fr", "length": ["2"]})


def _vizard(outcome: object) -> VizardRequest:
    assert isinstance(outcome, Submit), outcome
    assert isinstance(outcome.request, VizardRequest)
    return outcome.request


def _clip(text: str, preset: KindPreset | None) -> tuple[object, Applied]:
    applied = apply_preset(CLIP_OFFERS, "vizard", preset)
    return parse_command(text, applied.offers, applied.default), applied


def test_a_link_alone_takes_the_presets_language_and_lengths() -> None:
    outcome, applied = _clip(LINK, FRENCH_SHORT)
    request = _vizard(outcome)
    assert (request.lang, request.prefer_length) == ("fr", [2])
    assert isinstance(outcome, Submit)
    assert set(applied.used(outcome)) == {"lang", "length"}


def test_a_typed_option_wins_over_the_preset_and_the_rest_still_applies() -> None:
    outcome, applied = _clip(f"{LINK} lang=de", FRENCH_SHORT)
    request = _vizard(outcome)
    assert (request.lang, request.prefer_length) == ("de", [2])
    assert isinstance(outcome, Submit)
    assert applied.used(outcome) == ("length",)


def test_without_a_preset_the_form_defaults_apply() -> None:
    request = _vizard(_clip(LINK, None)[0])
    assert (request.lang, request.prefer_length) == ("auto", [0])


def test_the_presets_provider_is_the_default_and_provider_typed_wins() -> None:
    preset = KindPreset("cuttr", {"clips": 5})
    outcome, applied = _clip(LINK, preset)
    assert isinstance(outcome, Submit) and outcome.provider == "cuttr"
    assert outcome.values["clips"] == 5 and applied.used(outcome) == ("clips",)
    outcome, applied = _clip(f"{LINK} provider=vizard", preset)
    assert isinstance(outcome, Submit) and outcome.provider == "vizard"
    assert applied.used(outcome) == (), "the preset is Cuttr's; Vizard's defaults hold"
    assert _vizard(outcome).lang == "auto"


def test_the_command_alone_opens_the_presets_provider_with_its_values_to_start() -> None:
    outcome, applied = _clip("", KindPreset("cuttr", {"clips": 5}))
    assert outcome == OpenModal("cuttr")
    assert applied.start("cuttr") == {"clips": 5}
    assert applied.start("vizard") == {}


def test_a_preset_of_a_provider_not_set_up_here_is_ignored() -> None:
    applied = apply_preset({"vizard": VIZARD}, "vizard", KindPreset("cuttr", {"clips": 5}))
    assert applied.default == "vizard" and applied.preset is None
    assert _vizard(parse_command(LINK, applied.offers, applied.default)).lang == "auto"


def test_stored_values_the_form_no_longer_takes_are_left_out() -> None:
    stored = {
        "lang": "xx",  # no such language
        "length": ["2", "9"],  # one length unknown: the whole value goes
        "subtitles": "yes",  # a switch stored as text
        "url": LINK,  # never part of a preset
        "colour": "red",  # no such field
        "headline": False,
        "name": "Weekly",
    }
    assert fitted(VIZARD.form, "Vizard", stored) == {"headline": False, "name": "Weekly"}
    assert fitted(CUTTR.form, "Cuttr", {"clips": 50}) == {}, "out of range"
    assert fitted(CUTTR.form, "Cuttr", {"clips": "5"}) == {}, "a number stored as text"
    assert fitted(CUTTR.form, "Cuttr", {"clips": 5}) == {"clips": 5}


def test_a_preset_keeps_only_the_fields_set_away_from_their_defaults() -> None:
    checked = {
        "url": LINK,
        "lang": "fr",
        "length": ("0",),
        "subtitles": True,
        "headline": False,
        "name": None,
    }
    assert preset_values(VIZARD.form, checked) == {"lang": "fr", "headline": False}


def test_each_kind_of_a_channel_preset_is_its_own_key_and_bad_ones_are_left_out() -> None:
    avatar = KindPreset("heygen", {"avatar": "Tyler"})
    stored = {
        "preset:C1:clips": FRENCH_SHORT.dump(),
        "preset:C1:avatar": avatar.dump(),
        "preset:C2:describe": KindPreset("viddyscribe", {}).dump(),
    }
    assert preset_key("C1", JobKind.CLIPS) == "preset:C1:clips"
    loaded = ChannelPreset.load(stored, "C1")
    assert loaded.kinds == {JobKind.CLIPS: FRENCH_SHORT, JobKind.AVATAR: avatar}
    assert json.loads(stored["preset:C1:clips"]) == {
        "provider": "vizard",
        "values": {"lang": "fr", "length": ["2"]},
    }
    bad = {
        "preset:C1:clips": json.dumps({"provider": "vizard", "values": {"lang": "fr"}}),
        "preset:C1:avatar": "3",
        "preset:C1:describe": "{not json",
        "preset:C1:dance": json.dumps({"provider": "vizard", "values": {}}),
    }
    assert ChannelPreset.load(bad, "C1").kinds == {
        JobKind.CLIPS: KindPreset("vizard", {"lang": "fr"})
    }
    assert ChannelPreset.load({}, "C1").kinds == {}


# --- a script form whose searchable fields depend on each other ------------------------------
FACES = Form(
    subject="script",
    summary="A presenter reads a script",
    example="Hello team",
    fields=(
        FormField("script", "Script", FieldType.TEXT, "what is said", required=True,
                  max_length=5000, multiline=True),
        FormField("avatar", "Avatar", FieldType.LOOKUP, "who presents", required=True),
        FormField("outfit", "Outfit", FieldType.LOOKUP, "what they wear", depends_on=("avatar",)),
        FormField("voice", "Voice", FieldType.LOOKUP, "who speaks"),
        FormField("captions", "Captions", FieldType.SWITCH, "captions", default=False),
    ),
)  # fmt: skip


class _Said(BaseModel):
    script: str
    avatar: str
    outfit: str | None = None
    voice: str | None = None


class _Faces:
    name, label, form = "faces", "Faces", FACES

    def build_request(self, values: Mapping[str, Any]) -> BaseModel:
        return _Said(**{k: values.get(k) for k in ("script", "avatar", "outfit", "voice")})

    def describe(self, request: BaseModel) -> Description:
        return Description(source="a script")


def _avatar(text: str) -> tuple[object, Applied]:
    preset = KindPreset("faces", {"avatar": "paige", "outfit": "navy", "voice": "sara"})
    applied = apply_preset({"faces": _Faces()}, "faces", preset)
    return parse_command(text, applied.offers, applied.default), applied


def test_a_script_alone_uses_the_presets_avatar_and_voice_instead_of_asking() -> None:
    outcome, applied = _avatar("Hello team")
    assert isinstance(outcome, Submit), outcome
    said = _Said(script="Hello team", avatar="paige", outfit="navy", voice="sara")
    assert outcome.request == said
    assert set(applied.used(outcome)) == {"avatar", "outfit", "voice"}


def test_a_typed_avatar_drops_the_presets_outfit_but_keeps_its_voice() -> None:
    outcome, _ = _avatar("avatar=jon Hello team")
    assert isinstance(outcome, Submit), outcome
    assert outcome.request == _Said(script="Hello team", avatar="jon", voice="sara")


def test_without_a_preset_a_script_alone_opens_the_form_to_pick_the_avatar() -> None:
    applied = apply_preset({"faces": _Faces()}, "faces", None)
    outcome = parse_command("Hello team", applied.offers, applied.default)
    assert isinstance(outcome, OpenModal)


# --- the editor --------------------------------------------------------------------------------
def test_the_editor_is_the_kinds_form_without_the_video_under_a_channel_and_kind() -> None:
    context = ModalContext(JobKind.CLIPS.value, "vizard", "C0GENERAL", preset=True)
    view = preset_modal(
        KINDS[JobKind.CLIPS], VIZARD.form, context, [("vizard", "Vizard"), ("cuttr", "Cuttr")],
        [("clips", "/clip (clips)")], {"lang": "fr"},
    )  # fmt: skip
    assert view["callback_id"] == ids.PRESET_MODAL
    assert ModalContext.load(view["private_metadata"]) == context
    actions = [(b.get("element") or {}).get("action_id") for b in view["blocks"]]
    assert "url" not in actions
    assert actions[:2] == [ids.PRESET_CHANNEL_ACTION, ids.PRESET_KIND_ACTION]
    [channel] = [b for b in view["blocks"] if b["block_id"] == ids.PRESET_CHANNEL_BLOCK]
    assert channel["element"]["initial_conversation"] == "C0GENERAL"
    [lang] = [b for b in view["blocks"] if b["block_id"] == "lang"]
    assert lang["element"]["initial_option"]["value"] == "fr"
    assert view["blocks"][-1]["elements"][0]["action_id"] == ids.PRESET_CLEAR_ACTION


def test_an_editor_filled_afresh_renews_every_field_block_and_still_parses() -> None:
    context = ModalContext(JobKind.CLIPS.value, "vizard", "C1", preset=True)
    fresh = context.reloaded(JobKind.CLIPS.value, "vizard", "C2")
    assert ModalContext.load(fresh.dump()) == fresh
    view = preset_modal(
        KINDS[JobKind.CLIPS], VIZARD.form, fresh, [("vizard", "Vizard"), ("cuttr", "Cuttr")],
        [("clips", "/clip (clips)")],
    )  # fmt: skip
    renewed = {b["block_id"] for b in view["blocks"] if b["type"] == "input"} - {
        ids.PRESET_CHANNEL_BLOCK,
        ids.PRESET_KIND_BLOCK,
    }
    assert renewed and all(b.endswith("~r1") for b in renewed), renewed
    state = {
        "lang~r1": {"lang": {"selected_option": {"value": "de"}}},
        "length~r1": {"length": {"selected_options": [{"value": "1"}]}},
        "switches~r1": {"switches": {"selected_options": [{"value": "headline"}]}},
    }
    entered, _ = state_values(state, VIZARD.form)
    assert entered == {"lang": "de", "length": ("1",), "subtitles": False, "headline": True}
    checked = parse_modal(state, VIZARD, {"url": LINK})
    assert isinstance(checked, Submit)
    assert preset_values(VIZARD.form, checked.values) == {
        "lang": "de", "length": ("1",), "subtitles": False,
    }  # fmt: skip
