"""The local ViddyScribe's records (media, jobs, signed links) and how a job's answer reads.

Written from the documents, never from the client (see `viddyscribe`).
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from providers.simulators.viddyscribe_data import (
    EXTENDED_SEGMENT,
    FAILURES,
    SEGMENTS,
    output_body,
)

MediaState = Literal["created", "pending_upload", "uploaded", "pending", "completed", "failed"]
OutputShape = Literal["reference", "quickstart"]


@dataclass
class Media:
    media_id: str
    kind: Literal["url", "file", "signed"]
    filename: str
    content_type: str
    duration: float
    size: int = 0
    digest: str = ""
    head: bytes = b""
    state: MediaState = "created"
    gcs_path: str = ""
    notified_at: float | None = None
    canonical: str | None = None
    # Replaced by its canonical_media_id: generating with this id is refused.
    superseded: bool = False
    put_token: str = ""
    put_expires: float = 0.0
    hint: str = ""


@dataclass
class Job:
    job_id: str
    endpoint: Literal["text", "audio", "video"]
    media_id: str
    config: dict[str, Any]
    created: float  # simulator clock
    created_wall: float
    failure: tuple[str, str] | None = None


@dataclass
class Link:
    expires: float  # wall clock: signed links really expire
    job_id: str
    kind: Literal["video", "audio"]


@dataclass
class Links:
    """Signed download links, minted afresh on every get_results call."""

    seconds: float
    by_token: dict[str, Link] = field(default_factory=dict)

    def sign(self, origin: str, job: Job, kind: Literal["video", "audio"]) -> str:
        token = secrets.token_hex(16)
        now = time.time()
        self.by_token[token] = Link(now + self.seconds, job.job_id, kind)
        date = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{job.job_id}.{'mp4' if kind == 'video' else 'wav'}"
        return (
            f"{origin}/files/{token}/{name}?X-Goog-Algorithm=GOOG4-RSA-SHA256"
            f"&X-Goog-Credential=sim%40viddyscribe.iam.gserviceaccount.com&X-Goog-Date={date}"
            f"&X-Goog-Expires={max(1, math.ceil(self.seconds))}&X-Goog-SignedHeaders=host"
            f"&X-Goog-Signature={secrets.token_hex(32)}"
        )

    def find(self, token: str) -> Link | None:
        link = self.by_token.get(token)
        return link if link is not None and time.time() < link.expires else None


def failure_of(hint: str) -> tuple[str, str] | None:
    return next((FAILURES[h] for h in FAILURES if h in hint), None)


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stage_of(job: Job, now: float, render_seconds: float) -> str:
    """queued for the first third of the render, then processing, then done or failed."""
    elapsed = now - job.created
    if elapsed >= render_seconds:
        return "failed" if job.failure else "done"
    return "queued" if elapsed < render_seconds / 3 else "processing"


def results(
    job: Job, stage: str, links: Links, origin: str, *, shape: OutputShape
) -> dict[str, Any]:
    """get_results' answer for a job at `stage`."""
    body: dict[str, Any] = {
        "job_id": job.job_id,
        "status": stage,
        "media_id": job.media_id,
        "created_at": _iso(job.created_wall),
        "updated_at": _iso(time.time()),
    }
    if stage == "failed" and job.failure is not None:
        body["error_code"], body["error"] = job.failure
        return body
    if stage != "done":
        return body
    config = job.config
    segments = [dict(s) for s in SEGMENTS]
    if config["ad_type"] == "extended_ad":
        segments.append(dict(EXTENDED_SEGMENT))
    body["output"] = output_body(
        config["format"],
        segments,
        language=config["language"],
        ad_type=config["ad_type"],
        shape=shape,
    )
    if job.endpoint == "video":
        body["video_signed_url"] = links.sign(origin, job, "video")
    # The WAV track: audio jobs, and standard_ad video jobs.
    if job.endpoint == "audio" or (job.endpoint == "video" and config["ad_type"] == "standard_ad"):
        body["audio_signed_url"] = links.sign(origin, job, "audio")
    return body
