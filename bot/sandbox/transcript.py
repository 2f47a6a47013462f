"""The sandbox's channels as a person reads them in Slack, as plain text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.sandbox.server import Message, SlackSandbox

REPLY = "  └ "
REPLY_MORE = "    "

_ANGLED = re.compile(r"<([^<>]+)>")


def render_channel(
    sandbox: SlackSandbox, channel: str, *, users: Mapping[str, str] | None = None
) -> str:
    """Every root message in posting order, each followed by its thread replies."""
    names = _Names(sandbox, users)
    lines = [names.channel(channel)]
    for root in sandbox.roots(channel):
        lines.append("")
        lines.extend(_message_lines(root, names))
        for reply in sandbox.thread(channel, root.ts):
            body = _message_lines(reply, names)
            lines.append(REPLY + body[0])
            lines.extend(_indent(body[1:], REPLY_MORE))
    return "\n".join(lines)


def render_ephemerals(
    sandbox: SlackSandbox,
    user: str | None = None,
    *,
    users: Mapping[str, str] | None = None,
) -> str:
    """The messages only one person saw (all people, or just `user`), in order."""
    names = _Names(sandbox, users)
    lines: list[str] = []
    for ephemeral in sandbox.ephemerals:
        if user is not None and ephemeral.user != user:
            continue
        lines.append(
            f"only {names.user(ephemeral.user)} sees, in {names.channel(ephemeral.channel)}:"
        )
        body = _content_lines(ephemeral.text, ephemeral.blocks, [], names)
        lines.extend(_indent(body, "  "))
    return "\n".join(lines)


def render_blocks(
    blocks: Iterable[Mapping[str, Any]],
    *,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> list[str]:
    """Block Kit blocks as the lines of text a person reads in them."""
    names = _Names(None, users, channels)
    lines: list[str] = []
    for block in blocks:
        lines.extend(_block_lines(block, names))
    return lines


class _Names:
    def __init__(
        self,
        sandbox: SlackSandbox | None,
        users: Mapping[str, str] | None,
        channels: Mapping[str, str] | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._users = dict(users or {})
        self._channels = dict(channels or {})

    def user(self, user_id: str, label: str = "") -> str:
        return "@" + (self._users.get(user_id) or label or user_id)

    def channel(self, channel_id: str, label: str = "") -> str:
        if label:
            return "#" + label
        if channel_id in self._channels:
            return "#" + self._channels[channel_id]
        known = self._sandbox.channels.get(channel_id) if self._sandbox else None
        if known is not None and known.user is not None:
            return "DM with " + self.user(known.user)
        return "#" + (known.name if known is not None else channel_id)


def _message_lines(message: Message, names: _Names) -> list[str]:
    return _content_lines(message.text, message.blocks, message.files, names)


def _content_lines(
    text: str, blocks: list[dict[str, Any]], files: list[dict[str, Any]], names: _Names
) -> list[str]:
    lines: list[str] = []
    if blocks:
        for block in blocks:
            lines.extend(_block_lines(block, names))
    elif text:
        lines.extend(_readable(text, names).splitlines())
    lines.extend(f"[file: {f.get('title') or f.get('name') or f.get('id')}]" for f in files)
    return [line.rstrip() for line in lines] or ["(empty message)"]


def _indent(lines: list[str], prefix: str) -> list[str]:
    return [(prefix + line) if line else "" for line in lines]


def _block_lines(block: Mapping[str, Any], names: _Names) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        return _text_lines(block.get("text"), names)
    if kind == "section":
        lines = _text_lines(block.get("text"), names)
        for item in block.get("fields") or []:
            lines.extend(_text_lines(item, names))
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            lines.append(_element(accessory, names))
        return lines
    if kind == "context":
        return [" · ".join(_element(e, names) for e in block.get("elements") or [])]
    if kind == "actions":
        return [" ".join(_element(e, names) for e in block.get("elements") or [])]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "video":
        return [f"[video: {_plain(block.get('title')) or block.get('alt_text', '')}]"]
    if kind == "divider":
        return ["---"]
    if kind == "rich_text":
        return _readable(_rich_text(block.get("elements") or []), names).splitlines()
    if kind == "input":
        return [f"[input: {_plain(block.get('label'))}]"]
    return [f"[{kind}]"]


def _element(element: Mapping[str, Any], names: _Names) -> str:
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return " ".join(_text_lines(element, names))
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "button":
        return f"[{_plain(element.get('text'))}]"
    label = _plain(element.get("placeholder")) or _plain(element.get("text")) or str(kind)
    return f"[{label} ▾]"


def _text_lines(obj: Any, names: _Names) -> list[str]:
    if not isinstance(obj, Mapping):
        return []
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        text = _readable(text, names)
    return text.splitlines()


def _plain(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, Mapping) else ""


def _rich_text(elements: list[Any]) -> str:
    out: list[str] = []
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        if element.get("type") in ("text", "emoji"):
            out.append(str(element.get("text") or f":{element.get('name', '')}:"))
        elif element.get("type") == "link":
            url = str(element.get("url", ""))
            out.append(f"<{url}|{element['text']}>" if element.get("text") else f"<{url}>")
        elif element.get("type") == "user":
            out.append(f"<@{element.get('user_id', '')}>")
        elif element.get("type") == "channel":
            out.append(f"<#{element.get('channel_id', '')}>")
        else:
            out.append(_rich_text(list(element.get("elements") or [])))
            if element.get("type") in ("rich_text_section", "rich_text_preformatted"):
                out.append("\n")
    return "".join(out).rstrip("\n")


def _readable(mrkdwn: str, names: _Names) -> str:
    """Slack's angle-bracket markup as a person sees it; *bold* and _italic_ stay as typed."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return names.user(target[1:], label)
        if target.startswith("#"):
            return names.channel(target[1:], label)
        if target.startswith("!"):
            if label:
                return label
            return "@" + target[1:].split("^", 1)[0]
        if label and label != target:
            return f"{label} ({target})"
        return target

    text = _ANGLED.sub(replace, mrkdwn)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
