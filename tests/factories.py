"""One way for tests to make a Job: a /clip job with plausible fields, any of them overridden."""

from __future__ import annotations

from typing import Any

from bot.jobs import Job
from providers.base import JobKind


def make_job(**changes: Any) -> Job:
    fields: dict[str, Any] = {
        "kind": JobKind.CLIPS,
        "provider": "vizard",
        "channel_id": "C1",
        "user_id": "U1",
        "source": "https://example.com/a.mp4",
        "request": {"videoUrl": "https://example.com/a.mp4"},
    }
    fields.update(changes)
    return Job(**fields)
