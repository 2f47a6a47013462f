"""What an installer's browser shows when an install cannot finish: a plain sentence and a way
to start again, instead of Bolt's generic error page (its cookie handling is kept)."""

from __future__ import annotations

import html

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.response import BoltResponse

# Bolt's failure reasons (slack_bolt/oauth/async_oauth_flow.py) and Slack's `error` values.
_SENTENCES = {
    "invalid_browser": "This install link has expired or was already used.",
    "invalid_state": "This install link has expired or was already used.",
    "access_denied": "The install was cancelled in Slack, so nothing changed.",
}
_OTHERWISE = "Slack could not finish installing Reelbot."


def failure_page(reason: str, install_path: str) -> str:
    sentence = _SENTENCES.get(reason, _OTHERWISE)
    link = html.escape(install_path, quote=True)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Reelbot</title></head>'
        f"<body><h2>Reelbot is not installed</h2><p>{html.escape(sentence)}</p>"
        f'<p>Start again from <a href="{link}">the install page</a>.</p></body></html>\n'
    )


async def _success(args: AsyncSuccessArgs) -> BoltResponse:
    return await args.default.success(args)


async def _failure(args: AsyncFailureArgs) -> BoltResponse:
    answer = await args.default.failure(args)  # clears the state cookie
    answer.body = failure_page(args.reason, args.settings.install_path)
    return answer


CALLBACK_OPTIONS = AsyncCallbackOptions(success=_success, failure=_failure)
