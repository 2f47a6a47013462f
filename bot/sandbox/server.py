"""A local Slack: the Web API methods Reelbot uses, served over HTTP on loopback.

Every handler below is synchronous and runs after the request body has been read, so each
API call changes the state in one step of the event loop: the bot under test, running in
the same loop, never sees half an update and no lock is needed.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import json
import math
import mimetypes
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from bot.sandbox.history import flag, history_page, replies_page
from bot.sandbox.socket_mode import SocketModeServer
from bot.sandbox.validation import (
    MESSAGE_TEXT_LIMIT,
    JSONDict,
    _ApiError,
    _content,
    _missing,
    _read_params,
    _str,
    _valid_blocks,
    _valid_metadata,
    _valid_view,
)
from bot.sandbox.workspaces import OAuthDesk, Workspace

SANDBOX_BOT_TOKEN = "xoxb-sandbox-token"  # noqa: S105 - the sandbox's own made-up token
# The app-level token the sandbox's Socket Mode accepts unless told otherwise (made up too).
SANDBOX_APP_TOKEN = "xapp-1-A0REELBOT-123-abcdef"  # noqa: S105
GENERAL_CHANNEL = "C0GENERAL"
# Granted at install: what a Reelbot app in this workspace may do.
SANDBOX_BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:join",
    "im:write",
    "files:write",
    "files:read",
    "users:read",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
)
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60
# Slack lets a trigger_id open a modal for 3 s after the interaction that issued it.
TRIGGER_SECONDS = 3.0
# Pseudo-method name under which byte uploads to an upload_url are recorded and can be failed.
UPLOAD = "upload"


@dataclass
class Call:
    """One request to the Web API (or to an upload_url / response_url), as received.

    `committed` says the call took effect, even when it was answered with an error (a fault
    injected with `after_commit=True`).
    """

    method: str
    params: dict[str, Any]
    at: float
    error: str | None = None
    committed: bool = False
    # The workspace whose bot token the call carried (None: no valid token).
    team: str | None = None


@dataclass
class Edit:
    """What one chat.update (or replace_original) set the message to."""

    text: str
    blocks: list[JSONDict]
    at: float


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[JSONDict] = field(default_factory=list)
    thread_ts: str | None = None
    metadata: JSONDict | None = None
    files: list[JSONDict] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    via: str = "chat.postMessage"


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[JSONDict]
    via: Literal["chat.postEphemeral", "response_url"]
    thread_ts: str | None = None
    ts: str = ""


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False


@dataclass
class Channel:
    id: str
    name: str
    member: bool = True
    private: bool = False
    user: str | None = None  # the other person, for a DM
    team: str = ""  # the workspace it belongs to


@dataclass
class User:
    id: str
    name: str
    is_admin: bool = False
    is_owner: bool = False
    team: str = ""


@dataclass
class CallHook:
    """What `SlackSandbox.on_call` registered; `fired` counts the calls that ran `action`."""

    method: str
    action: Callable[[], object]
    when: Callable[[JSONDict, JSONDict | None], bool] | None
    times: int
    fired: int = 0


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    times: int
    after_commit: bool = False

    def answer(self) -> _ApiError:
        return _ApiError(self.error, status=self.status, retry_after=self.retry_after)


@dataclass
class _ResponseUrl:
    channel: str
    user: str
    message_ts: str | None
    created: float
    uses: int = 0
    last_ephemeral: Ephemeral | None = None


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SlackSandbox:
    """A Slack workspace on 127.0.0.1 that answers `AsyncWebClient(base_url=sandbox.api_url)`."""

    def __init__(
        self,
        *,
        bot_token: str = SANDBOX_BOT_TOKEN,
        app_token: str = SANDBOX_APP_TOKEN,
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0REELBOT",
        post_rate_per_channel: float | None = None,
        post_burst: float | None = None,
        trigger_seconds: float | None = TRIGGER_SECONDS,
    ) -> None:
        """`post_rate_per_channel` (posts a second) turns on chat.postMessage's per-channel
        token bucket, which holds `post_burst` posts (default max(1, rate)); off by default.
        """
        if post_rate_per_channel is not None and post_rate_per_channel <= 0:
            raise ValueError("post_rate_per_channel must be positive")
        if post_burst is not None and post_burst < 1:
            raise ValueError("post_burst must be at least 1")
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_domain = "reelbot-sandbox"
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id[1:]
        self.app_id = "A0REELBOT"
        self.post_rate_per_channel = post_rate_per_channel
        self.post_burst = post_burst
        self.trigger_seconds = trigger_seconds
        # What Slack says in X-OAuth-Scopes on every answer to the bot token: the scopes the
        # app was granted at install (a test may take one away).
        self.bot_scopes: list[str] = list(SANDBOX_BOT_SCOPES)
        self.socket_mode = SocketModeServer(self, app_tokens=[app_token])
        # Workspaces by team id, each with the bot tokens it issued (bot/sandbox/workspaces.py);
        # the first is this sandbox's own, where `bot_token` works from the start.
        self.workspaces: dict[str, Workspace] = {
            team_id: Workspace(team_id, "Reelbot Sandbox", self.team_domain, {bot_token})
        }
        self.oauth = OAuthDesk(self.workspaces, self.app_id, bot_user_id)
        # The workspace of the Web API call being handled (handlers run one at a time).
        self._caller_team = team_id

        self.calls: list[Call] = []
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views_opened: list[JSONDict] = []
        self.home_views: dict[str, JSONDict] = {}
        self.uploads: dict[str, Upload] = {}
        # Requests for url_private without the bot token (refused, as Slack refuses them).
        self.refused_downloads = 0
        # File ids served to the bot token (url_private).
        self.served_downloads: list[str] = []
        self.deleted: list[Message] = []
        self._pre_holds: dict[
            str, list[tuple[asyncio.Event, Callable[[JSONDict], bool] | None]]
        ] = {}

        self._messages: dict[str, list[Message]] = {}
        self._views: dict[str, JSONDict] = {}
        self._triggers_used: set[str] = set()
        self._triggers_issued: dict[str, tuple[str, float]] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._hooks: dict[str, list[CallHook]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._last_ts_us = 0
        self._serial = 0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"

        self.add_channel(GENERAL_CHANNEL, "general")
        self.add_user("U0ALICE", "alice")
        self.add_user(bot_user_id, "reelbot")

        self._handlers: dict[str, Callable[[JSONDict], JSONDict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "conversations.open": self._conversations_open,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
        }
        # Methods that take the app-level token (xapp-) instead of the bot token.
        self._app_handlers: dict[str, Callable[[JSONDict], JSONDict]] = {
            "apps.connections.open": lambda _: self.socket_mode.open_connection(),
        }

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        app.router.add_get("/files/{file_id}/download/{name}", self._download)
        app.router.add_post("/response/{token}", self._respond)
        self.socket_mode.add_routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])
        # A wildcard bind is still reached on loopback; URLs must name one address.
        self._host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # -- setup for tests -----------------------------------------------------------------

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        member: bool = True,
        private: bool = False,
        team: str | None = None,
    ) -> None:
        self.channels[channel_id] = Channel(
            channel_id, name, member=member, private=private, team=team or self.team_id
        )
        self._messages.setdefault(channel_id, [])

    def add_workspace(self, team_id: str, name: str) -> None:
        """Another workspace; the app has no token there until it is installed."""
        self.workspaces[team_id] = Workspace(team_id, name, name.lower().replace(" ", "-"))

    def enable_oauth(self, client_id: str, client_secret: str) -> None:
        """The app's OAuth credentials, which oauth.v2.access checks."""
        self.oauth.client_id, self.oauth.client_secret = client_id, client_secret

    def authorize(self, team_id: str, user_id: str, *, redirect_uri: str | None = None) -> str:
        """`user_id` allows the app in `team_id` on Slack's consent page: the code Slack
        sends to the app's redirect URL (one use, ten minutes)."""
        return self.oauth.authorize(team_id, user_id, tuple(self.bot_scopes), redirect_uri)

    def uninstall(self, team_id: str) -> None:
        """An admin removes the app from `team_id`: its bot tokens stop working."""
        self.workspaces[team_id].tokens.clear()

    def bot_tokens(self, team_id: str) -> set[str]:
        return set(self.workspaces[team_id].tokens)

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        team: str | None = None,
    ) -> None:
        self.users[user_id] = User(
            user_id, name, is_admin=is_admin, is_owner=is_owner, team=team or self.team_id
        )

    def person_posts(self, channel_id: str, text: str, *, thread_ts: str | None = None) -> Message:
        """A message a person wrote (for message shortcuts to act on and threads to grow)."""
        message = Message(
            channel=channel_id,
            ts=self._next_ts(),
            text=text,
            thread_ts=thread_ts,
            via="person",
        )
        self._messages.setdefault(channel_id, []).append(message)
        return message

    def person_uploads(
        self, channel_id: str, filename: str, data: bytes, *, text: str = ""
    ) -> Message:
        """A file a person uploaded into a channel, as a message carrying it (url_private
        serves it back with the bot token only)."""
        upload = Upload(self._next_id("F"), filename, len(data), data=data, completed=True)
        upload.channel = channel_id
        self.uploads[upload.file_id] = upload
        message = Message(
            channel=channel_id,
            ts=self._next_ts(),
            text=text,
            files=[self._file_json(upload)],
            via="person",
        )
        self._messages.setdefault(channel_id, []).append(message)
        return message

    def fail_next(
        self,
        method: str,
        *,
        error: str = "ratelimited",
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        after_commit: bool = False,
    ) -> None:
        """Answer the next `times` calls to `method` with this error instead of handling them.

        `method` is a Web API method name, or "upload" for the byte POSTs to upload_urls.
        With `after_commit`, Slack does the work and still answers the error: the call is
        handled (the message stored, the update applied) and then answered with this error
        and status. A call the handler refuses (a real Slack error) is answered with that
        error and leaves the fault for the next call.
        """
        self._check_method(method)
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = _Fault(error, status, retry_after, times, after_commit)
        self._faults.setdefault(method, []).append(fault)

    def on_call(
        self,
        method: str,
        action: Callable[[], object],
        *,
        when: Callable[[JSONDict, JSONDict | None], bool] | None = None,
        times: int = 1,
    ) -> CallHook:
        """Run `action()` synchronously once a call to `method` has taken effect, before its
        answer is written: the caller has changed Slack but not yet heard back (for crash
        tests: SIGSTOP the bot right there).

        `when(params, result)` picks the calls that count: the call's parameters and the
        handler's answer (None for "upload", which answers no JSON). A call that takes no
        effect (refused, or failed by a fault without `after_commit`) never counts; one
        answered by an `after_commit` fault does. Fires for the first `times` calls that
        count, then is dropped. An exception from `action` propagates: the call stays done
        and recorded, and aiohttp answers 500. When `action` returns an awaitable, the answer
        waits for it (an in-process caller held before it hears back).
        """
        self._check_method(method)
        if times < 1:
            raise ValueError("times must be at least 1")
        hook = CallHook(method, action, when, times)
        self._hooks.setdefault(method, []).append(hook)
        return hook

    def hold_before(
        self,
        method: str,
        until: asyncio.Event,
        *,
        when: Callable[[JSONDict], bool] | None = None,
    ) -> None:
        """Hold the next call to `method` (that `when(params)` picks) before it takes effect,
        until `until` is set: a request still on its way while other calls go ahead."""
        self._check_method(method)
        self._pre_holds.setdefault(method, []).append((until, when))

    async def _hold_before(self, method: str, params: JSONDict) -> None:
        for hold in list(self._pre_holds.get(method, [])):
            until, when = hold
            if when is None or when(params):
                self._pre_holds[method].remove(hold)
                await until.wait()
                return

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id, as Slack attaches to an interaction by `user_id`."""
        self._serial += 1
        trigger = f"{self._serial}{int(time.time())}.{self.team_id[1:]}.{secrets.token_hex(16)}"
        self._triggers_issued[trigger] = (user_id, time.monotonic())
        return trigger

    def response_url(self, channel_id: str, user_id: str, *, message_ts: str | None = None) -> str:
        """A response_url for an interaction by `user_id` in `channel_id`.

        With `message_ts` (a block action on a message), replace_original and delete_original
        act on that message; without it they act on the last ephemeral this URL posted.
        """
        token = secrets.token_urlsafe(18)
        self._response_urls[token] = _ResponseUrl(
            channel_id, user_id, message_ts, created=time.monotonic()
        )
        return f"{self.base_url}/response/{token}"

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with `user_id`, opened the way conversations.open opens it."""
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            user = self.users.get(user_id)
            self.channels[channel_id] = Channel(
                channel_id,
                user_id,
                member=True,
                private=True,
                user=user_id,
                team=user.team if user is not None else self._caller_team,
            )
            self._messages[channel_id] = []
        return channel_id

    # -- state readable by tests ---------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        return list(self._messages.get(channel, []))

    def roots(self, channel: str) -> list[Message]:
        return [m for m in self._messages.get(channel, []) if m.thread_ts is None]

    def thread(self, channel: str, ts: str) -> list[Message]:
        return [m for m in self._messages.get(channel, []) if m.thread_ts == ts]

    def message(self, channel: str, ts: str) -> Message:
        found = self._find_message(channel, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return found

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Return once `predicate()` holds, re-checking after every change to the sandbox.

        Bound it with `asyncio.timeout(...)` around the call.
        """
        while not predicate():
            await self._changed.wait()

    # -- HTTP handlers -------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method, {}, time.time())
        result: JSONDict | None = None
        headers: dict[str, str] = {}
        status = 200
        try:
            call.params, token = await _read_params(request)
            app_level = method in self._app_handlers
            oauth = method == "oauth.v2.access"
            if app_level:
                self._authorize_app(token)
            elif not oauth:
                call.team = self._caller_team = self._authorize(token)
                self._same_team(call.params, call.team)
                headers["X-OAuth-Scopes"] = ",".join(self.bot_scopes)
            await self._hold_before(method, call.params)
            fault = self._fault_for(method)
            if oauth:
                asked = dict(call.params)
                call.params.pop("client_secret", None)  # never kept where tests print calls
                result = self.oauth.exchange(asked, request.headers.get("Authorization", ""))
                call.team = str(result["team"]["id"])
            else:
                handler = (self._app_handlers if app_level else self._handlers).get(method)
                if handler is None:
                    raise _ApiError("unknown_method")
                result = handler(call.params)
            call.committed = True
            if fault is not None:
                raise self._spend(method, fault)
            body: JSONDict = {"ok": True, **result}
        except _ApiError as exc:
            body = {"ok": False, "error": exc.error}
            if exc.messages:
                body["response_metadata"] = {"messages": exc.messages}
            status = exc.status
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
            call.error = exc.error
        self.calls.append(call)
        self._touch()
        if call.committed:
            await self._run_hooks(call, result)
        return web.json_response(body, status=status, headers=headers)

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        call = Call(UPLOAD, {"file_id": file_id, "length": len(data)}, time.time())
        self.calls.append(call)
        self._touch()
        upload = self.uploads.get(file_id)
        if upload is None:
            call.error = "file_not_found"
            return web.Response(status=404, text="file_not_found")
        try:
            fault = self._fault_for(UPLOAD)
            upload.data = data
            call.committed = True
            if fault is not None:
                raise self._spend(UPLOAD, fault)
            answer = web.Response(text=f"OK - {len(data)}", content_type="text/plain")
        except _ApiError as exc:
            call.error = exc.error
            headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
            answer = web.Response(status=exc.status, text=exc.error, headers=headers)
        if call.committed:
            await self._run_hooks(call, None)
        return answer

    async def _download(self, request: web.Request) -> web.Response:
        """url_private, as files.slack.com serves it: only with the bot token."""
        auth = request.headers.get("Authorization", "")
        bearer = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else ""
        team = self.oauth.team_of(bearer) if bearer else None
        upload = self.uploads.get(request.match_info["file_id"])
        channel = self.channels.get(upload.channel or "") if upload is not None else None
        if team is None or (channel is not None and channel.team != team):
            self.refused_downloads += 1
            return web.Response(status=403, text="not_authed")
        if upload is None or upload.data is None:
            return web.Response(status=404, text="file_not_found")
        mimetype = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        self.served_downloads.append(upload.file_id)
        return web.Response(body=upload.data, content_type=mimetype)

    async def _respond(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw = await request.read()
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = None
        params: JSONDict = payload if isinstance(payload, dict) else {}
        call = Call("response_url", params, time.time())
        self.calls.append(call)
        self._touch()
        status, text = self._handle_response_url(token, payload)
        if status != 200:
            call.error = text
        return web.Response(status=status, text=text)

    # -- shared rules --------------------------------------------------------------------

    def _touch(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _authorize(self, token: str | None) -> str:
        """The workspace whose bot token this is."""
        if not token:
            raise _ApiError("not_authed")
        team = self.oauth.team_of(token)
        if team is None:
            raise _ApiError("invalid_auth")
        return team

    def _same_team(self, params: JSONDict, team: str) -> None:
        """A workspace's token sees only that workspace's channels, as in Slack."""
        for name in ("channel", "channel_id"):
            channel = self.channels.get(str(params.get(name) or ""))
            if channel is not None and channel.team != team:
                raise _ApiError("channel_not_found")

    def _authorize_app(self, token: str | None) -> None:
        if not token:
            raise _ApiError("not_authed")
        if not token.startswith("xapp-"):
            raise _ApiError("not_allowed_token_type")
        if token not in self.socket_mode.app_tokens:
            raise _ApiError("invalid_auth")

    def _check_method(self, method: str) -> None:
        if (
            method not in (UPLOAD, "oauth.v2.access")
            and method not in self._handlers
            and method not in self._app_handlers
        ):
            raise ValueError(f"the sandbox has no method {method!r}")

    def _fault_for(self, method: str) -> _Fault | None:
        """Raise the fault due now for `method`, or return the one due after its handler."""
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.after_commit:
            return fault
        raise self._spend(method, fault)

    def _spend(self, method: str, fault: _Fault) -> _ApiError:
        fault.times -= 1
        if fault.times == 0:
            self._faults[method].remove(fault)
        return fault.answer()

    async def _run_hooks(self, call: Call, result: JSONDict | None) -> None:
        for hook in list(self._hooks.get(call.method, [])):
            if hook.when is not None and not hook.when(call.params, result):
                continue
            hook.fired += 1
            if hook.fired >= hook.times:
                self._hooks[call.method].remove(hook)
            outcome = hook.action()
            if inspect.isawaitable(outcome):
                # An in-process caller "frozen" before it hears the answer: hold it back.
                await outcome

    def _take_post_slot(self, channel: str) -> None:
        """chat.postMessage's per-channel token bucket; a 429 says when a token is free."""
        rate = self.post_rate_per_channel
        if rate is None:
            return
        now = time.monotonic()
        capacity = self.post_burst if self.post_burst is not None else max(1.0, rate)
        bucket = self._buckets.setdefault(channel, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            wait = (1.0 - bucket.tokens) / rate
            raise _ApiError("ratelimited", status=429, retry_after=max(1, math.ceil(wait)))
        bucket.tokens -= 1.0

    def _next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_ts_us = max(now_us, self._last_ts_us + 1)
        seconds, micros = divmod(self._last_ts_us, 1_000_000)
        return f"{seconds}.{micros:06d}"

    def _next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}0{self._serial:08d}"

    def _writable_channel(self, channel_id: str) -> Channel:
        """The channel a post goes to, or the error Slack gives for it."""
        if channel_id[:1] in ("U", "W") and channel_id not in self.channels:
            # Posting to a user id lands in the app's DM with that person.
            return self.channels[self.dm_channel(channel_id)]
        return self._member_channel(channel_id)

    def _member_channel(self, channel_id: str) -> Channel:
        """A channel the bot is in (to post to or read), or the error Slack gives for it."""
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _ApiError("channel_not_found")
        if not channel.member:
            raise _ApiError("channel_not_found" if channel.private else "not_in_channel")
        return channel

    def _find_message(self, channel: str, ts: str) -> Message | None:
        for message in self._messages.get(channel, []):
            if message.ts == ts:
                return message
        return None

    def _thread_root(self, channel: str, thread_ts: Any) -> str | None:
        if thread_ts in (None, ""):
            return None
        parent = self._find_message(channel, str(thread_ts))
        if parent is None:
            raise _ApiError("thread_not_found")
        # A reply's ts joins the thread it is in, as Slack's clients do.
        return parent.thread_ts or parent.ts

    def _message_json(self, message: Message, *, metadata: bool = True) -> JSONDict:
        out: JSONDict = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": message.ts,
            "text": message.text,
        }
        if message.blocks:
            out["blocks"] = copy.deepcopy(message.blocks)
        if message.thread_ts:
            out["thread_ts"] = message.thread_ts
        if metadata and message.metadata:
            out["metadata"] = copy.deepcopy(message.metadata)
        if message.files:
            out["files"] = copy.deepcopy(message.files)
        if message.edits:
            out["edited"] = {"user": self.bot_user_id, "ts": f"{message.edits[-1].at:.6f}"}
        return out

    def _listed_json(self, message: Message, params: JSONDict) -> JSONDict:
        """A message as conversations.history and .replies list it: metadata only when
        include_all_metadata is set, and a parent's thread summary."""
        out = self._message_json(message, metadata=flag(params, "include_all_metadata"))
        if message.thread_ts is not None:
            out["parent_user_id"] = self.bot_user_id
            return out
        replies = self.thread(message.channel, message.ts)
        if replies:
            out["thread_ts"] = message.ts
            out["reply_count"] = len(replies)
            out["reply_users_count"] = 1
            out["reply_users"] = [self.bot_user_id]
            out["latest_reply"] = replies[-1].ts
            out["is_locked"] = False
            out["subscribed"] = False
        return out

    # -- Web API methods -----------------------------------------------------------------

    def _auth_test(self, params: JSONDict) -> JSONDict:
        workspace = self.workspaces[self._caller_team]
        return {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.name,
            "user": self.users[self.bot_user_id].name,
            "team_id": workspace.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: JSONDict) -> JSONDict:
        channel = self._writable_channel(_str(params, "channel", "channel_not_found"))
        text, blocks = _content(params)
        metadata = _valid_metadata(params.get("metadata"))
        thread_ts = self._thread_root(channel.id, params.get("thread_ts"))
        self._take_post_slot(channel.id)
        message = Message(
            channel=channel.id,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=metadata,
        )
        self._messages[channel.id].append(message)
        return {"channel": channel.id, "ts": message.ts, "message": self._message_json(message)}

    def _chat_delete(self, params: JSONDict) -> JSONDict:
        channel_id = _str(params, "channel", "channel_not_found")
        if channel_id not in self.channels:
            raise _ApiError("channel_not_found")
        message = self._find_message(channel_id, _str(params, "ts", "message_not_found"))
        if message is None:
            raise _ApiError("message_not_found")
        self._messages[channel_id].remove(message)
        self.deleted.append(message)
        return {"channel": channel_id, "ts": message.ts}

    def _chat_update(self, params: JSONDict) -> JSONDict:
        channel_id = _str(params, "channel", "channel_not_found")
        if channel_id not in self.channels:
            raise _ApiError("channel_not_found")
        message = self._find_message(channel_id, _str(params, "ts", "message_not_found"))
        if message is None:
            raise _ApiError("message_not_found")
        text = message.text
        if "text" in params:
            text = str(params["text"] or "")[:MESSAGE_TEXT_LIMIT]
        blocks = _valid_blocks(params["blocks"]) if "blocks" in params else message.blocks
        if not text and not blocks and not message.files:
            raise _ApiError("no_text")
        # Without metadata the message keeps what it had.
        metadata = _valid_metadata(params.get("metadata")) or message.metadata
        message.text, message.blocks, message.metadata = text, blocks, metadata
        message.edits.append(Edit(message.text, copy.deepcopy(message.blocks), time.time()))
        return {
            "channel": channel_id,
            "ts": message.ts,
            "text": message.text,
            "message": self._message_json(message),
        }

    def _chat_post_ephemeral(self, params: JSONDict) -> JSONDict:
        channel = self._writable_channel(_str(params, "channel", "channel_not_found"))
        user = _str(params, "user", "user_not_found")
        text, blocks = _content(params)
        thread_ts = self._thread_root(channel.id, params.get("thread_ts"))
        ephemeral = Ephemeral(
            channel.id, user, text, blocks, "chat.postEphemeral", thread_ts, self._next_ts()
        )
        self.ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _conversations_open(self, params: JSONDict) -> JSONDict:
        if params.get("channel"):
            channel_id = str(params["channel"])
            if channel_id not in self.channels:
                raise _ApiError("channel_not_found")
            return {"no_op": True, "already_open": True, "channel": {"id": channel_id}}
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("users_list_not_supplied")
        if len(users) == 1:
            existed = "D" + users[0][1:] in self.channels
            channel_id = self.dm_channel(users[0])
        else:
            digest = hashlib.sha1(",".join(sorted(users)).encode(), usedforsecurity=False)
            channel_id = "G" + digest.hexdigest()[:10].upper()
            existed = channel_id in self.channels
            if not existed:
                self.channels[channel_id] = Channel(
                    channel_id, "mpdm-" + "--".join(users), True, True, team=self._caller_team
                )
                self._messages[channel_id] = []
        return {"no_op": existed, "already_open": existed, "channel": {"id": channel_id}}

    def _conversations_join(self, params: JSONDict) -> JSONDict:
        channel = self.channels.get(_str(params, "channel", "channel_not_found"))
        if channel is None:
            raise _ApiError("channel_not_found")
        if channel.private:
            raise _ApiError("method_not_supported_for_channel_type")
        channel.member = True
        return {"channel": {"id": channel.id, "name": channel.name, "is_member": True}}

    def _conversations_history(self, params: JSONDict) -> JSONDict:
        channel = self._member_channel(_str(params, "channel", "channel_not_found"))
        page = history_page(self.roots(channel.id), params)
        return {
            "messages": [self._listed_json(m, params) for m in page.messages],
            **page.paging(),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
        }

    def _conversations_replies(self, params: JSONDict) -> JSONDict:
        channel = self._member_channel(_str(params, "channel", "channel_not_found"))
        if params.get("ts") in (None, ""):
            raise _ApiError("invalid_arguments", messages=[_missing("ts")])
        found = self._find_message(channel.id, str(params["ts"]))
        if found is None:
            raise _ApiError("thread_not_found")
        # Any message of a thread stands for the whole thread.
        root = found.thread_ts or found.ts
        parent = self._find_message(channel.id, root)
        page = replies_page(parent, self.thread(channel.id, root), params)
        return {"messages": [self._listed_json(m, params) for m in page.messages], **page.paging()}

    def _users_info(self, params: JSONDict) -> JSONDict:
        user = self.users.get(_str(params, "user", "user_not_found"))
        if user is None:
            raise _ApiError("user_not_found")
        return {
            "user": {
                "id": user.id,
                "team_id": self.team_id,
                "name": user.name,
                "real_name": user.name.title(),
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_bot": user.id == self.bot_user_id,
                "deleted": False,
            }
        }

    def _views_open(self, params: JSONDict) -> JSONDict:
        trigger = str(params.get("trigger_id") or params.get("interactivity_pointer") or "")
        if not trigger:
            raise _ApiError(
                "invalid_arguments", messages=["[ERROR] missing required field: trigger_id"]
            )
        if trigger in self._triggers_used:
            raise _ApiError("exchanged_trigger_id")
        issued = self._triggers_issued.get(trigger)
        if (
            issued is not None
            and self.trigger_seconds is not None
            and time.monotonic() - issued[1] > self.trigger_seconds
        ):
            raise _ApiError("expired_trigger_id")
        view = _valid_view(params.get("view"), "modal")
        external_id = str(view.get("external_id") or "")
        if external_id and any(v["external_id"] == external_id for v in self._views.values()):
            raise _ApiError("duplicate_external_id")
        self._triggers_used.add(trigger)
        view_id = self._next_id("V")
        stored = self._stored_view(view_id, view)
        self._views[view_id] = stored
        self.views_opened.append(stored)
        return {"view": copy.deepcopy(stored)}

    def _views_update(self, params: JSONDict) -> JSONDict:
        stored: JSONDict | None = None
        if params.get("view_id"):
            stored = self._views.get(str(params["view_id"]))
        elif params.get("external_id"):
            wanted = str(params["external_id"])
            stored = next((v for v in self._views.values() if v["external_id"] == wanted), None)
        else:
            raise _ApiError("invalid_arguments", messages=["[ERROR] view_id or external_id"])
        if stored is None:
            raise _ApiError("not_found")
        if params.get("hash") and params["hash"] != stored["hash"]:
            raise _ApiError("hash_conflict")
        view = _valid_view(params.get("view"), "modal")
        fresh = self._stored_view(stored["id"], view, external_id=stored["external_id"])
        fresh["state"] = stored["state"]
        stored.clear()
        stored.update(fresh)
        return {"view": copy.deepcopy(stored)}

    def _views_publish(self, params: JSONDict) -> JSONDict:
        user_id = str(params.get("user_id") or "")
        if not user_id:
            raise _ApiError(
                "invalid_arguments", messages=["[ERROR] missing required field: user_id"]
            )
        previous = self.home_views.get(user_id)
        if previous is not None and params.get("hash") and params["hash"] != previous["hash"]:
            raise _ApiError("hash_conflict")
        view = _valid_view(params.get("view"), "home")
        view_id = previous["id"] if previous is not None else self._next_id("V")
        stored = self._stored_view(view_id, view)
        self.home_views[user_id] = stored
        return {"view": copy.deepcopy(stored)}

    def _stored_view(self, view_id: str, view: JSONDict, *, external_id: str = "") -> JSONDict:
        return {
            "id": view_id,
            "team_id": self._caller_team,
            "type": view["type"],
            "title": copy.deepcopy(view.get("title")),
            "submit": copy.deepcopy(view.get("submit")),
            "close": copy.deepcopy(view.get("close")),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": str(view.get("private_metadata", "")),
            "callback_id": str(view.get("callback_id", "")),
            "external_id": str(view.get("external_id") or external_id),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "app_installed_team_id": self._caller_team,
            "bot_id": self.bot_id,
        }

    def _files_get_upload_url(self, params: JSONDict) -> JSONDict:
        filename = str(params.get("filename") or "")
        try:
            length = int(params.get("length", ""))
        except (TypeError, ValueError):
            length = -1
        if not filename or length < 0:
            raise _ApiError("invalid_arguments", messages=["[ERROR] filename and length required"])
        file_id = self._next_id("F")
        self.uploads[file_id] = Upload(file_id, filename, length)
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: JSONDict) -> JSONDict:
        files = params.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise _ApiError("invalid_arguments", messages=["[ERROR] files must be a JSON list"])
        chosen: list[tuple[Upload, str]] = []
        for item in files:
            upload = self.uploads.get(str(item.get("id", "")))
            # Never uploaded, or already completed once: Slack no longer knows the ticket.
            if upload is None or upload.data is None or upload.completed:
                raise _ApiError("file_not_found")
            chosen.append((upload, str(item.get("title") or upload.filename)))
        channel_id = params.get("channel_id") or str(params.get("channels") or "").split(",")[0]
        channel = self._writable_channel(str(channel_id)) if channel_id else None
        thread_ts = self._thread_root(channel.id, params.get("thread_ts")) if channel else None
        comment = str(params.get("initial_comment") or "")
        shared: list[JSONDict] = []
        for upload, title in chosen:
            upload.completed = True
            upload.title = title
            upload.initial_comment = comment or None
            upload.channel = channel.id if channel else None
            upload.thread_ts = thread_ts
            shared.append(self._file_json(upload))
        if channel is not None:
            message = Message(
                channel=channel.id,
                ts=self._next_ts(),
                text=comment,
                thread_ts=thread_ts,
                files=shared,
                via="files.completeUploadExternal",
            )
            self._messages[channel.id].append(message)
        return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _files_delete(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file") or "")
        upload = self.uploads.pop(file_id, None)
        if upload is None:
            raise _ApiError("file_not_found")
        for messages in self._messages.values():
            for message in list(messages):
                if any(f.get("id") == file_id for f in message.files):
                    message.files = [f for f in message.files if f.get("id") != file_id]
                    if not message.files and not message.text:
                        messages.remove(message)
        return {}

    def _files_info(self, params: JSONDict) -> JSONDict:
        upload = self.uploads.get(str(params.get("file") or ""))
        if upload is None or not upload.completed:
            raise _ApiError("file_not_found")
        shares: JSONDict = {}
        if upload.channel is not None:
            kind = (
                "private"
                if self.channels.get(upload.channel, None) and self.channels[upload.channel].private
                else "public"
            )
            entry: JSONDict = {"ts": upload.thread_ts or ""}
            if upload.thread_ts:
                entry["thread_ts"] = upload.thread_ts
            shares = {kind: {upload.channel: [entry]}}
        return {"file": self._file_json(upload) | {"shares": shares}}

    def _file_json(self, upload: Upload) -> JSONDict:
        return {
            "id": upload.file_id,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "mimetype": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
            "filetype": upload.filename.rpartition(".")[2].lower(),
            "size": len(upload.data or b""),
            "url_private": f"{self.base_url}/files/{upload.file_id}/{upload.filename}",
            "url_private_download": (
                f"{self.base_url}/files/{upload.file_id}/download/{upload.filename}"
            ),
        }

    # -- response_url --------------------------------------------------------------------

    def _handle_response_url(self, token: str, payload: Any) -> tuple[int, str]:
        target = self._response_urls.get(token)
        if target is None:
            return 404, "invalid_token"
        if time.monotonic() - target.created > RESPONSE_URL_SECONDS:
            return 404, "expired_url"
        if target.uses >= RESPONSE_URL_USES:
            return 404, "used_url"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        target.uses += 1
        if payload.get("delete_original"):
            return self._delete_original(target)
        try:
            text, blocks = _content(payload)
        except _ApiError as exc:
            return 400, exc.error
        original = self._find_message(target.channel, target.message_ts or "")
        if payload.get("replace_original") and original is not None:
            original.text, original.blocks = text, blocks
            original.edits.append(Edit(text, copy.deepcopy(blocks), time.time()))
            return 200, "ok"
        if payload.get("response_type") == "in_channel":
            channel_id = target.channel
            if channel_id not in self.channels:
                return 404, "channel_not_found"
            try:
                thread_ts = self._thread_root(channel_id, payload.get("thread_ts"))
            except _ApiError as exc:
                return 400, exc.error
            message = Message(
                channel_id, self._next_ts(), text, blocks, thread_ts, via="response_url"
            )
            self._messages[channel_id].append(message)
            return 200, "ok"
        if payload.get("replace_original") and target.last_ephemeral is not None:
            target.last_ephemeral.text, target.last_ephemeral.blocks = text, blocks
            return 200, "ok"
        ephemeral = Ephemeral(
            target.channel, target.user, text, blocks, "response_url", None, self._next_ts()
        )
        self.ephemerals.append(ephemeral)
        target.last_ephemeral = ephemeral
        return 200, "ok"

    def _delete_original(self, target: _ResponseUrl) -> tuple[int, str]:
        original = self._find_message(target.channel, target.message_ts or "")
        if original is not None:
            self._messages[target.channel].remove(original)
            return 200, "ok"
        if target.last_ephemeral is not None and target.last_ephemeral in self.ephemerals:
            self.ephemerals.remove(target.last_ephemeral)
            target.last_ephemeral = None
            return 200, "ok"
        return 404, "message_not_found"
