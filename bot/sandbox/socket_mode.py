"""Socket Mode for the local Slack: a websocket on the sandbox's own port that carries envelopes.

apps.connections.open (answered by the sandbox, with an app-level token) issues a one-time
ws:// URL here. On connect the server says `hello`, as Slack does; tests then push slash
commands and interactions down the socket and get back the client's ack, whose payload is
what Slack would show (an ephemeral text, a modal's `response_action`, ...).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web

if TYPE_CHECKING:
    from bot.sandbox.server import SlackSandbox

JSONDict = dict[str, Any]

# Slack drops an envelope the app has not acknowledged within 3 s.
ACK_SECONDS = 3.0
# Slack sends `disconnect` (reason "warning") some ten seconds before this; the sandbox never does.
_CONNECTION_SECONDS = 18_060
# Interactions whose ack may carry a payload (response_action, options); the rest ack empty.
_PAYLOAD_INTERACTIONS = ("view_submission", "block_suggestion")


@dataclass
class _Pending:
    connection_id: str
    answer: asyncio.Future[JSONDict] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class SocketModeServer:
    """Slack's side of Socket Mode for one app: connection URLs, the socket, envelopes, acks."""

    def __init__(self, sandbox: SlackSandbox, *, app_tokens: Iterable[str] = ()) -> None:
        self.sandbox = sandbox
        self.app_tokens: set[str] = set(app_tokens)
        self.envelopes: list[JSONDict] = []  # every envelope sent, in order
        self.acks: list[JSONDict] = []  # every message the client sent back, in order
        self.connects = 0  # websockets accepted so far (a reconnect adds one)
        # False: pings go unanswered, as on a socket that went stale (is_connected() holds).
        self.answer_pings = True
        self._tickets: set[str] = set()
        self._sockets: dict[str, web.WebSocketResponse] = {}
        self._pending: dict[str, _Pending] = {}
        self._changed = asyncio.Event()

    def add_app_token(self, token: str) -> None:
        if not token.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        self.app_tokens.add(token)

    def add_routes(self, app: web.Application) -> None:
        """Serve the websockets from the sandbox's application (called before it starts)."""
        app.router.add_get("/socket/{connection_id}", self._socket)
        app.on_shutdown.append(self._close_all)

    def open_connection(self) -> JSONDict:
        """The answer to apps.connections.open, once the sandbox has checked the app token."""
        ticket = secrets.token_hex(12)
        self._tickets.add(ticket)
        host = self.sandbox.base_url.removeprefix("http://")
        return {"url": f"ws://{host}/socket/{ticket}"}

    # -- state readable by tests ---------------------------------------------------------

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets.values())

    async def wait_connected(self) -> None:
        """Return once a client holds an open socket; bound it with `asyncio.timeout(...)`."""
        while not self.connected:
            await self._changed.wait()

    # -- what Slack sends ----------------------------------------------------------------

    async def send_slash_command(self, fields: dict[str, str]) -> JSONDict:
        """Deliver a slash command; returns the ack's payload ({} for an empty ack)."""
        return await self._deliver("slash_commands", dict(fields), accepts_payload=True)

    async def send_interactive(self, payload: JSONDict) -> JSONDict:
        """Deliver a shortcut, block action or view submission; returns the ack's payload."""
        accepts = payload.get("type") in _PAYLOAD_INTERACTIONS
        return await self._deliver("interactive", payload, accepts_payload=accepts)

    async def _deliver(self, kind: str, payload: JSONDict, *, accepts_payload: bool) -> JSONDict:
        connection_id, ws = self._current()
        envelope_id = str(uuid.uuid4())
        envelope: JSONDict = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_payload,
        }
        pending = _Pending(connection_id)
        self._pending[envelope_id] = pending
        self.envelopes.append(envelope)
        try:
            await ws.send_str(json.dumps(envelope))
            async with asyncio.timeout(ACK_SECONDS):
                return await pending.answer
        except TimeoutError:
            raise TimeoutError(
                f"no ack for {kind} envelope {envelope_id} within {ACK_SECONDS:g} s"
            ) from None
        finally:
            self._pending.pop(envelope_id, None)

    def _current(self) -> tuple[str, web.WebSocketResponse]:
        # Slack spreads envelopes over an app's connections; the newest one is as good as any.
        for connection_id, ws in reversed(self._sockets.items()):
            if not ws.closed:
                return connection_id, ws
        raise ConnectionError("no Socket Mode client is connected")

    # -- the websocket -------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.match_info["connection_id"]
        if connection_id not in self._tickets:
            # The URL is good for one connection: reconnecting means apps.connections.open again.
            return web.Response(status=401, text="invalid_ticket")
        self._tickets.discard(connection_id)
        # Pings are answered here, so a test can stop answering (a socket gone stale).
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        self._sockets[connection_id] = ws
        self.connects += 1
        self._touch()
        try:
            await ws.send_json(self._hello())
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._on_text(str(message.data))
                elif message.type == WSMsgType.PING and self.answer_pings:
                    await ws.pong(message.data)
        finally:
            del self._sockets[connection_id]
            self._abandon(connection_id)
            self._touch()
        return ws

    def _hello(self) -> JSONDict:
        return {
            "type": "hello",
            "num_connections": sum(not ws.closed for ws in self._sockets.values()),
            "debug_info": {
                "host": "applink-sandbox",
                "build_number": 1,
                "approximate_connection_time": _CONNECTION_SECONDS,
            },
            "connection_info": {"app_id": self.sandbox.app_id},
        }

    def _on_text(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        self.acks.append(message)
        pending = self._pending.get(str(message.get("envelope_id", "")))
        if pending is None or pending.answer.done():
            return
        payload = message.get("payload")
        pending.answer.set_result(payload if isinstance(payload, dict) else {})

    def _abandon(self, connection_id: str) -> None:
        """Envelopes in flight on a closed socket will never be acked: say so at once."""
        for envelope_id, pending in self._pending.items():
            if pending.connection_id == connection_id and not pending.answer.done():
                pending.answer.set_exception(
                    ConnectionError(f"the socket closed before envelope {envelope_id} was acked")
                )

    async def _close_all(self, _: web.Application) -> None:
        for ws in list(self._sockets.values()):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    def _touch(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
