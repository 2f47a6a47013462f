"""HeyGen's catalogs as form choices: looks and v2 avatars for `avatar`, voices for `voice`."""

from __future__ import annotations

from providers.forms import Choice
from providers.heygen.api import V2Avatar, V3Look, V3Voice


def look_choices(looks: list[V3Look]) -> tuple[Choice, ...]:
    """v3 looks, each described by gender, kind and whether it has its own voice."""
    choices: list[Choice] = []
    for look in looks:
        kind = (look.avatar_type or "").replace("_", " ")
        own_voice = "own voice" if look.default_voice_id else ""
        about = ", ".join(p for p in (look.gender, kind, own_voice) if p)
        choices.append(
            Choice(
                look.id,
                look.name,
                description=about or None,
                image_url=look.preview_image_url,
            )
        )
    return unique(choices)


def avatar_choices(avatars: list[V2Avatar]) -> tuple[Choice, ...]:
    return unique(
        [
            Choice(a.avatar_id, a.avatar_name, description=a.gender, image_url=a.preview_image_url)
            for a in avatars
        ]
    )


def voice_choices(voices: list[V3Voice]) -> tuple[Choice, ...]:
    """Voices listed under their language, languages in alphabetical order."""
    ordered = sorted(voices, key=lambda v: (v.language or "~").lower())
    return unique(
        [
            Choice(
                v.voice_id,
                v.name,
                description=v.gender.capitalize() if v.gender else None,
                group=v.language or "Other",
            )
            for v in ordered
        ]
    )


def unique(choices: list[Choice]) -> tuple[Choice, ...]:
    """The choices in order, each value once (the first wins), none with an empty value."""
    seen: set[str] = set()
    kept: list[Choice] = []
    for choice in choices:
        if choice.value and choice.value not in seen:
            seen.add(choice.value)
            kept.append(choice)
    return tuple(kept)
