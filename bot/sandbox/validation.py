"""Request parsing and Slack's checks on what a call sends: text, Block Kit, views, metadata.

Free of sandbox state. Everything here raises `_ApiError`, which the server answers as
`{"ok": false, "error": ...}` with the error's HTTP status and headers.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

MESSAGE_TEXT_LIMIT = 40_000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
VIEW_SIZE_LIMIT = 250_000

# Form-encoded calls carry these as JSON strings; JSON calls carry them as objects.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "files")
# The error a JSON string field answers when it does not parse.
_BAD_JSON_FIELD = {"blocks": "invalid_blocks_format", "metadata": "invalid_metadata_format"}


class _ApiError(Exception):
    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        messages: list[str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.retry_after = retry_after
        self.messages = messages or []


async def _read_params(request: web.Request) -> tuple[JSONDict, str | None]:
    """Query, form and JSON parameters as one dict, plus the token that came with them."""
    params: JSONDict = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        if raw:
            try:
                loaded = json.loads(raw)
            except ValueError:
                raise _ApiError("invalid_json") from None
            if not isinstance(loaded, dict):
                raise _ApiError("invalid_json")
            params.update(loaded)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in _JSON_FIELDS:
        value = params.get(name)
        if isinstance(value, str):
            try:
                params[name] = json.loads(value)
            except ValueError:
                raise _ApiError(_BAD_JSON_FIELD.get(name, "invalid_arguments")) from None
    token = params.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    return params, (str(token) if token else None)


def _missing(name: str) -> str:
    return f"[ERROR] missing required field: {name} [json-pointer:/{name}]"


def _str(params: JSONDict, name: str, error: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise _ApiError(error)
    return str(value)


def _content(params: JSONDict) -> tuple[str, list[JSONDict]]:
    text = str(params.get("text") or "")[:MESSAGE_TEXT_LIMIT]
    blocks = _valid_blocks(params.get("blocks") or [])
    if not text and not blocks and not params.get("attachments"):
        raise _ApiError("no_text")
    return text, blocks


def _valid_blocks(blocks: Any, limit: int = MESSAGE_BLOCK_LIMIT) -> list[JSONDict]:
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        raise _ApiError("invalid_blocks_format")
    problems = _block_problems(blocks, limit, "/blocks")
    if problems:
        raise _ApiError("invalid_blocks", messages=problems)
    return copy.deepcopy(blocks)


def _valid_view(view: Any, kind: str) -> JSONDict:
    if not isinstance(view, dict):
        raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    problems: list[str] = []
    if view.get("type") != kind:
        problems.append(f"must be '{kind}' [json-pointer:/view/type]")
    if kind == "modal":
        for name in ("title", "submit", "close"):
            _too_long(problems, _text_of(view.get(name)), 24, f"/view/{name}/text")
        if not _text_of(view.get("title")):
            problems.append("missing required field: title [json-pointer:/view/title]")
    _too_long(problems, str(view.get("private_metadata", "")), 3000, "/view/private_metadata")
    _too_long(problems, str(view.get("callback_id", "")), 255, "/view/callback_id")
    blocks = view.get("blocks", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        problems.append("must be a list of objects [json-pointer:/view/blocks]")
    else:
        problems.extend(_block_problems(blocks, VIEW_BLOCK_LIMIT, "/view/blocks"))
    if len(json.dumps(view)) > VIEW_SIZE_LIMIT:
        problems.append("view is larger than 250 kB [json-pointer:/view]")
    if problems:
        raise _ApiError("invalid_arguments", messages=[f"[ERROR] {p}" for p in problems])
    return view


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return ""


def _too_long(problems: list[str], value: str, limit: int, pointer: str) -> None:
    if len(value) > limit:
        problems.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")


def _block_problems(blocks: list[JSONDict], limit: int, base: str) -> list[str]:
    """Slack's published Block Kit limits that Reelbot's messages could plausibly break."""
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{base}]")
    for i, block in enumerate(blocks):
        at = f"{base}/{i}"
        kind = block.get("type")
        if not isinstance(kind, str):
            problems.append(f"missing required field: type [json-pointer:{at}]")
            continue
        _too_long(problems, str(block.get("block_id", "")), 255, f"{at}/block_id")
        if kind == "header":
            _too_long(problems, _text_of(block.get("text")), 150, f"{at}/text/text")
        elif kind == "section":
            _too_long(problems, _text_of(block.get("text")), 3000, f"{at}/text/text")
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"no more than 10 items allowed [json-pointer:{at}/fields]")
            for j, item in enumerate(fields):
                _too_long(problems, _text_of(item), 2000, f"{at}/fields/{j}/text")
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                _element_problems(problems, accessory, f"{at}/accessory")
        elif kind == "input":
            _too_long(problems, _text_of(block.get("label")), 2000, f"{at}/label/text")
            element = block.get("element")
            if not isinstance(element, dict):
                problems.append(f"missing required field: element [json-pointer:{at}]")
            else:
                _element_problems(problems, element, f"{at}/element")
        elif kind == "image":
            for name in ("image_url", "alt_text"):
                if not block.get(name):
                    problems.append(f"missing required field: {name} [json-pointer:{at}]")
        elif kind in ("actions", "context"):
            elements = block.get("elements") or []
            most = 25 if kind == "actions" else 10
            if len(elements) > most:
                problems.append(f"no more than {most} items allowed [json-pointer:{at}/elements]")
            for j, element in enumerate(elements):
                if isinstance(element, dict):
                    _element_problems(problems, element, f"{at}/elements/{j}")
    return problems


def _element_problems(problems: list[str], element: JSONDict, at: str) -> None:
    _too_long(problems, str(element.get("action_id", "")), 255, f"{at}/action_id")
    kind = element.get("type")
    if kind == "button":
        _too_long(problems, _text_of(element.get("text")), 75, f"{at}/text/text")
        _too_long(problems, str(element.get("value", "")), 2000, f"{at}/value")
    elif kind == "image":
        for name in ("image_url", "alt_text"):
            if not element.get(name):
                problems.append(f"missing required field: {name} [json-pointer:{at}]")
    elif kind == "plain_text_input":
        most = element.get("max_length", 3000)
        if not isinstance(most, int) or not 1 <= most <= 3000:
            problems.append(f"must be between 1 and 3000 [json-pointer:{at}/max_length]")
        elif len(str(element.get("initial_value", ""))) > most:
            problems.append(f"initial_value is longer than max_length [json-pointer:{at}]")
    elif kind in ("static_select", "multi_static_select", "external_select"):
        options = element.get("options") or []
        if len(options) > 100:
            problems.append(f"no more than 100 items allowed [json-pointer:{at}/options]")
        chosen = element.get("initial_options") or (
            [element["initial_option"]] if element.get("initial_option") else []
        )
        for j, option in enumerate([*options, *chosen]):
            problems.extend(option_problems(option, f"{at}/options/{j}"))


def option_problems(option: Any, at: str) -> list[str]:
    """What Slack refuses in one option object (text 75, value 150, description 75)."""
    if not isinstance(option, dict):
        return [f"must be an object [json-pointer:{at}]"]
    problems: list[str] = []
    if not _text_of(option.get("text")):
        problems.append(f"missing required field: text [json-pointer:{at}]")
    _too_long(problems, _text_of(option.get("text")), 75, f"{at}/text/text")
    value = option.get("value")
    if not isinstance(value, str) or not value:
        problems.append(f"missing required field: value [json-pointer:{at}]")
    else:
        _too_long(problems, value, 150, f"{at}/value")
    if "description" in option:
        _too_long(problems, _text_of(option.get("description")), 75, f"{at}/description/text")
    return problems


def options_response_problems(answer: Any) -> list[str]:
    """What Slack refuses in an app's answer to an options request (block_suggestion)."""
    if not isinstance(answer, dict):
        return ["the answer must be a JSON object"]
    if "option_groups" in answer:
        groups = answer["option_groups"]
        if not isinstance(groups, list) or len(groups) > 100:
            return ["option_groups: at most 100 groups"]
        problems: list[str] = []
        for i, group in enumerate(groups):
            _too_long(problems, _text_of(group.get("label")), 75, f"/option_groups/{i}/label")
            options = group.get("options") or []
            if len(options) > 100:
                problems.append(f"no more than 100 items allowed [/option_groups/{i}/options]")
            for j, option in enumerate(options):
                problems.extend(option_problems(option, f"/option_groups/{i}/options/{j}"))
        return problems
    options = answer.get("options")
    if not isinstance(options, list):
        return ["the answer needs options or option_groups"]
    if len(options) > 100:
        return ["no more than 100 items allowed [/options]"]
    return [p for j, option in enumerate(options) for p in option_problems(option, f"/options/{j}")]


def _valid_metadata(metadata: Any) -> JSONDict | None:
    """Message metadata as Slack stores it, or None when none was given.

    An object with a non-empty string `event_type` and an object `event_payload` of flat
    string, number or boolean values; anything else is `invalid_metadata_format`.
    """
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        raise _ApiError("invalid_metadata_format")
    event_type = metadata.get("event_type")
    payload = metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise _ApiError("invalid_metadata_format")
    if not all(isinstance(v, str | int | float) for v in payload.values()):
        raise _ApiError("invalid_metadata_format")
    return {"event_type": event_type, "event_payload": copy.deepcopy(payload)}
