"""A local Slack for tests and `reelbot demo`: the Web API server, signed requests, transcripts."""

from bot.sandbox.server import Call, CallHook, Ephemeral, Message, SlackSandbox, Upload
from bot.sandbox.signing import SlackRequests, sign
from bot.sandbox.transcript import render_channel, render_ephemerals

__all__ = [
    "Call",
    "CallHook",
    "Ephemeral",
    "Message",
    "SlackRequests",
    "SlackSandbox",
    "Upload",
    "render_channel",
    "render_ephemerals",
    "sign",
]
