"""The local ViddyScribe's tables: codes, categories, error payloads, and the descriptions it
writes out in each text format.

Copied from ViddyScribe's documents (the seed, docs.viddyscribe.com, shared/providers.md
section 4), never imported from the client. The language codes are the one assumption both
share: the documents name 52 languages and count 53 codes without listing them, so the codes
are those of the Google voice locales the voice names come from (see the client's form).
"""

from __future__ import annotations

from typing import Any

_CODES = """en-US en-GB en-AU en-IN es-ES es-US fr-FR fr-CA de-DE it-IT pt-BR ja-JP ko-KR cmn-CN
    ar-XA hi-IN bn-IN bg-BG hr-HR cs-CZ da-DK nl-NL nl-BE et-EE fi-FI el-GR gu-IN he-IL hu-HU
    id-ID kn-IN lv-LV lt-LT ml-IN mr-IN nb-NO pl-PL pa-IN ro-RO ru-RU sr-RS sk-SK sl-SI sv-SE
    sw-KE ta-IN te-IN th-TH tr-TR uk-UA ur-IN vi-VN yue-HK"""
LANGUAGES = frozenset(_CODES.split())
CATEGORIES = frozenset(
    {
        "Auto",
        "Educational Lecture",
        "Educational Kids",
        "Government Meeting",
        "Documentary",
        "Narrative Story",
        "Social Media",
        "Tutorial/How-To",
        "Vlog",
        "Commercial/Advertisement",
        "News",
        "Entertainment",
        "Home Video",
        "Video Call",
    }
)
FORMATS = frozenset({"json", "vtt", "srt", "edl"})
AD_TYPES = frozenset({"standard_ad", "extended_ad"})
# Every generation_config option the documents name; any other is refused (assumed: the
# documents do not say whether unknown options are ignored).
_CONFIG = """language format video_category voice ad_type custom_instructions read_all_onscreen_text
    auto_fit allow_descriptions_over_music volume_option volume_level_db description_content
    audio_track_type custom_captions"""
CONFIG_FIELDS = frozenset(_CONFIG.split())
BOOL_FIELDS = frozenset({"read_all_onscreen_text", "auto_fit", "allow_descriptions_over_music"})
STRING_FIELDS = frozenset({"voice", "custom_instructions", "description_content", "volume_option"})
MAX_INSTRUCTIONS = 4000  # assumed: no limit is documented

# code -> (HTTP status, message). Messages are the documents' descriptions; the codes of the
# 400, generic 403, 404 and 500 bodies are not shown there and are assumed.
ERRORS: dict[str, tuple[int, str]] = {
    "bad_request": (400, "Bad request - invalid parameters"),
    "unauthorized": (401, "Invalid or missing API key"),
    "forbidden": (403, "Forbidden - plan restriction or input limit"),
    "feature_not_available": (403, "This feature is not available on the current plan."),
    "video_too_long": (
        403,
        "The submitted video exceeds the maximum duration allowed by the current plan.",
    ),
    "file_too_large": (
        403,
        "The submitted file exceeds the maximum file size allowed by the current plan.",
    ),
    "not_found": (404, "Media or job not found"),
    "upload_not_ready": (
        409,
        "Media upload verification is still in progress. Retry shortly.",
    ),
    "upload_failed": (
        409,
        "Media upload verification failed. Re-upload the media and try again.",
    ),
    "payload_too_large": (413, "Direct multipart upload supports files up to 32 MB."),
    "no_video_stream": (
        415,
        "The uploaded file contains audio only or otherwise has no video stream. Upload a "
        "file with at least one video stream.",
    ),
    "plan_limit_exceeded": (429, "The current team allocation has been exhausted."),
    "concurrency_limit_exceeded": (
        429,
        "Too many concurrent submissions are being validated for the current team. Retry "
        "after a short delay.",
    ),
    "queue_limit_exceeded": (
        429,
        "Too many jobs are already queued for the current team allocation. Wait for some "
        "jobs to complete before submitting more.",
    ),
    "rate_limit_exceeded": (
        429,
        "Too many requests for the current team allocation. Retry after the returned delay.",
    ),
    "internal_error": (500, "Internal server error"),
}
# 429s that say how long to wait (plan_limit_exceeded is not over until an admin acts).
RETRY_CODES = frozenset(
    {"rate_limit_exceeded", "concurrency_limit_exceeded", "queue_limit_exceeded"}
)

