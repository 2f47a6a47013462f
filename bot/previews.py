"""A description file's first descriptions as a person reads them in Slack: "0:00.5 to 0:03.1
A woman sits at a desk", whatever the file's format (WebVTT, SubRip, EDL, JSON segments).
Pure: None when the text is none of these, and the caller shows it raw."""

from __future__ import annotations

import json
import re
from typing import Any

_CUE = re.compile(
    r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})"
)
_EDL = re.compile(
    r"^\d{3}\s+\S+\s+\S+\s+\S+\s+(\d\d):(\d\d):(\d\d):(\d\d)\s+(\d\d):(\d\d):(\d\d):(\d\d)"
)
_EDL_FPS = 30


def _when(seconds: float) -> str:
    tenths = round(seconds * 10)
    minutes, rest = divmod(tenths, 600)
    return f"{minutes}:{rest / 10:04.1f}"


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms.ljust(3, "0")) / 1000


def _cues(text: str) -> list[tuple[float, float, str]]:
    found: list[tuple[float, float, str]] = []
    lines = text.splitlines()
    for n, line in enumerate(lines):
        match = _CUE.search(line)
        if match is None:
            continue
        g = match.groups()
        words: list[str] = []
        for following in lines[n + 1 :]:
            if not following.strip():
                break
            words.append(following.strip())
        found.append((_seconds(*g[:4]), _seconds(*g[4:]), " ".join(words)))
    return found


def _edl(text: str) -> list[tuple[float, float, str]]:
    found: list[tuple[float, float, str]] = []
    for line in text.splitlines():
        match = _EDL.match(line)
        if match is not None:
            g = [int(x) for x in match.groups()]
            start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / _EDL_FPS
            end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / _EDL_FPS
            found.append((start, end, ""))
        elif line.startswith("*") and found and not found[-1][2]:
            said = line.lstrip("* ").split(":", 1)
            found[-1] = (found[-1][0], found[-1][1], said[-1].strip())
    return found


def _segments(text: str) -> list[tuple[float, float, str]]:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return []
    if isinstance(data, dict):
        data = data.get("segments") or data.get("items") or []
    found: list[tuple[float, float, str]] = []
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        start, end, said = item.get("start"), item.get("end"), item.get("text")
        if isinstance(start, int | float) and isinstance(end, int | float) and said:
            found.append((float(start), float(end), str(said)))
    return found


def description_lines(text: str, limit: int = 5) -> list[str] | None:
    """The first `limit` descriptions as "start to end: text"; None when none can be read."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        found = _segments(stripped)
    elif "-->" in text:
        found = _cues(text)
    else:
        found = _edl(text)
    lines = [f"{_when(a)}\u2013{_when(b)} {said}" for a, b, said in found if said][:limit]
    return lines or None
