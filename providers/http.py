"""The one httpx client every provider uses, and the retry rule that keeps creates single.

Polls are safe to repeat, so they retry on timeouts, transport errors and 5xx. A create is safe
to repeat only when it carries an idempotency key the provider honours; without one it is
retried only when the request surely never left this machine, otherwise one Slack command
could start two paid projects.

Requests travel over aiohttp (httpx-aiohttp's transport): httpx's own pool slows down sharply
with many requests in flight (encode/httpx#3215), and the poller keeps many in flight.

Only method, path and status are logged, at DEBUG: headers and bodies can hold API keys.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from providers.base import NOT_SENT, Unavailable

log = logging.getLogger(__name__)

# Called after every provider call `send` makes: (provider label, method, HTTP status or None
# when nothing came back, seconds). The bot's metrics register here; providers never import it.
Observer = Callable[[str, str, int | None, float], None]
observers: list[Observer] = []


def _observe(label: str, method: str, status: int | None, started: float) -> None:
    seconds = time.monotonic() - started
    for observer in observers:
        try:
            observer(label, method, status, seconds)
        except Exception:  # metrics never break a call
            log.exception("a provider-call observer failed")


# As many connections as the poller may use at once; idle ones close after 5 s, as httpx's
# own default, before a server is likely to drop them.
LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=5.0)


def never_sent(exc: httpx.TransportError) -> bool:
    """Whether the connection was never established, so the server cannot have seen the
    request. The aiohttp transport reports every aiohttp connection error as ConnectTimeout,
    a connection dropped mid-answer too: only a failure to connect counts."""
    if not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return False
    cause = exc.__cause__
    return not isinstance(cause, aiohttp.ClientError) or isinstance(
        cause, aiohttp.ClientConnectorError
    )


def make_client(
    base_url: str,
    headers: Mapping[str, str],
    *,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers=dict(headers),
        timeout=timeout,
        transport=transport or AiohttpTransport(limits=LIMITS),
        follow_redirects=False,
    )


def _delay(backoff: float, attempt: int) -> float:
    """Exponential backoff with equal jitter: half fixed, half random."""
    step: float = backoff * 2 ** (attempt - 1)
    return step / 2 + random.uniform(0, step / 2)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    label: str,
    idempotent: bool,
    json: Any = None,
    content: AsyncIterator[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    attempts: int = 3,
    backoff: float = 0.5,
) -> httpx.Response:
    """Send one request, retrying only where repeating it cannot do harm.

    Returns any response below 500; the caller reads the provider's own codes from it.
    Raises Unavailable when the provider could not be reached or kept answering 5xx.
    """
    unavailable = f"{label} is not answering right now; Reelbot will keep trying."
    path = httpx.URL(url).path  # never the query string: some providers put keys there
    # A streamed body can be sent once.
    attempts = 1 if content is not None else max(1, attempts)
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        started = time.monotonic()
        try:
            response = await client.request(
                method, url, json=json, content=content, headers=headers
            )
        except httpx.TransportError as exc:
            _observe(label, method, None, started)
            if never_sent(exc):
                log.debug(
                    "%s %s not sent (%s), attempt %d", method, path, type(exc).__name__, attempt
                )
                if last:
                    raise Unavailable(unavailable, code=NOT_SENT) from None
                await asyncio.sleep(_delay(backoff, attempt))
                continue
            log.debug("%s %s failed (%s), attempt %d", method, path, type(exc).__name__, attempt)
            if last or not idempotent:
                reason = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport"
                raise Unavailable(unavailable, code=reason) from None
        else:
            _observe(label, method, response.status_code, started)
            log.debug("%s %s -> %d, attempt %d", method, path, response.status_code, attempt)
            if response.status_code < 500:
                return response
            if last or not idempotent:
                raise Unavailable(unavailable, code=f"http_{response.status_code}")
        await asyncio.sleep(_delay(backoff, attempt))
    raise AssertionError("unreachable: the loop returns or raises on its last attempt")


def multipart_stream(
    fields: Mapping[str, str],
    *,
    file_field: str,
    filename: str,
    content_type: str,
    chunks: AsyncIterator[bytes],
    size: int,
) -> tuple[dict[str, str], AsyncIterator[bytes]]:
    """A multipart/form-data body that streams its file (httpx's own encoder reads files
    whole or synchronously): the headers (with the exact Content-Length) and the body."""
    boundary = secrets.token_hex(16)
    quote = str.maketrans({'"': "%22", "\\": "%5C", "\r": "%0D", "\n": "%0A"})
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name.translate(quote)}"'
        f"\r\n\r\n".encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field.translate(quote)}"; '
        f'filename="{filename.translate(quote)}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        sent = 0
        async for chunk in chunks:
            sent += len(chunk)
            if sent > size:
                raise ValueError("the file is longer than announced")
            yield chunk
        if sent != size:
            raise ValueError("the file is shorter than announced")
        yield tail

    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + size + len(tail)),
    }
    return headers, body()
