"""The local Cuttr's tables: the enums and ranges a create may use, error messages, and the
bytes of the files it serves.

Copied from Cuttr's documents (the seed's Create Clip page, shared/providers.md section 5),
never imported from the client. Where the documents are silent the value is marked "assumed".
"""

from __future__ import annotations

STYLES = frozenset({"viral", "business", "general", "gaming"})
CAMERA_MODES = frozenset({"standard", "facecam", "speaker-zoom", "center-crop", "active-speaker"})
HEADING_STYLES = frozenset({"stroke", "instagram"})
COLORS = frozenset(
    {"white", "black", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink"}
)
FONTS = frozenset(
    {
        "Proxima Nova",
        "Montserrat",
        "Luckiest Guy",
        "Everlasting",
        "Komika",
        "Burbank",
        "Bebas Neue",
        "Anton",
    }
)
POSITIONS = frozenset({"top", "middle", "bottom"})
BG_COLORS = frozenset({"black", "white"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "avi", "mkv", "webm"})
MUSIC_EXTENSIONS = frozenset({"mp3", "wav", "aac"})

# (lowest, highest) of each documented range, inclusive.
NUM_CLIPS = (1, 10)
LENGTH = (10, 180)
HOOK_LENGTH = (2, 15)
MAX_HEADING_INSTRUCTIONS = 1500  # `prompt` has no documented limit, so none is applied

# The JSON body's fields, and those of its two objects.
JSON_FIELDS = frozenset(
    {
        "video_url",
        "num_clips",
        "style",
        "length",
        "prompt",
        "camera_mode",
        "hook_length",
        "auto_heading",
        "heading",
        "captions",
        "music_url",
    }
)
HEADING_FIELDS = frozenset(
    {"text", "style", "color", "font", "position", "bg_color", "instructions"}
)
CAPTION_FIELDS = frozenset({"enabled", "color", "font"})

# The multipart form's parts. The music file's part name is not documented (assumed
# "music"); neither is whether `video_url` may come as a form field (assumed yes: the docs
# say the file is "Required if not providing video_url").
FILE_PART = "file"
MUSIC_PART = "music"
FORM_FIELDS = frozenset(
    {
        "video_url",
        "num_clips",
        "style",
        "length",
        "prompt",
        "camera_mode",
        "hook_length",
        "auto_heading",
        *(f"heading_{name}" for name in HEADING_FIELDS),
        *(f"captions_{name}" for name in CAPTION_FIELDS),
    }
)

# code -> (HTTP status, message). The 401/402/403/429 messages are the documents'; the
# codes are this simulator's names for them, and the 400, 404, 413 and 500 rows are assumed.
ERRORS: dict[str, tuple[int, str]] = {
    "missing_key": (401, "Missing X-API-Key header"),
    "invalid_key": (401, "Invalid API key"),
    "expired_key": (401, "API key expired"),
    "insufficient_balance": (402, "Insufficient balance"),
    "billing_inactive": (403, "API billing not active"),
    "rate_limited": (429, "Rate limit exceeded"),
    "bad_request": (400, "Bad request"),
    "not_found": (404, "Job not found"),
    "team_not_found": (404, "Team not found"),
    "payload_too_large": (413, "Request body too large"),
    "internal_error": (500, "Internal server error"),
}
DEFAULT_RETRY_AFTER = 30  # an injected 429 without retry_after=

# A video_url (or uploaded file name) with this in it fails its job once processed.
FAIL_HINT = "fail-render"
FAIL_MESSAGE = "Processing failed"  # assumed: no failed answer is documented

# The clips' files: an MP4's first box, and a whole 1x1 PNG.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)
