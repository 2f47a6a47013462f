"""Words and look-ups the listeners share."""

from __future__ import annotations

from bot.service import Reelbot
from providers import vizard
from providers.base import Provider

NOT_CONFIGURED = (
    ":warning: Vizard is not set up in this workspace yet, so I can't make clips. "
    "A workspace admin must set VIZARD_API_KEY for Reelbot."
)
MODAL_FAILED = (
    "Slack didn't let me open the form in time. Run `/clip` again, or give the link directly: "
    "`/clip https://example.com/talk.mp4`."
)
STORE_DOWN = (
    "Sorry, Reelbot can't save your request right now, so nothing was sent. "
    "Please try again in a minute."
)


def clip_provider(reelbot: Reelbot) -> Provider | None:
    return reelbot.providers.get(vizard.NAME)
