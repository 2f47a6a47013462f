"""HeyGen's webhook calls: the HMAC signature check and the one video id a call may name."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from providers.heygen.api import WEBHOOK_EVENTS

_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def signed_video_id(
    headers: Mapping[str, str], body: bytes, *, secret: bytes, signature_header: str
) -> str | None:
    """The video a call signed with `secret` names; None unless the signature verifies.

    `signature_header` is lower case; the call's headers are matched without regard to case.
    """
    given = next((v for k, v in headers.items() if k.lower() == signature_header), None)
    if given is None:
        return None
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("event_type") not in WEBHOOK_EVENTS:
        return None
    data = payload.get("event_data")
    video_id = data.get("video_id") if isinstance(data, dict) else None
    if isinstance(video_id, str) and _VIDEO_ID.fullmatch(video_id):
        return video_id
    return None
