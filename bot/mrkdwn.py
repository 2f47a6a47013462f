"""Slack mrkdwn made safe: text from people and providers never becomes markup."""

from __future__ import annotations


def escape(text: str) -> str:
    """Text a person typed or a provider returned, made inert in mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    """A mrkdwn link whose URL cannot close the link early or smuggle markup."""
    safe = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{escape(label)}>"


def quoted(text: str, limit: int = 80) -> str:
    """A value a person typed, echoed back in a `code span`: escaped, with no backtick that
    could end the span early, and cut when long."""
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    plain = shown.replace("`", "'")
    return f"`{escape(plain)}`"
