"""The local AI Studios' tables: the avatar models (with their clothes) it lists by default.

Written from the documents, never from the client (see `aistudios`).
"""

from __future__ import annotations

from typing import Any

CDN = "https://cdn.aistudios.com/ai/model-introduce/thumbnails"


def _model(model_id: str, en: str, ko: str, *clothes: tuple[str, str, str]) -> dict[str, Any]:
    def label(english: str, korean: str) -> dict[str, str]:
        return {"ko": korean, "en": english}

    return {
        "id": model_id,
        "label": label(en, ko),
        "thumbnail": f"{CDN}/{model_id}.png",
        "clothes": [
            {"id": c, "label": label(c_en, c_ko), "thumbnail": f"{CDN}/{model_id}_{c}.png"}
            for c, c_en, c_ko in clothes
        ],
    }


DEFAULT_MODELS: tuple[dict[str, Any], ...] = (
    _model(
        "M000045058",
        "Paige",
        "페이지",
        ("BG00002320", "Navy suit", "네이비 정장"),
        ("BG00002321", "White blouse", "흰 블라우스"),
    ),
    _model("M000004017", "Jonathan", "조나단", ("BG00006160", "Grey suit", "회색 정장")),
)
