"""Safe downloads: Slack files and provider outputs, fetched without trusting their links.

Every hop of a download is checked before anything connects: the scheme must be https (plain
http only for a configured origin, such as a simulator on loopback); the host is resolved
and every address it resolves to must be public, unless the origin is configured; then the
request goes to the address that was checked (so a second DNS answer cannot swap it for a
private one), with the host name kept for the Host header and TLS. Redirects are followed by
hand, each hop checked the same way, at most `max_redirects`. The body is streamed to a size
cap. A bearer token (the bot token) is sent only to the configured token hosts (Slack's own
file host) and never across a redirect to anywhere else.

Every refusal is a DownloadRefused whose message is a sentence for the person who asked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class DownloadRefused(Exception):
    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason  # for logs and tests: scheme, private, size, status, redirects


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def origin_of(url: str) -> str:
    """`scheme://host:port` with the default port spelled out, lower case."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass(frozen=True)
class DownloadPolicy:
    max_bytes: int
    # Origins (`origin_of`) that may be plain http and private: the configured base URLs.
    trusted_origins: frozenset[str] = frozenset()
    # Host names the bearer token may be sent to (over https, or to a trusted origin).
    token_hosts: frozenset[str] = frozenset({"files.slack.com"})
    max_redirects: int = 5
    timeout: float = 60.0
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def build(
        cls,
        max_bytes: int,
        trusted_urls: Collection[str] = (),
        token_hosts: Collection[str] = ("files.slack.com",),
        **options: object,
    ) -> DownloadPolicy:
        origins = frozenset(origin_of(u) for u in trusted_urls if u)
        hosts = frozenset(h.lower() for h in token_hosts)
        return cls(max_bytes, origins, hosts, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Hop:
    url: str
    host: str
    address: str
    trusted: bool


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPAT = ipaddress.ip_network("::/96")


def _embedded(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _COMPAT and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded(ip)
        if inner is not None and not (inner.is_global and not inner.is_multicast):
            return False
    return ip.is_global and not ip.is_multicast


async def _check(url: str, policy: DownloadPolicy, what: str) -> _Hop:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise DownloadRefused(f"The link to the {what} is not valid.", reason="url") from None
    trusted = origin_of(url) in policy.trusted_origins
    if parts.scheme.lower() != "https" and not trusted:
        raise DownloadRefused(
            f"The {what} is only fetched over https, and its link (or a redirect) is not.",
            reason="scheme",
        )
    if not host or parts.username or parts.password:
        raise DownloadRefused(f"The link to the {what} is not valid.", reason="url")
    try:
        addresses = await policy.resolver(host, port)
    except OSError:
        raise DownloadRefused(
            f"The {what}'s host ({host}) could not be found.", reason="dns"
        ) from None
    if not addresses:
        raise DownloadRefused(f"The {what}'s host ({host}) could not be found.", reason="dns")
    if not trusted and not all(_public(a) for a in addresses):
        raise DownloadRefused(
            f"The {what}'s link points at a private or internal address, which Reelbot "
            "never fetches.",
            reason="private",
        )
    return _Hop(url, host, addresses[0], trusted)


def _pinned(hop: _Hop) -> tuple[str, dict[str, str], dict[str, object]]:
    """The URL with the checked address in place of the host; the Host header and the TLS
    name keep the real host."""
    parts = urlsplit(hop.url)
    address = f"[{hop.address}]" if ":" in hop.address else hop.address
    netloc = address + (f":{parts.port}" if parts.port else "")
    url = parts._replace(netloc=netloc).geturl()
    host_header = hop.host + (f":{parts.port}" if parts.port else "")
    return url, {"Host": host_header}, {"sni_hostname": hop.host}


@dataclass
class Download:
    """An open download: `chunks()` streams the body, never more than the cap."""

    url: str
    content_type: str
    size: int | None
    _response: httpx.Response
    _limit: int
    _what: str

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._body():
            seen += len(chunk)
            if seen > self._limit:
                raise DownloadRefused(
                    f"The {self._what} is larger than the {self._limit / 1_000_000:g} MB "
                    "Reelbot takes.",
                    reason="size",
                )
            yield chunk

    async def _body(self) -> AsyncIterator[bytes]:
        """The bytes as sent (no content decoding, so Content-Length counts them); a
        connection lost midway is a refusal that may pass."""
        try:
            async for chunk in self._response.aiter_raw():
                yield chunk
        except httpx.TransportError:
            raise DownloadRefused(
                f"The {self._what} could not be fetched: its host stopped answering.",
                reason="unreachable",
            ) from None

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class Downloader:
    def __init__(
        self, policy: DownloadPolicy, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.policy = policy
        self._client = httpx.AsyncClient(
            timeout=policy.timeout, follow_redirects=False, transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    def open(self, url: str, *, token: str | None = None, what: str = "file") -> _Opening:
        """`async with downloader.open(url) as download:` ... `download.chunks()`."""
        return _Opening(self, url, token, what)

    async def _start(
        self, url: str, token: str | None, what: str
    ) -> tuple[Download, httpx.Response]:
        policy = self.policy
        for _ in range(policy.max_redirects + 1):
            hop = await _check(url, policy, what)
            target, headers, extensions = _pinned(hop)
            if token is not None and hop.host in policy.token_hosts:
                headers["Authorization"] = f"Bearer {token}"
            headers["Accept-Encoding"] = "identity"
            request = self._client.build_request("GET", target, headers=headers)
            request.extensions.update(extensions)
            try:
                response = await self._client.send(request, stream=True)
            except httpx.TransportError:
                raise DownloadRefused(
                    f"The {what} could not be fetched: its host did not answer.",
                    reason="unreachable",
                ) from None
            if response.status_code in _REDIRECTS and "location" in response.headers:
                await response.aclose()
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                await response.aclose()
                raise DownloadRefused(
                    f"The {what} could not be fetched (HTTP {response.status_code}).",
                    reason="status",
                )
            size = response.headers.get("content-length")
            length = int(size) if size and size.isdigit() else None
            if length is not None and length > policy.max_bytes:
                await response.aclose()
                raise DownloadRefused(
                    f"The {what} is larger than the {policy.max_bytes / 1_000_000:g} MB "
                    "Reelbot takes.",
                    reason="size",
                )
            kind = response.headers.get("content-type", "application/octet-stream")
            found = Download(
                url, kind.split(";")[0].strip(), length, response, policy.max_bytes, what
            )
            return found, response
        raise DownloadRefused(f"The {what}'s link redirects too many times.", reason="redirects")


class _Opening:
    def __init__(self, downloader: Downloader, url: str, token: str | None, what: str) -> None:
        self._downloader, self._url, self._token, self._what = downloader, url, token, what
        self._response: httpx.Response | None = None

    async def __aenter__(self) -> Download:
        found, self._response = await self._downloader._start(self._url, self._token, self._what)
        return found

    async def __aexit__(self, *_: object) -> None:
        if self._response is not None:
            await self._response.aclose()
