"""Safe downloads against local HTTP servers: every hop checked before any connect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from bot.downloads import Downloader, DownloadPolicy, DownloadRefused, system_resolver

MB = 1_000_000


@dataclass
class Server:
    origin: str = ""
    seen: list[web.Request] = field(default_factory=list)
    runner: web.AppRunner | None = None


async def _serve(routes: dict[str, bytes | str]) -> Server:
    """Paths to bodies (bytes) or to redirect targets (str); /chunked streams 2 MB."""
    server = Server()

    async def handle(request: web.Request) -> web.StreamResponse:
        server.seen.append(request)
        answer = routes.get(request.path)
        if answer is None:
            return web.Response(status=404)
        if isinstance(answer, str):
            raise web.HTTPFound(answer)
        if request.path == "/chunked":
            streamed = web.StreamResponse()
            await streamed.prepare(request)
            for _ in range(20):
                await streamed.write(b"x" * 100_000)
            await streamed.write_eof()
            return streamed
        return web.Response(body=answer, content_type="video/mp4")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    server.runner = web.AppRunner(app, access_log=None)
    await server.runner.setup()
    site = web.TCPSite(server.runner, "127.0.0.1", 0)
    await site.start()
    host, port = server.runner.addresses[0][:2]
    server.origin = f"http://{host}:{port}"
    return server


class Counting(httpx.AsyncBaseTransport):
    """The real transport, recording every address a request was sent to."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(str(request.url.host))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[tuple[Server, Server]]:
    other = await _serve({"/secret": b"internal"})
    main = await _serve(
        {
            "/video.mp4": b"video bytes",
            "/big": b"x" * (2 * MB),
            "/chunked": b"",
            "/to-other-http": f"{other.origin}/secret",
            "/to-other-https": other.origin.replace("http://", "https://") + "/secret",
            "/to-metadata": "https://169.254.169.254/latest/meta-data/",
            "/to-private-name": "https://intranet.example.com/x",
            "/to-mapped": "https://[::ffff:10.0.0.1]/x",
            "/loop": "/loop",
            "/to-other-host": other.origin.replace("127.0.0.1", "files.other.test") + "/secret",
        }
    )
    yield main, other
    for server in (main, other):
        assert server.runner is not None
        await server.runner.cleanup()


def _downloader(main: Server, transport: Counting) -> Downloader:
    async def resolve(host: str, port: int) -> list[str]:
        fake = {"intranet.example.com": ["10.20.30.40"], "videos.example.com": ["93.184.216.34"]}
        return fake.get(host) or await system_resolver(host, port)

    policy = DownloadPolicy.build(MB, trusted_urls=[main.origin], resolver=resolve)
    return Downloader(policy, transport=transport)


async def test_a_trusted_origin_is_fetched_and_streamed(servers: tuple[Server, Server]) -> None:
    main, _ = servers
    transport = Counting()
    downloader = _downloader(main, transport)
    async with downloader.open(f"{main.origin}/video.mp4", what="video") as download:
        assert download.content_type == "video/mp4"
        assert await download.read() == b"video bytes"
    await downloader.aclose()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-other-http", "scheme"),
        ("/to-other-https", "private"),
        ("/to-metadata", "private"),
        ("/to-private-name", "private"),
        ("/to-mapped", "private"),
        ("/loop", "redirects"),
    ],
)
async def test_a_redirect_anywhere_unsafe_is_refused_before_any_connect(
    servers: tuple[Server, Server], path: str, reason: str
) -> None:
    main, other = servers
    transport = Counting()
    downloader = _downloader(main, transport)
    with pytest.raises(DownloadRefused) as refused:
        async with downloader.open(f"{main.origin}{path}", what="video"):
            pass
    await downloader.aclose()
    assert refused.value.reason == reason
    assert refused.value.message.endswith(".") and "video" in refused.value.message
    assert other.seen == [], "nothing was fetched from the other server"
    assert set(transport.sent) == {"127.0.0.1"}, "only the trusted server was contacted"


async def test_a_host_resolving_to_a_private_address_is_never_contacted(
    servers: tuple[Server, Server],
) -> None:
    main, _ = servers
    transport = Counting()
    downloader = _downloader(main, transport)
    for url in ("https://intranet.example.com/a.mp4", "http://127.0.0.1:9/a.mp4"):
        with pytest.raises(DownloadRefused):
            async with downloader.open(url):
                pass
    await downloader.aclose()
    assert transport.sent == []


@pytest.mark.parametrize("path", ["/big", "/chunked"])
async def test_a_body_over_the_cap_is_refused(servers: tuple[Server, Server], path: str) -> None:
    main, _ = servers
    downloader = _downloader(main, Counting())
    with pytest.raises(DownloadRefused) as refused:
        async with downloader.open(f"{main.origin}{path}", what="video") as download:
            await download.read()
    await downloader.aclose()
    assert refused.value.reason == "size" and "1 MB" in refused.value.message


async def test_the_token_goes_only_to_token_hosts_and_never_across_a_redirect(
    servers: tuple[Server, Server],
) -> None:
    main, other = servers
    transport = Counting()
    policy = DownloadPolicy.build(
        MB, trusted_urls=[main.origin, other.origin], token_hosts=["files.slack.com"]
    )
    downloader = Downloader(policy, transport=transport)
    async with downloader.open(f"{main.origin}/video.mp4", token="xoxb-secret") as download:
        await download.read()
    assert "Authorization" not in main.seen[-1].headers, "127.0.0.1 is no token host"
    await downloader.aclose()
    policy = DownloadPolicy.build(
        MB, trusted_urls=[main.origin, other.origin], token_hosts=["127.0.0.1"]
    )
    downloader = Downloader(policy, transport=Counting())
    async with downloader.open(f"{main.origin}/video.mp4", token="xoxb-secret") as download:
        await download.read()
    assert main.seen[-1].headers["Authorization"] == "Bearer xoxb-secret"
    await downloader.aclose()


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1", "127.0.0.1", "169.254.169.254", "::1", "fe80::1", "fd00::1",
        "::ffff:10.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "2002:7f00:1::1",
        "::7f00:1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)  # fmt: skip
async def test_every_private_form_of_an_address_is_refused_before_connecting(
    address: str,
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", address]  # one public answer does not make it safe

    transport = Counting()
    downloader = Downloader(DownloadPolicy.build(MB, resolver=resolve), transport=transport)
    with pytest.raises(DownloadRefused) as refused:
        async with downloader.open("https://videos.example.com/a.mp4"):
            pass
    await downloader.aclose()
    assert refused.value.reason == "private"
    assert transport.sent == []


async def test_a_redirect_from_the_token_host_to_another_host_carries_no_token(
    servers: tuple[Server, Server],
) -> None:
    main, other = servers
    other_host = other.origin.replace("127.0.0.1", "files.other.test")

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    policy = DownloadPolicy.build(
        MB, trusted_urls=[main.origin, other_host], token_hosts=["127.0.0.1"], resolver=loopback
    )
    downloader = Downloader(policy, transport=Counting())
    async with downloader.open(f"{main.origin}/to-other-host", token="xoxb-secret") as download:
        assert await download.read() == b"internal"
    await downloader.aclose()
    assert main.seen[-1].headers["Authorization"] == "Bearer xoxb-secret", "the token host"
    [hop] = other.seen
    assert hop.headers["Host"].startswith("files.other.test")
    assert "Authorization" not in hop.headers, "never across a redirect to another host"
