"""Where a waiting job stands, in words (bot/queue_words.py)."""

from __future__ import annotations

import pytest

from bot.queue_words import (
    estimate,
    in_flight_notice,
    ordinal,
    place,
    rate_limits,
    rate_notice,
    turn_at,
)
from providers.base import JobKind, RateWindow

VIZARD = (RateWindow(seconds=60, limit=3), RateWindow(seconds=3600, limit=20))


@pytest.mark.parametrize(
    ("n", "said"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
     (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"), (112, "112th")],
)  # fmt: skip
def test_ordinals(n: int, said: str) -> None:
    assert ordinal(n) == said


def test_the_place_counts_the_jobs_ahead() -> None:
    assert place(0, "Vizard") == "Next in line for Vizard"
    assert place(1, "Vizard") == "2nd in line for Vizard"
    assert place(2, "Vizard") == "3rd in line for Vizard"


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.5, "less than a minute"), (59.9, "less than a minute"), (60, "about 1 minute"),
     (61, "about 2 minutes"), (119.9, "about 2 minutes"), (89 * 60, "about 89 minutes"),
     (90 * 60, "about 2 hours"), (3 * 3600 + 5, "about 3 hours")],
)  # fmt: skip
def test_the_estimate_is_rounded_to_words(seconds: float, said: str) -> None:
    assert estimate(seconds) == said


def test_rate_limits_read_as_a_sentence() -> None:
    assert rate_limits(VIZARD) == "3 new requests a minute and 20 an hour"
    assert rate_limits((RateWindow(seconds=60, limit=1),)) == "1 new request a minute"
    assert rate_limits((RateWindow(seconds=30, limit=5),)) == "5 new requests every 30 s"


def test_three_a_minute_with_seven_ahead_is_two_to_three_minutes() -> None:
    taken = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    now = 10.0
    # Jobs 0-2 ahead go at 60, 3-5 at 120, 6 and this one at 180.
    assert turn_at(taken, VIZARD, 7, now) == 180.0
    assert estimate(turn_at(taken, VIZARD, 7, now) - now) == "about 3 minutes"
    assert [turn_at(taken, VIZARD, n, now) for n in range(7)] == [60, 60, 60, 120, 120, 120, 180]


def test_a_free_slot_is_this_jobs_turn_now_unless_jobs_ahead_take_it() -> None:
    taken = [[0.0, 10.0], [0.0, 10.0]]
    assert turn_at(taken, VIZARD, 0, 20.0) == 20.0
    assert turn_at(taken, VIZARD, 1, 20.0) == 60.0
    assert turn_at(taken, VIZARD, 2, 20.0) == 70.0
    assert taken == [[0.0, 10.0], [0.0, 10.0]], "the store's answer is left as it was"


def test_the_hour_window_holds_the_line_once_full() -> None:
    taken = [[], [float(t) for t in range(0, 20 * 60, 60)]]  # 20 this hour, one a minute
    now = 20 * 60.0
    # The first slot of the hour frees at 3600, the next at 3660.
    assert turn_at(taken, VIZARD, 0, now) == 3600.0
    assert turn_at(taken, VIZARD, 1, now) == 3660.0


def test_waiting_for_a_rate_window_says_the_place_the_wait_and_why() -> None:
    assert rate_notice("Vizard", 2, 95.0, VIZARD) == (
        "3rd in line for Vizard, about 2 minutes: Vizard accepts 3 new requests a minute "
        "and 20 an hour from Reelbot. Nothing to do on your side."
    )


def test_waiting_for_a_workspace_keys_window_says_it_is_that_accounts() -> None:
    assert rate_notice("Vizard", 0, 30.0, VIZARD, own_key=True) == (
        "Next in line for Vizard, less than a minute: Vizard accepts 3 new requests a minute "
        "and 20 an hour for this workspace's account. Nothing to do on your side."
    )


def test_waiting_for_an_in_flight_limit_is_honest_about_the_wait() -> None:
    assert in_flight_notice("HeyGen", 0, 1, JobKind.AVATAR) == (
        "Next in line for HeyGen, waiting for the running video to finish (HeyGen works on "
        "1 at a time for Reelbot)."
    )
    assert in_flight_notice("Cuttr", 3, 10, JobKind.CLIPS) == (
        "4th in line for Cuttr, waiting for one of the 10 running clip requests to finish "
        "(Cuttr works on 10 at a time for Reelbot)."
    )
