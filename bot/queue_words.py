"""Where a waiting job stands, in words: its place in its provider's line and how long the
wait should be. Pure: the place and the rate windows' slots come from the store.

The wait for a rate window is worked out by letting every job ahead take the next slot the
moment one opens (in every window at once), which is how the line is served; the wait for an
in-flight limit cannot be known (it is how long the running jobs take), so it says so.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from providers.base import JobKind, RateWindow

# What an in-flight limit counts, by kind: one and many.
_RUNNING: dict[JobKind, tuple[str, str]] = {
    JobKind.CLIPS: ("clip request", "clip requests"),
    JobKind.AVATAR: ("video", "videos"),
    JobKind.DESCRIPTION: ("description", "descriptions"),
}
# Each job ahead is simulated; a line longer than this is estimated as if it were this long.
_SIMULATED_AHEAD = 2000


def ordinal(n: int) -> str:
    teens = 10 <= n % 100 <= 20
    return f"{n}{'th' if teens else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def place(ahead: int, label: str) -> str:
    """ "Next in line for Vizard" (nobody ahead), "3rd in line for Vizard" (two ahead)."""
    if ahead <= 0:
        return f"Next in line for {label}"
    return f"{ordinal(ahead + 1)} in line for {label}"


def estimate(seconds: float) -> str:
    """A wait in round words: whole minutes rounded up, whole hours from 90 minutes on."""
    if seconds < 60:
        return "less than a minute"
    if seconds < 90 * 60:
        minutes = math.ceil(seconds / 60)
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {round(seconds / 3600)} hours"


def _per(seconds: int) -> str:
    return {60: "a minute", 3600: "an hour", 86400: "a day"}.get(seconds, f"every {seconds} s")


def rate_limits(windows: Sequence[RateWindow]) -> str:
    """ "3 new requests a minute and 20 an hour"."""
    parts = [f"{w.limit} {_per(w.seconds)}" for w in windows]
    if windows:
        first = windows[0]
        noun = "new request" if first.limit == 1 else "new requests"
        parts[0] = f"{first.limit} {noun} {_per(first.seconds)}"
    return " and ".join(parts)


def _room_at(taken: Sequence[float], window: RateWindow, at: float) -> float:
    """The earliest time from `at` on when `window` has a free slot (`taken` sorted)."""
    live = len(taken) - bisect.bisect_right(taken, at - window.seconds)
    if live < window.limit:
        return at
    # The slots taken before the last `limit - 1` ones must have left the window.
    return taken[len(taken) - window.limit] + window.seconds


def turn_at(
    taken: Sequence[Sequence[float]], windows: Sequence[RateWindow], ahead: int, now: float
) -> float:
    """When a job with `ahead` jobs in front of it gets its slot, each job ahead taking the
    next slot the moment it opens. `taken` holds each window's slots, as the store gives."""
    slots = [sorted(times) for times in taken]
    at = now
    for _ in range(min(ahead, _SIMULATED_AHEAD) + 1):
        while True:
            later = max([at, *(_room_at(s, w, at) for s, w in zip(slots, windows, strict=True))])
            if later == at:
                break
            at = later
        for times in slots:
            times.append(at)
    return at


def rate_notice(
    label: str, ahead: int, wait: float, windows: Sequence[RateWindow], *, own_key: bool = False
) -> str:
    """`own_key`: the workspace's own key (its own account), else the app's, which every
    workspace without its own key shares."""
    whose = "for this workspace's account" if own_key else "from Reelbot"
    return (
        f"{place(ahead, label)}, {estimate(wait)}: {label} accepts {rate_limits(windows)} "
        f"{whose}. Nothing to do on your side."
    )


def in_flight_notice(label: str, ahead: int, limit: int, kind: JobKind) -> str:
    one, many = _RUNNING[kind]
    running = f"the running {one}" if limit == 1 else f"one of the {limit} running {many}"
    return (
        f"{place(ahead, label)}, waiting for {running} to finish ({label} works on {limit} "
        "at a time for Reelbot)."
    )
