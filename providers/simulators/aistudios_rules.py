"""What the local AI Studios accepts: the project create body, checked as the 1.6.x reference
describes; a wrong body gets the code it is answered with.

Written from the documents, never from the client (see `aistudios`).
"""

from __future__ import annotations

from typing import Any

RESOLUTIONS = frozenset({"4k", "1080", "720", "480"})
ORIENTATIONS = frozenset({"landscape", "portrait"})
CLIP_TYPES = frozenset({"aiModel", "shape", "image", "textImage", "videoImage", "audio"})
SOURCE_TYPES = frozenset({"image", "color"})


def validate(
    body: dict[str, Any], models: list[dict[str, Any]], max_chars: int | None
) -> int | None:
    """The code for a create body the reference says is wrong, or None when it is fine."""
    for optional in ("name", "workspaceId", "webhookUrl"):
        if body.get(optional) is not None and not isinstance(body[optional], str):
            return 4000
    if body.get("orientation", "landscape") not in ORIENTATIONS:
        return 4000
    if not isinstance(body.get("isExport", True), bool):
        return 4000
    if body.get("resolution", "1080") not in RESOLUTIONS:
        return 4000
    scenes = body.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        return 4000
    for scene in scenes:
        rejected = _validate_scene(scene, models, max_chars)
        if rejected is not None:
            return rejected
    return None


def _validate_scene(scene: Any, models: list[dict[str, Any]], max_chars: int | None) -> int | None:
    if not isinstance(scene, dict) or not _is_int(scene.get("sceneIdx")):
        return 4000
    scripts, clips = scene.get("scripts"), scene.get("clips")
    # "only one speech data should be entered"
    if not isinstance(scripts, list) or len(scripts) != 1 or not isinstance(scripts[0], dict):
        return 4000
    script = scripts[0]
    org, model_id, cloth_id = script.get("org"), script.get("modelId"), script.get("clothId")
    if not isinstance(org, str) or not org.strip() or len(org) > (max_chars or len(org)):
        return 4000
    if not isinstance(model_id, str) or not isinstance(cloth_id, str):
        return 4000
    is_tts = script.get("isTTS")
    # tts is null for the avatar's own voice (isTTS false) and JSON for another voice.
    if not isinstance(is_tts, bool) or "tts" not in script or (script["tts"] is None) == is_tts:
        return 4000
    if not _background_ok(scene.get("background")):
        return 4000
    if not isinstance(clips, list) or not all(_clip_ok(c) for c in clips):
        return 4000
    avatars = [c for c in clips if c["type"] == "aiModel"]
    model = avatars[0].get("model") if len(avatars) == 1 else None
    # The avatar clip must match the script (create-project.md, the caution box).
    if not isinstance(model, dict):
        return 4000
    if model.get("ai_name") != model_id or model.get("emotion") != cloth_id:
        return 4000
    known = next((m for m in models if m["id"] == model_id), None)
    if known is None:
        return 4042
    if all(cloth["id"] != cloth_id for cloth in known.get("clothes", [])):
        return 4043
    return None


def _rgb_ok(value: Any) -> bool:
    if not isinstance(value, str) or not (value.startswith("rgb(") and value.endswith(")")):
        return False
    parts = value[4:-1].split(",")
    return len(parts) == 3 and all(p.strip().isdigit() and int(p) <= 255 for p in parts)


def _background_ok(background: Any) -> bool:
    if not isinstance(background, dict) or background.get("type") != "background":
        return False
    source_type = background.get("source_type")
    if source_type not in SOURCE_TYPES:
        return False
    if source_type == "image" and not isinstance(background.get("source_url"), str):
        return False
    colour = background.get("source_color")
    return (colour is None and source_type == "image") or _rgb_ok(colour)


def _clip_ok(clip: Any) -> bool:
    if not isinstance(clip, dict) or clip.get("type") not in CLIP_TYPES:
        return False
    if not isinstance(clip.get("id"), str) or not _is_int(clip.get("layer")):
        return False
    return all(_is_number(clip.get(name)) for name in ("top", "left", "width", "height"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
