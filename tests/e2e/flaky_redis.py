"""A TCP proxy in front of Redis that can lose one answer: the command reaches Redis and runs,
then the connection drops before its reply gets back (a network fault, not a mock)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit


class FlakyRedis:
    def __init__(self, redis_url: str) -> None:
        parts = urlsplit(redis_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self._db = parts.path or "/0"
        self._marker: bytes | None = None
        self._watch: tuple[bytes, Callable[[], None]] | None = None
        self.dropped = 0
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}{self._db}"

    def lose_reply_to(self, marker: bytes) -> None:
        """The next command containing `marker` runs, and its connection drops unanswered."""
        self._marker = marker

    def on_command(self, marker: bytes, action: Callable[[], None]) -> None:
        """Run `action` once the next command containing `marker` has been passed to Redis
        (for crash tests: stop the client right after a write it made)."""
        self._watch = (marker, action)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for link in list(self._links):
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self._target)
        lost = asyncio.Event()

        async def upstream() -> None:
            while data := await client_r.read(65536):
                losing = self._marker is not None and self._marker in data
                if losing:
                    self._marker = None
                    self.dropped += 1
                    lost.set()  # before the write: its reply must never get through
                server_w.write(data)
                await server_w.drain()
                if losing:
                    return
                if self._watch is not None and self._watch[0] in data:
                    _, action = self._watch
                    self._watch = None
                    action()

        async def downstream() -> None:
            while data := await server_r.read(65536):
                if lost.is_set():
                    return
                client_w.write(data)
                await client_w.drain()

        links = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        self._links.update(links)
        try:
            await asyncio.wait(links, return_when=asyncio.FIRST_COMPLETED)
            if lost.is_set():
                await asyncio.sleep(0.2)  # Redis has run the command by now
        finally:
            for link in links:
                link.cancel()
                self._links.discard(link)
            for writer in (client_w, server_w):
                writer.close()
                with contextlib.suppress(OSError, ConnectionError):
                    await writer.wait_closed()
