"""How the local HeyGen answers: refusals in each API's shape, a video's status, signed links,
catalog entries and webhook events.

Written from the documents, never from the client (see `heygen`).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from providers.simulators.heygen_data import FAILURES, NUMERIC_CODES, STRING_CODES
from providers.simulators.heygen_rules import Refusal, Shape

LINK_SECONDS = 7 * 86400


@dataclass
class Job:
    video_id: str
    script: str
    title: str
    test: bool
    watermarked: bool
    captions: bool
    callback_id: str | None
    callback_url: str | None
    created: float
    failure: str | None


def refusal_response(refusal: Refusal, shape: Shape) -> tuple[web.Response, int | None]:
    """The answer to `refusal` in `shape`, and the Retry-After it carries (if any)."""
    code = refusal.code
    table: dict[Any, tuple[int, str]] = NUMERIC_CODES if isinstance(code, int) else STRING_CODES
    status, message = table.get(code, (400, "Simulated error."))
    message = refusal.message or message
    headers = {}
    retry: int | None = None
    if refusal.retry_after is not None or status == 429:
        retry = refusal.retry_after if refusal.retry_after is not None else 7
        headers["Retry-After"] = str(retry)
    if shape == "v1":
        body: dict[str, Any] = {"code": code, "message": message}
    elif shape == "v2":
        body = {"data": None, "error": {"code": code, "message": message}}
    else:
        error: dict[str, Any] = {
            "code": code,
            "message": message,
            "doc_url": f"https://developers.heygen.com/docs/error-codes#{code}",
        }
        if refusal.param is not None:
            error["param"] = refusal.param
        body = {"error": error}
    return web.json_response(body, status=status, headers=headers), retry


def stage_of(job: Job, elapsed: float, render_seconds: float, stages: tuple[str, ...]) -> str:
    """Where a render `elapsed` seconds old is: one of `stages`, then completed or failed."""
    if elapsed >= render_seconds:
        return "failed" if job.failure else "completed"
    step = render_seconds / len(stages)
    return stages[min(int(elapsed / step), len(stages) - 1)]


def links(job: Job, origin: str) -> dict[str, str]:
    """Presigned-looking links, signed again on every call as HeyGen does."""
    expires = int(time.time()) + LINK_SECONDS
    name = "watermarked.mp4" if job.watermarked else "video.mp4"

    def signed(file: str) -> str:
        return (
            f"{origin}/files/{job.video_id}/{file}?Expires={expires}"
            f"&Signature={secrets.token_hex(16)}&Key-Pair-Id=SIMHEYGEN"
        )

    found = {
        "video_url": signed(name),
        "thumbnail_url": signed("thumbnail.jpg"),
        "gif_url": signed("preview.gif"),
    }
    if job.captions:
        found |= {"captioned": signed("captioned.mp4"), "subtitle": signed("captions.srt")}
    return found


def video(job: Job, shape: Shape, stage: str, origin: str) -> dict[str, Any]:
    """GET /v3/videos/{id} `data`, or v1 video_status.get `data` (the seed's fields)."""
    v3 = shape == "v3"
    data: dict[str, Any] = {"id": job.video_id, "status": stage, "duration": None}
    data |= {"title": job.title or None} if v3 else {"callback_id": job.callback_id}
    data |= dict.fromkeys(("video_url", "thumbnail_url", "gif_url", *(() if v3 else ("error",))))
    if stage == "completed":
        signed = links(job, origin)
        data |= {k: signed[k] for k in ("video_url", "thumbnail_url", "gif_url")}
        data["duration"] = round(max(1.0, len(job.script.split()) / 2.5), 3)
        captioned, subtitle = signed.get("captioned"), signed.get("subtitle")
        if v3:
            data |= {"captioned_video_url": captioned, "subtitle_url": subtitle}
        else:
            data |= {"video_url_caption": captioned, "caption_url": subtitle}
    elif stage == "failed" and job.failure is not None:
        code, error = FAILURES[job.failure]
        if v3:
            data |= {
                "failure_code": code,
                "failure_message": error.get("detail") or error["message"],
            }
        else:
            data["error"] = error
    return data


def preview(look: dict[str, Any], origin: str) -> str:
    return look.get("preview_image_url") or f"{origin}/previews/{look['id']}.jpg"


def v2_avatars(looks: list[dict[str, Any]], origin: str) -> dict[str, Any]:
    """GET /v2/avatars `data`."""
    avatars = [
        {"avatar_id": a["id"], "avatar_name": a["name"], "gender": a["gender"]}
        | {"preview_image_url": preview(a, origin), "premium": False}
        for a in looks
    ]
    return {"avatars": avatars, "talking_photos": []}


def webhook_event(job: Job, origin: str) -> tuple[str, bytes]:
    """The event a finished render sends, and the JSON body that carries it."""
    failed = job.failure is not None
    event = "avatar_video.fail" if failed else "avatar_video.success"
    data: dict[str, Any] = {"video_id": job.video_id, "callback_id": job.callback_id}
    if failed and job.failure is not None:
        data["msg"] = FAILURES[job.failure][1]["message"]
    else:
        data["url"] = links(job, origin)["video_url"]
    return event, json.dumps({"event_type": event, "event_data": data}).encode()
