"""How a ViddyScribe audio description is asked for in Slack: the fields, and the rules that
join them.

The language names come from the seed document and docs.viddyscribe.com's overview (52 names;
the current overview counts 53 codes and links a "Languages and Voices" page that no stored
copy holds). Only `en-US` is spelled out as a code there: the other codes are the locales of
the Google voices ViddyScribe's voices are named after (Achernar, ...), which cover exactly
these 52 languages plus Cantonese (yue-HK), taken as the 53rd. All of it is assumed, so
VIDDYSCRIBE_LANGUAGES can replace the list. The 31 voice ids are not listed anywhere read
either: the voices offered are the 30 star-named Google voices ViddyScribe's example
(Achernar) comes from, assumed, and VIDDYSCRIBE_VOICES replaces that list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from providers.base import MediaFile
from providers.forms import FILE_VALUE, Choice, FieldError, FieldType, Form, FormField
from providers.viddyscribe.api import (
    DEFAULT_CATEGORY,
    DEFAULT_FORMAT,
    DEFAULT_LANGUAGE,
    FORMATS,
    OUTPUTS,
    ViddyScribeRequest,
)

MAX_URL = 2000
MAX_INSTRUCTIONS = 1000  # assumed: no limit is documented
VOICE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
# Assumed (see above): the Google voices named after stars, as ViddyScribe's "Achernar" is.
VOICES: tuple[str, ...] = (
    "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe",
    "Charon", "Despina", "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore",
    "Laomedeia", "Leda", "Orus", "Puck", "Pulcherrima", "Rasalgethi", "Sadachbia",
    "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix", "Zephyr", "Zubenelgenubi",
)  # fmt: skip

# (code, readable name, other words a person may type)
LANGUAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("en-US", "English (US)", ("en", "english")),
    ("en-GB", "English (UK)", ("en-uk",)),
    ("en-AU", "English (Australia)", ()),
    ("en-IN", "English (India)", ()),
    ("es-ES", "Spanish (Spain)", ("es", "spanish")),
    ("es-US", "Spanish (US)", ()),
    ("fr-FR", "French (France)", ("fr", "french")),
    ("fr-CA", "French (Canada)", ()),
    ("de-DE", "German", ("de", "german")),
    ("it-IT", "Italian", ("it", "italian")),
    ("pt-BR", "Portuguese (Brazil)", ("pt", "portuguese")),
    ("ja-JP", "Japanese", ("ja", "japanese")),
    ("ko-KR", "Korean", ("ko", "korean")),
    ("cmn-CN", "Chinese (Mandarin)", ("zh", "zh-cn", "cmn", "chinese", "mandarin")),
    ("ar-XA", "Arabic", ("ar", "arabic")),
    ("hi-IN", "Hindi", ("hi", "hindi")),
    ("bn-IN", "Bengali", ("bn", "bengali")),
    ("bg-BG", "Bulgarian", ("bg", "bulgarian")),
    ("hr-HR", "Croatian", ("hr", "croatian")),
    ("cs-CZ", "Czech", ("cs", "czech")),
    ("da-DK", "Danish", ("da", "danish")),
    ("nl-NL", "Dutch (Netherlands)", ("nl", "dutch")),
    ("nl-BE", "Dutch (Belgium)", ("flemish",)),
    ("et-EE", "Estonian", ("et", "estonian")),
    ("fi-FI", "Finnish", ("fi", "finnish")),
    ("el-GR", "Greek", ("el", "greek")),
    ("gu-IN", "Gujarati", ("gu", "gujarati")),
    ("he-IL", "Hebrew", ("he", "iw", "hebrew")),
    ("hu-HU", "Hungarian", ("hu", "hungarian")),
    ("id-ID", "Indonesian", ("id", "indonesian")),
    ("kn-IN", "Kannada", ("kn", "kannada")),
    ("lv-LV", "Latvian", ("lv", "latvian")),
    ("lt-LT", "Lithuanian", ("lt", "lithuanian")),
    ("ml-IN", "Malayalam", ("ml", "malayalam")),
    ("mr-IN", "Marathi", ("mr", "marathi")),
    ("nb-NO", "Norwegian", ("no", "nb", "norwegian")),
    ("pl-PL", "Polish", ("pl", "polish")),
    ("pa-IN", "Punjabi (India)", ("pa", "punjabi")),
    ("ro-RO", "Romanian", ("ro", "romanian")),
    ("ru-RU", "Russian", ("ru", "russian")),
    ("sr-RS", "Serbian (Cyrillic)", ("sr", "serbian")),
    ("sk-SK", "Slovak", ("sk", "slovak")),
    ("sl-SI", "Slovenian", ("sl", "slovenian")),
    ("sv-SE", "Swedish", ("sv", "swedish")),
    ("sw-KE", "Swahili", ("sw", "swahili")),
    ("ta-IN", "Tamil", ("ta", "tamil")),
    ("te-IN", "Telugu", ("te", "telugu")),
    ("th-TH", "Thai", ("th", "thai")),
    ("tr-TR", "Turkish", ("tr", "turkish")),
    ("uk-UA", "Ukrainian", ("uk", "ukrainian")),
    ("ur-IN", "Urdu", ("ur", "urdu")),
    ("vi-VN", "Vietnamese", ("vi", "vietnamese")),
    ("yue-HK", "Chinese (Cantonese, Hong Kong)", ("yue", "zh-hk", "cantonese")),
)

# The 14 documented video_category values, with short words for a command.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Auto", ()),
    ("Educational Lecture", ("lecture", "educational-lecture")),
    ("Educational Kids", ("kids", "educational-kids")),
    ("Government Meeting", ("government", "government-meeting", "meeting")),
    ("Documentary", ("doc",)),
    ("Narrative Story", ("narrative", "story", "narrative-story")),
    ("Social Media", ("social", "social-media")),
    ("Tutorial/How-To", ("tutorial", "how-to", "howto")),
    ("Vlog", ()),
    ("Commercial/Advertisement", ("commercial", "advertisement", "advert")),
    ("News", ()),
    ("Entertainment", ()),
    ("Home Video", ("home", "home-video")),
    ("Video Call", ("call", "video-call")),
)

_OUTPUT_LABELS = {
    "text": "Text (a captions file)",
    "audio": "Audio description track (WAV)",
    "video": "Described video (MP4)",
}
_FORMAT_LABELS = {
    "json": "JSON segments",
    "vtt": "WebVTT (.vtt)",
    "srt": "SubRip (.srt)",
    "edl": "Edit decision list (.edl)",
}
AD_TYPES = {"standard": "standard_ad", "extended": "extended_ad"}
AUDIO_IS_STANDARD = (
    "ViddyScribe's audio track is Standard AD only, so pick type=standard, or output=video "
    "for an extended description."
)


def language_choices(
    languages: tuple[tuple[str, str, tuple[str, ...]], ...] = LANGUAGES,
) -> tuple[Choice, ...]:
    return tuple(Choice(code, f"{name} ({code})", aliases=words) for code, name, words in languages)


def _language_field(choices: tuple[Choice, ...]) -> FormField:
    codes = [c.value for c in choices]
    return FormField(
        name="lang",
        label="Language",
        type=FieldType.CHOICE,
        help="the language the descriptions are written and read in (a BCP-47 code)",
        choices=choices,
        default=DEFAULT_LANGUAGE if DEFAULT_LANGUAGE in codes else codes[0],
    )


def _voice_field(voices: tuple[str, ...]) -> FormField:
    return FormField(
        name="voice",
        label="Voice",
        type=FieldType.CHOICE,
        help="the ViddyScribe voice that reads audio and video descriptions; leave it empty "
        "for ViddyScribe's default",
        choices=tuple(Choice(v, v) for v in voices),
        placeholder="ViddyScribe's default voice",
    )


def parse_voices(text: str) -> tuple[str, ...]:
    """VIDDYSCRIBE_VOICES ("Achernar, Kore, ...") as the voice list."""
    found: list[str] = []
    for item in text.split(","):
        voice = item.strip()
        if not voice:
            continue
        if not VOICE_ID.fullmatch(voice):
            raise ValueError(f"{voice!r} is not a voice id like Achernar")
        if voice.lower() in (v.lower() for v in found):
            raise ValueError(f"{voice} is listed twice")
        found.append(voice)
    if not found:
        raise ValueError("list at least one voice, like Achernar")
    return tuple(found)


FORM = Form(
    subject="url",
    summary="Describe a video for blind and low-vision viewers with ViddyScribe",
    example="https://example.com/video.mp4 lang=en-US category=Documentary output=text format=vtt",
    switches_label="Options",
    takes_files=True,
    fields=(
        FormField(
            name="url",
            label="Video link",
            type=FieldType.URL,
            help="a link to the video file (or use the message shortcut on an uploaded video)",
            required=True,
            max_length=MAX_URL,
            placeholder="https://example.com/video.mp4",
        ),
        _language_field(language_choices()),
        FormField(
            name="category",
            label="Category",
            type=FieldType.CHOICE,
            help="what kind of video it is; Auto lets ViddyScribe decide",
            choices=tuple(Choice(name, name, aliases=words) for name, words in CATEGORIES),
            default=DEFAULT_CATEGORY,
        ),
        FormField(
            name="output",
            label="Result",
            type=FieldType.CHOICE,
            help="descriptions as text, an audio track, or the video with descriptions mixed in",
            choices=tuple(Choice(o, _OUTPUT_LABELS[o]) for o in OUTPUTS),
            default="text",
        ),
        FormField(
            name="format",
            label="Text format",
            type=FieldType.CHOICE,
            help="how the descriptions' text is written out",
            choices=tuple(Choice(f, _FORMAT_LABELS[f]) for f in FORMATS),
            default=DEFAULT_FORMAT,
        ),
        _voice_field(VOICES),
        FormField(
            name="type",
            label="Description type",
            type=FieldType.CHOICE,
            help="standard fits descriptions into pauses; extended makes room for longer ones "
            "(text and video only)",
            choices=(
                Choice("standard", "Standard AD (fits the pauses)", aliases=("standard_ad",)),
                Choice("extended", "Extended AD (longer descriptions)", aliases=("extended_ad",)),
            ),
            default="standard",
        ),
        FormField(
            name="instructions",
            label="Instructions",
            type=FieldType.TEXT,
            help='how to describe (tone, focus, length); use quotes: `instructions="..."`',
            max_length=MAX_INSTRUCTIONS,
            multiline=True,
            placeholder="Keep descriptions concise and read the slides' titles.",
        ),
        FormField(
            name="onscreen",
            label="Read all on-screen text",
            type=FieldType.SWITCH,
            help="read every piece of on-screen text aloud (for lectures, meetings, news)",
            default=False,
        ),
    ),
)


def form_for(
    languages: tuple[tuple[str, str, tuple[str, ...]], ...] = LANGUAGES,
    voices: tuple[str, ...] = VOICES,
) -> Form:
    """The form with this workspace's languages and voices (VIDDYSCRIBE_LANGUAGES and
    VIDDYSCRIBE_VOICES, when set)."""
    own = {"lang": _language_field(language_choices(languages)), "voice": _voice_field(voices)}
    return replace(FORM, fields=tuple(own.get(f.name, f) for f in FORM.fields))


def parse_languages(text: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """VIDDYSCRIBE_LANGUAGES ("en-US=English (US), de-DE=German") as the language table."""
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for item in text.split(","):
        code, _, name = item.partition("=")
        code, name = code.strip(), name.strip()
        if not code:
            continue
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", code):
            raise ValueError(f"{code!r} is not a language code like en-US")
        if code.lower() in (c.lower() for c, _, _ in found):
            raise ValueError(f"{code} is listed twice")
        found.append((code, name or code, ()))
    if not found:
        raise ValueError("list at least one language, like en-US=English (US)")
    return tuple(found)


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    return "" if value is None else str(value).strip()


def _pick(values: Mapping[str, Any], name: str, known: Mapping[str, str], default: str) -> str:
    """A choice by its value or alias, case-insensitively; FieldError naming the field."""
    word = _text(values, name) or default
    found = known.get(word.lower())
    if found is None:
        shown = ", ".join(dict.fromkeys(known.values()))
        raise FieldError(name, f"Pick one of {shown} for {name}.")
    return found


def _media_file(value: Any) -> MediaFile:
    try:
        media = value if isinstance(value, MediaFile) else MediaFile.model_validate(value)
    except ValueError:
        raise FieldError("url", "Reelbot could not read this file's name and size.") from None
    if media.content_type.lower().startswith("audio/"):
        raise FieldError(
            "url", "This is an audio file; ViddyScribe describes videos, so pick a video file."
        )
    return media


def build_request(
    values: Mapping[str, Any],
    *,
    languages: tuple[tuple[str, str, tuple[str, ...]], ...] = LANGUAGES,
    voices: tuple[str, ...] = VOICES,
) -> ViddyScribeRequest:
    """Checked form values -> the request; FieldError when a value does not fit ViddyScribe.

    The video is `url` (a link), or FILE_VALUE ({name, size, content_type, ref}) when the bot
    will supply the bytes itself (an uploaded Slack file).
    """
    url = _text(values, "url")
    raw_file = values.get(FILE_VALUE)
    if url and raw_file is not None:
        raise FieldError("url", "Give a link or a file to describe, not both.")
    media = _media_file(raw_file) if raw_file is not None else None
    if media is None and not url:
        raise FieldError("url", "Give me a link to the video to describe.")
    if url and not url.lower().startswith(("http://", "https://")):
        raise FieldError("url", "ViddyScribe takes http:// and https:// links only.")
    language_words: dict[str, str] = {}
    for code, _, words in languages:
        for word in (code, *words):
            language_words.setdefault(word.lower(), code)
    default_language = DEFAULT_LANGUAGE if DEFAULT_LANGUAGE.lower() in language_words else ""
    category_words = {w.lower(): name for name, words in CATEGORIES for w in (name, *words)}
    output = _pick(values, "output", {o: o for o in OUTPUTS}, "text")
    ad_type = _pick(values, "type", {**AD_TYPES, **{v: v for v in AD_TYPES.values()}}, "standard")
    if output == "audio" and ad_type == "extended_ad":
        raise FieldError("type", AUDIO_IS_STANDARD)
    voice = _text(values, "voice")
    if voice:
        voice = _pick(values, "voice", {v.lower(): v for v in voices}, "")
    instructions = _text(values, "instructions")
    if len(instructions) > MAX_INSTRUCTIONS:
        raise FieldError(
            "instructions",
            f"Keep the instructions to {MAX_INSTRUCTIONS:,} characters (these have "
            f"{len(instructions):,}).",
        )
    return ViddyScribeRequest.model_validate(
        {
            "url": url or None,
            "file": media,
            "language": _pick(values, "lang", language_words, default_language or languages[0][0]),
            "category": _pick(values, "category", category_words, DEFAULT_CATEGORY),
            "output": output,
            "format": _pick(values, "format", {f: f for f in FORMATS}, DEFAULT_FORMAT),
            "voice": voice or None,
            "ad_type": ad_type,
            "instructions": instructions or None,
            "onscreen": bool(values.get("onscreen", False)),
        }
    )
