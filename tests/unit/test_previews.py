"""Description previews read every format ViddyScribe writes (written here by hand, as the
documents show them), and anything else is shown raw."""

from __future__ import annotations

import json

import pytest

from bot.previews import description_lines

VTT = (
    "WEBVTT\n\n00:00.500 --> 00:03.100\nA woman sits\nat a desk.\n\n"
    "01:02.000 --> 01:04.250\nShe smiles.\n"
)
SRT = (
    "1\n00:00:00,500 --> 00:00:03,100\nA woman sits at a desk.\n\n"
    "2\n00:01:02,000 --> 00:01:04,250\nShe smiles.\n"
)
EDL = (
    "TITLE: Audio description\nFCM: NON-DROP FRAME\n\n"
    "001  AX       AA    C        00:00:00:15 00:00:03:03 00:00:00:15 00:00:03:03\n"
    "* DESCRIPTION: A woman sits at a desk.\n"
    "002  AX       AA    C        00:01:02:00 00:01:04:09 00:01:02:00 00:01:04:09\n"
    "* DESCRIPTION: She smiles.\n"
)
JSON = json.dumps(
    [{"start": 0.5, "end": 3.1, "text": "A woman sits at a desk."},
     {"start": 62, "end": 64.25, "text": "She smiles."}]
)  # fmt: skip


@pytest.mark.parametrize("text", [VTT, SRT, EDL, JSON], ids=["vtt", "srt", "edl", "json"])
def test_each_format_reads_as_time_and_text(text: str) -> None:
    lines = description_lines(text)
    assert lines is not None and len(lines) == 2
    assert lines[0].startswith("0:00.5\u20130:03.1") and "A woman sits" in lines[0]
    assert lines[1].startswith("1:02.0\u20131:04.") and lines[1].endswith("She smiles.")


def test_what_is_none_of_them_is_left_to_show_raw() -> None:
    assert description_lines("just some notes") is None
    assert description_lines("{not json") is None
    assert description_lines(VTT * 3, limit=4) is not None
    assert len(description_lines(VTT * 3, limit=4) or []) == 4
