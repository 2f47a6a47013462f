"""A SharedState kept in this process only (providers.base.SharedState), with its expiries:
for what runs once and shares nothing with replicas (`reelbot check`, tests without a store)."""

from __future__ import annotations

import time


class MemoryState:
    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        found = self._values.get(key)
        if found is None or found[1] <= time.monotonic():
            self._values.pop(key, None)
            return None
        return found[0]

    def snapshot(self) -> dict[str, str]:
        """What is held and not expired, by key."""
        return {k: v for k in list(self._values) if (v := self._live(k)) is not None}

    async def shared_get(self, key: str) -> str | None:
        return self._live(key)

    async def shared_put(self, key: str, value: str, ttl: float) -> None:
        self._values[key] = (value, time.monotonic() + ttl)

    async def shared_put_new(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._values[key] = (value, time.monotonic() + ttl)
        return True

    async def shared_delete(self, key: str, value: str | None = None) -> bool:
        live = self._live(key)
        if live is None or (value is not None and live != value):
            return False
        del self._values[key]
        return True
