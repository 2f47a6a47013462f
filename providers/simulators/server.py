"""What every simulator does the same way: listen on loopback, spawn work, stop cleanly.

A simulator subclasses `SimulatorServer`, hands it its routes, and spawns its callbacks with
`_spawn`; `stop()` cancels them and ends any injected timeout at once. Fault queues are
played with `next_fault`. Nothing here knows a provider, and no simulator imports a client.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections import deque
from collections.abc import Coroutine, Iterable
from typing import Any, Protocol, TypeVar

from aiohttp import web


class _Counted(Protocol):
    times: int


_F = TypeVar("_F", bound=_Counted)


def next_fault(queue: deque[_F] | None) -> _F | None:
    """The fault at the head of `queue`, used once: it leaves when its `times` run out."""
    if not queue:
        return None
    injected = queue[0]
    injected.times -= 1
    if injected.times <= 0:
        queue.popleft()
    return injected


class SimulatorServer(abc.ABC):
    """An aiohttp server on a free loopback port, with the tasks it spawned.

    `path` is what `base_url` adds to the origin (an API prefix, or nothing).
    """

    def __init__(self, *, path: str = "") -> None:
        self._path = path
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._origin = ""

    # --- what a simulator supplies ------------------------------------------------------------
    @abc.abstractmethod
    def _routes(self) -> Iterable[web.AbstractRouteDef]:
        """The provider's endpoints."""

    def _client_max_size(self) -> int:
        """The largest request body the server reads (aiohttp's own default)."""
        return 1024**2

    async def _open(self) -> None:
        """Set up what the handlers need, before the server listens (nothing by default)."""
        return None

    async def _close(self) -> None:
        """Release what `_open` set up, once spawned tasks are done (nothing by default)."""
        return None

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=self._client_max_size())
        app.add_routes(self._routes())
        self._stopping.clear()
        await self._open()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._origin = f"http://{bound_host}:{bound_port}"

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        if not self._origin:
            raise RuntimeError("the simulator is not started")
        return f"{self._origin}{self._path}"

    # --- for handlers -----------------------------------------------------------------------
    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in the background until it ends or `stop()` cancels it."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hold(self, delay: float) -> web.StreamResponse | None:
        """An injected timeout: wait `delay` seconds, or a 503 at once when `stop()` comes."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), delay)
        if self._stopping.is_set():
            return web.Response(status=503, text="shutting down")
        return None
