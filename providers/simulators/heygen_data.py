"""The local HeyGen's tables: the codes it answers with, its render failures, looks and voices.

Written from the documents (the seed, shared/providers.md section 3, heygen-cli's schemas),
never from the client; `heygen` is the server that answers from them.
"""

from __future__ import annotations

from typing import Any

# code -> (HTTP status, message). v3 string codes per developers.heygen.com/docs/error-codes;
# avatar/voice_not_found as v2 generate spells them; the two caps are assumed spellings.
STRING_CODES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "The API key provided is invalid, expired, or missing."),
    "forbidden": (403, "The API key does not have permission to perform this request."),
    "resource_access_denied": (403, "You do not have access to this resource."),
    "insufficient_credit": (402, "Your account does not have enough credits for this video."),
    "not_found": (404, "The requested resource does not exist."),
    "validation_error": (400, "The request contained invalid parameters."),
    "rate_limit_exceeded": (429, "Too many concurrent video jobs."),
    "payload_too_large": (400, "The request body is too large."),
    "conflict": (409, "Idempotency-Key was reused with a different request body."),
    "request_in_progress": (409, "A request with this Idempotency-Key is still in progress."),
    "asset_not_available": (400, "The asset is not available."),
    "download_failed": (400, "The asset could not be downloaded."),
    "avatar_not_found": (404, "Avatar not found."),
    "voice_not_found": (404, "Voice not found."),
    "trial_limit_exceeded": (429, "The trial key's daily video limit is reached."),
    "test_mode_limit_exceeded": (429, "Test mode allows 10 videos a day and 60 a week."),
}
# v1/v2 numeric codes (docs.heygen.com/reference/errors; 40104 is marked unconfirmed there).
NUMERIC_CODES: dict[int, tuple[int, str]] = {
    40009: (401, "Invalid credentials provided"),
    40001: (400, "Missing required input parameters"),
    400175: (400, "Invalid parameter"),
    40104: (404, "Video not found"),
    400112: (401, "Unauthorized"),
}
# Render failures: v3 failure_code (assumed spellings) and the v2 error the seed shows.
FAILURES = {
    "fail-too-long": (
        "video_too_long",
        {
            "code": 40119,
            "message": "Video is too long",
            "detail": "Video is too long "
            "(> 3600.0s). Please upgrade your plan to generate longer videos",
        },
    ),
    "fail-render": ("render_error", {"code": 40099, "message": "Rendering failed"}),
}

RACHEL, PAUL, LUCIA = (
    "2d5b0e6cf36f460aa7fc47e3eee4ba54",
    "1bd001e7e50f421d891986aad5158bc8",
    "c8e176c17f814004bd0d93fc1a3fac53",
)
_LOOK_KEYS = ("id", "name", "gender", "avatar_type", "default_voice_id")
LOOKS: tuple[dict[str, Any], ...] = tuple(
    dict(zip(_LOOK_KEYS, row, strict=True))
    for row in (
        ("Daisy-inskirt-20220818", "Daisy in a skirt", "female", "studio_avatar", RACHEL),
        ("Tyler-incasualsuit-20220721", "Tyler in a casual suit", "male", "studio_avatar", PAUL),
        ("Anna_public_3_20240108", "Anna at the office", "female", "studio_avatar", None),
        ("Wayne_20240711", "Wayne", "male", "digital_twin", LUCIA),
        ("Monica_inSleeveless_20220819", "Monica", "female", "studio_avatar", RACHEL),
        ("look_lena_photo_01", "Lena (photo)", "female", "photo_avatar", None),
        ("Kai_sitting_20230601", "Kai sitting", "male", "studio_avatar", None),
    )
)
_VOICE_KEYS = ("voice_id", "name", "language", "gender", "type")
_VOICE_EXTRA = {"preview_audio_url": None, "support_pause": True, "support_locale": False}
VOICES: tuple[dict[str, Any], ...] = tuple(
    dict(zip(_VOICE_KEYS, row, strict=True)) | _VOICE_EXTRA
    for row in (
        (RACHEL, "Rachel", "English", "female", "public"),
        (PAUL, "Paul", "English", "male", "public"),
        (LUCIA, "Lucía", "Spanish", "female", "public"),
        ("d92994ae0de34b2e8659b456a2f388b8", "Mateo", "Spanish", "male", "public"),
        ("077ab11b14f04ce0b49b5f6e5cc20979", "Greta", "German", "female", "public"),
        ("ee4c8d9a7b2f4a3e9d1c6b5a4f3e2d1c", "Jonas", "German", "male", "public"),
        ("5f8a2c1e9b7d4f6a8c3e1b9d7f5a3c1e", "Haruto", "Japanese", "male", "public"),
        ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "Our CEO (clone)", "English", "male", "private"),
    )
)
