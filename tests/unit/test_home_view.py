"""The App Home view and the workspace settings, built from plain values (no servers)."""

from __future__ import annotations

import json
from typing import Any

from bot.home_view import (
    AdminPart,
    Home,
    WorkspaceSettings,
    home_view,
    settings_message,
    settings_text,
)
from bot.jobs import Delivery, DeliveryState, Job, JobState
from bot.sandbox.validation import _valid_view
from bot.store.base import ActiveJobs
from providers.base import Clip, JobKind
from tests.factories import make_job

T0 = 1_700_000_000.0
LABELS = {"vizard": "Vizard", "cuttr": "Cuttr"}
PROVIDERS = "*Providers this workspace can use*\n• Vizard: `/clip` makes clips"
SETTINGS = WorkspaceSettings(
    team_budget_cents=50_000,
    user_budget_cents=5_000,
    defaults=(("/clip", "Vizard", ("Cuttr",)), ("/avatar", "HeyGen", ())),
    results_as_files=True,
    confirm_expiry_minutes=15,
)


def _posted(job: Job, channel: str = "C1") -> Job:
    root = Delivery(state=DeliveryState.POSTED, channel=channel, reserved_at=T0, ts="1.1")
    return job.delivered("root", root)


def _texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def _buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for block in view["blocks"]:
        if isinstance(block.get("accessory"), dict):
            found.append(block["accessory"])
        found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def test_a_members_home_lists_their_jobs_with_cancel_on_unfinished_ones_only() -> None:
    rendering = _posted(make_job(state=JobState.RENDERING, percent=42.0, created_at=T0))
    done = _posted(
        make_job(
            state=JobState.DONE,
            title="Keynote",
            outputs=[Clip(url="https://cdn.example.com/1.mp4"), Clip(url="https://c.x/2.mp4")],
        )
    )
    failed = make_job(state=JobState.FAILED, error="Video <too> long", provider="cuttr")
    view = home_view(Home("U1", [rendering, done, failed], PROVIDERS, LABELS))
    assert view["type"] == "home"
    _valid_view(view, "home")
    text = _texts(view)
    assert "Vizard is making the clips (42%)" in text
    assert "2 clips in the thread of its message in <#C1>" in text
    assert "<https://example.com/a.mp4|Keynote>" in text
    assert "*Cuttr clips* · :x: failed" in text and "Why: Video &lt;too&gt; long" in text
    assert "Providers this workspace can use" in text
    [cancel] = _buttons(view)
    assert cancel["action_id"] == "job_cancel" and cancel["value"] == rendering.id
    assert cancel["confirm"]["title"]["text"] == "Cancel this job?"
    for hidden in ("reel_channel_presets", "unfinished jobs", "Workspace settings"):
        assert hidden not in text


def test_a_person_without_jobs_is_told_how_to_start() -> None:
    text = _texts(home_view(Home("U1", [], PROVIDERS, LABELS)))
    assert "No jobs yet. Try `/clip`" in text


def test_text_from_people_stays_inert() -> None:
    job = make_job(kind=JobKind.AVATAR, source="Hello <!channel> & all", title=None)
    text = _texts(home_view(Home("U1", [job], PROVIDERS, LABELS)))
    assert "Hello &lt;!channel&gt; &amp; all" in text and "<!channel>" not in text


def test_an_admin_sees_everyones_unfinished_jobs_the_spend_and_the_settings() -> None:
    others = [
        make_job(user_id=f"U{n}", team_id="T1", created_at=T0 - n, state=JobState.QUEUED)
        for n in range(3)
    ]
    admin = AdminPart(
        active=ActiveJobs(others, 3),
        settings=SETTINGS,
        spend="*Spend on paid providers, December 2026*\nBy provider: Cuttr $3.00.",
    )
    view = home_view(Home("U9", [], PROVIDERS, LABELS, admin))
    _valid_view(view, "home")
    text = _texts(view)
    assert "Everyone's unfinished jobs in this workspace* (3)" in text
    assert "<@U0> · Vizard clips · :hourglass_flowing_sand: queued" in text
    assert "<@U2>" in text and "more unfinished" not in text
    assert "By provider: Cuttr $3.00." in text
    assert "$500.00 for the workspace, $50.00 for each person a month" in text
    assert "`/clip` Vizard (also Cuttr); `/avatar` HeyGen" in text
    buttons = {b["action_id"]: b["value"] for b in _buttons(view)}
    assert buttons == {"reel_channel_presets": "home", "reel_provider_keys": "home"}


def test_an_admin_home_without_paid_providers_has_no_spend_section() -> None:
    admin = AdminPart(active=ActiveJobs([], 0), settings=SETTINGS, spend=None)
    text = _texts(home_view(Home("U9", [], PROVIDERS, LABELS, admin)))
    assert "Spend" not in text and "None right now." in text


def test_many_jobs_stay_within_slacks_limits_and_say_how_many_more() -> None:
    long_title = "A very long title " * 20
    mine = [
        _posted(make_job(title=long_title, created_at=T0 - n, state=JobState.RENDERING))
        for n in range(50)
    ]
    everyone = [
        make_job(user_id=f"U{n}", title=long_title, created_at=T0 - n, state=JobState.QUEUED)
        for n in range(30)
    ]
    admin = AdminPart(active=ActiveJobs(everyone, 240), settings=SETTINGS, spend="*Spend*")
    view = home_view(Home("U1", mine, PROVIDERS, LABELS, admin))
    _valid_view(view, "home")  # raises on anything Slack refuses: 100 blocks, 3,000 a section
    assert len(view["blocks"]) <= 100
    text = _texts(view)
    assert "…and 35 more older jobs" in text
    assert "…and 210 more unfinished jobs" in text
    assert len([b for b in _buttons(view) if b["action_id"] == "job_cancel"]) == 15


def test_settings_say_when_nothing_is_limited_or_uploaded() -> None:
    text = settings_text(
        WorkspaceSettings(results_as_files=False, confirm_expiry_minutes=1, defaults=())
    )
    assert "Budget for paid providers: none (no monthly limit)" in text
    assert "Default providers: none (no provider is set up yet)" in text
    assert "Results as files: off (clips and videos arrive as links)" in text
    assert "waits 1 minute for its requester's Confirm" in text


def test_reel_settings_carries_the_same_buttons_from_reel() -> None:
    text, blocks = settings_message(SETTINGS)
    assert text.startswith("*Workspace settings*")
    buttons = {e["action_id"]: e["value"] for e in blocks[1]["elements"]}
    assert buttons == {"reel_channel_presets": "reel", "reel_provider_keys": "reel"}
