"""Words the listeners share, and the one way they answer a person privately."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.jobs import Job
from bot.kinds import KINDS, KindWords
from bot.service import Outcome

MODAL_FAILED = (
    "Slack didn't let me open the form in time. Run `{command}` again, or type the request "
    "directly, e.g. `{command} {example}`."
)
STORE_DOWN_SAID = (
    "Sorry, Reelbot can't reach its job store right now. Please try again in a moment."
)
STORE_UNSURE = (
    "Sorry, Reelbot can't reach its job store right now, so it can't tell whether your "
    "request was saved. If it was, its status message appears here within a few minutes; "
    "if none does, please send it again."
)


# Of Slack's 3 s to acknowledge: what a listener that answers in its ack (a view submission's
# errors) may spend before it, leaving room for Bolt and the network.
ACK_BUDGET_S = 2.5
TOO_SLOW = "That took too long, so nothing was saved. Please press Save again."


class AckBudget:
    """The time left of ACK_BUDGET_S, counted from the listener's start."""

    def __init__(
        self, seconds: float = ACK_BUDGET_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._by = clock() + seconds

    def left(self) -> float:
        return self._by - self._clock()


def team_of(body: Mapping[str, Any]) -> str | None:
    """The workspace a command or an interaction came from."""
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team or (body.get("user") or {}).get("team_id") or "") or None


def not_configured(words: KindWords, missing: Sequence[tuple[str, str]]) -> str:
    """`missing` pairs each provider's label with the variable that would enable it."""
    labels = " or ".join(label for label, _ in missing) or "No provider"
    variables = " or ".join(variable for _, variable in missing) or "a provider's API key"
    verb = "is" if len(missing) <= 1 else "are"
    return (
        f":warning: {labels} {verb} not set up in this workspace yet, so I can't make "
        f"{words.noun}. A workspace admin must set {variables} for Reelbot."
    )


def outcome_text(outcome: Outcome, job: Job | None, verb: str) -> str:
    """Why a Confirm or Cancel did nothing, as the person who asked reads it."""
    noun = KINDS[job.kind].noun if job is not None else "results"
    if outcome is Outcome.NOT_YOURS and job is not None:
        text = (
            f"Only <@{job.user_id}>, who asked for these {noun}, can {verb} this request. "
            "Ask them if it should go ahead or stop."
        )
    elif outcome is Outcome.ALREADY_FINISHED and job is not None:
        text = f"This job has already {job.state.value}; there is nothing left to {verb}."
    elif outcome is Outcome.NOT_WAITING and job is not None:
        text = "This request is already confirmed and on its way; nothing more is needed."
    elif outcome is Outcome.EXPIRED:
        text = "This request waited too long for a confirmation and has expired; nothing was spent."
    elif outcome is Outcome.BUSY:
        text = f"That job is changing right now; please press {verb.title()} again in a moment."
    else:
        text = "I can't find that job any more; it may have expired."
    return text
