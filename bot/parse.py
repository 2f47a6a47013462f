"""Command text and modal state -> provider requests. Pure: no I/O, every message for a person."""

from __future__ import annotations

import ipaddress
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot import ids
from providers import vizard
from providers.vizard import VizardRequest

MAX_TEXT = 2000
MAX_URL = 2000
MAX_NAME = 100
OPTION_KEYS = ("lang", "length", "subtitles", "headline", "name")
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0"}
_LENGTH_WORDS = {"auto": 0}


@dataclass(frozen=True)
class ShowHelp:
    pass


@dataclass(frozen=True)
class OpenModal:
    pass


@dataclass(frozen=True)
class Invalid:
    message: str


@dataclass(frozen=True)
class Submit:
    request: VizardRequest
    source: str


@dataclass(frozen=True)
class ModalErrors:
    errors: dict[str, str] = field(default_factory=dict)


ClipCommand = ShowHelp | OpenModal | Invalid | Submit


class _Refusal(ValueError):
    """A field's value is wrong; the message says how to fix it."""


# --- field checks shared by the command and the modal ---------------------------------------
def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\t\n\r " for ch in text)


def _unescape(text: str) -> str:
    # Slack escapes exactly these three in message and command text; &amp; goes last.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unwrap_slack_link(token: str) -> str:
    # Slack sends links as <https://x|label> or <https://x>.
    if token.startswith("<") and token.endswith(">"):
        return token[1:-1].split("|", 1)[0]
    return token


def _is_private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