# Link hints that fail a job once it has been processed: (error_code, error).
FAILURES: dict[str, tuple[str, str]] = {
    "fail-no-video": ("no_video_stream", ERRORS["no_video_stream"][1]),
    "fail-render": ("generation_failed", "Description generation failed on our side."),
}
# Link and file-name hints refused at once: a video over the plan's length, an audio file.
LONG_HINT = "long-video"
AUDIO_HINT = "audio-only"
LONG_SECONDS = 4 * 3600.0
NORMAL_SECONDS = 45.5

SEGMENTS: tuple[dict[str, Any], ...] = (
    {"start": 0.5, "end": 3.1, "text": "A woman in a yellow top sits at a desk with a laptop."},
    {"start": 3.2, "end": 5.9, "text": "She looks at the camera and smiles."},
    {"start": 8.0, "end": 11.4, "text": "A slide reads: “Quarterly results”."},
)
EXTENDED_SEGMENT = {
    "start": 12.0,
    "end": 18.5,
    "text": "The video pauses on a bar chart: revenue rises in each of four quarters.",
}

# What the fake media files start with, so a download can be told apart.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
WAV_BYTES = b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
AUDIO_MAGIC = (b"ID3", b"fLaC", b"OggS")


def _clock(seconds: float, sep: str, hours: bool = True) -> str:
    millis = round(seconds * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    head = f"{h:02d}:{m:02d}" if hours or h else f"{m:02d}"
    return f"{head}:{s:02d}{sep}{ms:03d}"


def _timecode(seconds: float, fps: int = 30) -> str:
    frames = round(seconds * fps)
    s, f = divmod(frames, fps)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{f:02d}"


def render(text_format: str, segments: list[dict[str, Any]]) -> str:
    """The descriptions in a text format: WebVTT, SubRip or a CMX 3600 EDL."""
    if text_format == "vtt":
        cues = [
            f"{_clock(s['start'], '.', False)} --> {_clock(s['end'], '.', False)}\n{s['text']}"
            for s in segments
        ]
        return "WEBVTT\n\n" + "\n\n".join(cues) + "\n"
    if text_format == "srt":
        cues = [
            f"{n}\n{_clock(s['start'], ',')} --> {_clock(s['end'], ',')}\n{s['text']}"
            for n, s in enumerate(segments, 1)
        ]
        return "\n\n".join(cues) + "\n"
    lines = ["TITLE: Audio description", "FCM: NON-DROP FRAME", ""]
    for n, s in enumerate(segments, 1):
        start, end = _timecode(s["start"]), _timecode(s["end"])
        lines.append(f"{n:03d}  AX       AA    C        {start} {end} {start} {end}")
        lines.append(f"* DESCRIPTION: {s['text']}")
    return "\n".join(lines) + "\n"


def output_body(
    text_format: str, segments: list[dict[str, Any]], *, language: str, ad_type: str, shape: str
) -> dict[str, Any]:
    """`output` as get_results shows it: the reference's {format, content} (json: segments),
    or the quickstart's {language, ad_type, items, vtt}."""
    if shape == "quickstart":
        body: dict[str, Any] = {"language": language, "ad_type": ad_type, "items": segments}
        if text_format != "json":
            body[text_format] = render(text_format, segments)
        else:
            body["vtt"] = render("vtt", segments)
        return body
    if text_format == "json":
        return {"format": "json", "segments": segments}
    return {"format": text_format, "content": render(text_format, segments)}
