"""Words the listeners share, and the one way they answer a person privately."""

from __future__ import annotations

from collections.abc import Sequence

from bot.kinds import KindWords

MODAL_FAILED = (
    "Slack didn't let me open the form in time. Run `{command}` again, or type the request "
    "directly, e.g. `{command} {example}`."
)
STORE_UNSURE = (
    "Sorry, Reelbot can't reach its job store right now, so it can't tell whether your "
    "request was saved. If it was, its status message appears here within a few minutes; "
    "if none does, please send it again."
)


def not_configured(words: KindWords, missing: Sequence[tuple[str, str]]) -> str:
    """`missing` pairs each provider's label with the variable that would enable it."""
    labels = " or ".join(label for label, _ in missing) or "No provider"
    variables = " or ".join(variable for _, variable in missing) or "a provider's API key"
    verb = "is" if len(missing) <= 1 else "are"
    return (
        f":warning: {labels} {verb} not set up in this workspace yet, so I can't make "
        f"{words.noun}. A workspace admin must set {variables} for Reelbot."
    )