def check_url(raw: str) -> tuple[str, int, str | None]:
    """A video link Vizard can fetch -> (url, videoType, ext)."""
    url = _unwrap_slack_link(raw.strip())
    if not url:
        raise _Refusal("Give me a link to the video, e.g. `https://example.com/talk.mp4`.")
    if len(url) > MAX_URL:
        raise _Refusal(f"That link is longer than {MAX_URL} characters.")
    if _has_control(url) or any(ch.isspace() for ch in url):
        raise _Refusal("That link contains spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        shown = parts.scheme or url[:20]
        raise _Refusal(f"Only http:// and https:// links can be clipped (got `{shown}`).")
    if not parts.hostname:
        raise _Refusal("That link has no host name.")
    if parts.username or parts.password:
        raise _Refusal("Links with a user name or password in them can't be shared with Vizard.")
    if _is_private_host(parts.hostname):
        raise _Refusal("That link points at a private address Vizard cannot reach.")
    video_type, ext = vizard.classify_url(url)
    if video_type == 1 and ext is None:
        kinds = ", ".join(f".{e}" for e in vizard.VIDEO_EXTS)
        raise _Refusal(
            f"Vizard needs a direct link to a video file ({kinds}) or a YouTube, Vimeo, "
            "Google Drive, Loom, TikTok, Twitch or similar page."
        )
    return url, video_type, ext


def _language_codes() -> str:
    return ", ".join(f"`{code}`" for code in vizard.LANGUAGES)


def check_lang(raw: str) -> str:
    wanted = raw.strip().lower()
    for code in vizard.LANGUAGES:
        if code.lower() == wanted:
            return code
    raise _Refusal(f"`{raw}` is not a language Vizard knows. Use one of: {_language_codes()}.")


def _lengths_help() -> str:
    return ", ".join(f"`{n}` ({label})" for n, label in vizard.PREFER_LENGTHS.items())


def check_lengths(values: list[str]) -> list[int]:
    chosen: list[int] = []
    for raw in values:
        word = raw.strip().lower()
        number = _LENGTH_WORDS.get(word)
        if number is None:
            try:
                number = int(word)
            except ValueError:
                number = -1
        if number not in vizard.PREFER_LENGTHS:
            raise _Refusal(f"`{raw}` is not a clip length. Use one or more of: {_lengths_help()}.")
        if number not in chosen:
            chosen.append(number)
    if not chosen:
        raise _Refusal(f"Pick at least one clip length: {_lengths_help()}.")
    if 0 in chosen and len(chosen) > 1:
        raise _Refusal("`auto` (0) can't be combined with other clip lengths.")
    return sorted(chosen)


def check_switch(key: str, raw: str) -> int:
    word = raw.strip().lower()
    if word in _TRUE:
        return 1
    if word in _FALSE:
        return 0
    raise _Refusal(f"`{key}={raw}` is not valid: use `{key}=on` or `{key}=off`.")


def check_name(raw: str) -> str | None:
    name = raw.strip()
    if _has_control(name):
        raise _Refusal("The project name contains control characters.")
    if len(name) > MAX_NAME:
        raise _Refusal(f"The project name is longer than {MAX_NAME} characters.")
    return name or None


def _request(url: str, video_type: int, ext: str | None, **options: Any) -> VizardRequest:
    return VizardRequest(
        video_url=url,
        video_type=video_type,
        ext=ext,
        lang=options.get("lang", "auto"),
        prefer_length=options.get("prefer_length", [0]),
        project_name=options.get("project_name"),
        subtitle_switch=options.get("subtitle_switch", 1),
        headline_switch=options.get("headline_switch", 1),
    )


# --- /clip text ------------------------------------------------------------------------------
def help_text(configured: bool = True) -> str:
    lines = [
        "*Turn a long video into short clips with Vizard*",
        "`/clip <video link> [options]` submits it; `/clip` alone opens a form.",
        "Options, each `key=value` after the link:",
        f"• `lang=` the spoken language: {_language_codes()} (default `auto`)",
        f"• `length=` clip lengths, comma-separated: {_lengths_help()} (default `0`)",
        "• `subtitles=on|off` and `headline=on|off` (default on)",
        '• `name=` a project name; use quotes for spaces: `name="Q3 all-hands"`',
        "Example: `/clip https://example.com/talk.mp4 lang=en length=1,2 subtitles=off`",
        "The clips arrive as replies in the thread of the message I post; "
        "the Cancel button there stops tracking.",
    ]
    if not configured:
        lines.insert(
            1, ":warning: Vizard is not set up here yet: a workspace admin must set VIZARD_API_KEY."
        )
    return "\n".join(lines)


def parse_clip_text(text: str) -> ClipCommand:
    if len(text) > MAX_TEXT:
        return Invalid(f"That's {len(text):,} characters; `/clip` takes at most {MAX_TEXT:,}.")
    if _has_control(text):
        return Invalid("Your text contains control characters; please retype the command.")
    stripped = text.strip()
    if not stripped:
        return OpenModal()
    if stripped.lower() in {"help", "-h", "--help", "?"}:
        return ShowHelp()
    normalised = stripped.translate({0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'"})
    try:
        tokens = shlex.split(normalised)
    except ValueError:
        return Invalid(
            'A quote is not closed. Put a value with spaces in quotes: `name="My talk"`.'
        )
    return _parse_tokens(tokens)


def _parse_tokens(tokens: list[str]) -> ClipCommand:
    links: list[str] = []
    options: dict[str, str] = {}
    for token in tokens:
        key, eq, value = token.partition("=")
        looks_like_link = (
            token.startswith("<")
            or "://" in token
            or token.lower().startswith(("javascript:", "data:", "file:", "mailto:"))
        )
        if eq and not looks_like_link:
            key = key.lower()
            if key not in OPTION_KEYS:
                valid = ", ".join(f"`{k}=`" for k in OPTION_KEYS)
                return Invalid(f"Unknown option `{key}`. Valid options are {valid}.")
            if key in options:
                return Invalid(f"`{key}=` is given twice; give it once.")
            options[key] = _unescape(value)
        else:
            links.append(_unescape(_unwrap_slack_link(token)))
    if not links:
        return Invalid(
            "Give me a link to the video first, e.g. `/clip https://example.com/talk.mp4`."
        )
    if len(links) > 1:
        return Invalid(
            f"I can clip one video at a time, and I see {len(links)} things that are not "
            "`key=value` options. Send one `/clip` per video."
        )
    try:
        url, video_type, ext = check_url(links[0])
        fields: dict[str, Any] = {}
        if "lang" in options:
            fields["lang"] = check_lang(options["lang"])
        if "length" in options:
            fields["prefer_length"] = check_lengths(options["length"].split(","))
        if "subtitles" in options:
            fields["subtitle_switch"] = check_switch("subtitles", options["subtitles"])
        if "headline" in options:
            fields["headline_switch"] = check_switch("headline", options["headline"])
        if "name" in options:
            fields["project_name"] = check_name(options["name"])
    except _Refusal as refusal:
        return Invalid(str(refusal))
    return Submit(_request(url, video_type, ext, **fields), url)


# --- clip modal ------------------------------------------------------------------------------
def _value(values: Mapping[str, Any], block: str) -> dict[str, Any]:
    element = values.get(block, {}).get(block, {})
    return element if isinstance(element, dict) else {}


def parse_clip_modal(values: Mapping[str, Any]) -> Submit | ModalErrors:
    """`view.state.values` of the clip modal -> a request, or an error per block."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    url_parts: tuple[str, int, str | None] | None = None
    try:
        url_parts = check_url(str(_value(values, ids.URL_BLOCK).get("value") or ""))
    except _Refusal as refusal:
        errors[ids.URL_BLOCK] = str(refusal)
    try:
        selected = _value(values, ids.LANG_BLOCK).get("selected_option") or {}
        fields["lang"] = check_lang(str(selected.get("value", "auto")))
    except _Refusal as refusal:
        errors[ids.LANG_BLOCK] = str(refusal)
    try:
        options = _value(values, ids.LENGTH_BLOCK).get("selected_options") or []
        fields["prefer_length"] = check_lengths([str(o.get("value", "")) for o in options])
    except _Refusal as refusal:
        errors[ids.LENGTH_BLOCK] = str(refusal)
    switches = {
        str(o.get("value"))
        for o in _value(values, ids.SWITCHES_BLOCK).get("selected_options") or []
    }
    fields["subtitle_switch"] = int(ids.SUBTITLES_OPTION in switches)
    fields["headline_switch"] = int(ids.HEADLINE_OPTION in switches)
    try:
        fields["project_name"] = check_name(str(_value(values, ids.NAME_BLOCK).get("value") or ""))
    except _Refusal as refusal:
        errors[ids.NAME_BLOCK] = str(refusal)
    if errors or url_parts is None:
        return ModalErrors(errors)
    url, video_type, ext = url_parts
    return Submit(_request(url, video_type, ext, **fields), url)
