"""`reelbot check`: asks Slack, the store and every configured provider whether this
configuration works, and prints one row per check. Exit code 0 only when every check holds.

The checks run at once, each within CHECK_SECONDS, and none creates or costs anything. No row
ever shows a secret: details name hosts, never tokens, keys or a Redis password, and the
printed table is scrubbed of every secret value as a last guard.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

import aiohttp
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.registry import build_providers
from bot.settings import Settings
from bot.store import open_store
from providers.base import NOT_SENT, ProviderError, Unavailable
from providers.memory_state import MemoryState

log = logging.getLogger(__name__)

CHECK_SECONDS = 10.0
MANIFEST = "manifest.yml"
# A Slack signing secret is 32 hexadecimal characters.
SIGNING_SECRET_FORM = re.compile(r"[0-9a-fA-F]{32}")
# What Slack answers for a token it will not take: the admin must copy it again.
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)

TOKEN_ROW = "Slack bot token"  # noqa: S105 - a row's name
CLIENT_ROW = "Slack client id and secret"
SCOPES_ROW = "Slack scopes"
SIGNING_ROW = "Slack signing secret"
APP_TOKEN_ROW = "Slack app token"  # noqa: S105 - a row's name
STORE_ROW = "Store"
PROVIDERS_ROW = "Providers"


@dataclass(frozen=True)
class Row:
    what: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class _Check:
    # The rows this check gives, named ahead so a timeout can still fill them in.
    rows: tuple[str, ...]
    run: Callable[[], Awaitable[list[Row]]]


class ManifestProblem(Exception):
    """manifest.yml could not be found or read; the message says which."""


def manifest_places() -> list[Path]:
    """Where manifest.yml is looked for: the checkout the package runs from, then the working
    directory (the Docker image copies it into its WORKDIR)."""
    return [Path(__file__).resolve().parents[1] / MANIFEST, Path.cwd() / MANIFEST]


def manifest_bot_scopes(places: Sequence[Path]) -> tuple[Path, frozenset[str]]:
    """The bot scopes the manifest asks for, and the file they came from."""
    path = next((p for p in places if p.is_file()), None)
    if path is None:
        looked = ", ".join(str(p) for p in dict.fromkeys(places))
        raise ManifestProblem(f"{MANIFEST} not found (looked at {looked})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        scopes = data["oauth_config"]["scopes"]["bot"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError):
        raise ManifestProblem(f"{path} has no readable oauth_config.scopes.bot") from None
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ManifestProblem(f"{path} has no list under oauth_config.scopes.bot")
    return path, frozenset(scopes)


def _header(response: AsyncSlackResponse, name: str) -> str | None:
    return next((v for k, v in response.headers.items() if k.lower() == name.lower()), None)


def _slack_error(exc: SlackApiError) -> str:
    response = exc.response
    if response is None:
        return "an error"
    error = response.get("error")
    return str(error) if error else f"HTTP {response.status_code}"


def _slack_client(settings: Settings, token: str | None, seconds: float) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=str(settings.slack_api_url), timeout=int(seconds))


async def _slack_token(settings: Settings, places: Sequence[Path], seconds: float) -> list[Row]:
    if settings.slack_bot_token is None:
        # Many workspaces (OAuth): each install brings its own token.
        return [await _client_credentials(settings, seconds), _requested_scopes(settings, places)]
    client = _slack_client(settings, settings.slack_bot_token.get_secret_value(), seconds)
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        error = _slack_error(exc)
        fix = ": copy the Bot User OAuth Token (xoxb-…) again" if error in TOKEN_REFUSED else ""
        return [
            Row(TOKEN_ROW, False, f"Slack answered {error}{fix}"),
            Row(SCOPES_ROW, False, "not compared: auth.test failed"),
        ]
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        detail = f"no answer from {settings.slack_api_url} ({type(exc).__name__})"
        return [
            Row(TOKEN_ROW, False, detail),
            Row(SCOPES_ROW, False, "not compared: auth.test failed"),
        ]
    team, team_id, user = answer.get("team"), answer.get("team_id"), answer.get("user")
    return [Row(TOKEN_ROW, True, f"{team} ({team_id}) as @{user}"), _scopes(answer, places)]


async def _client_credentials(settings: Settings, seconds: float) -> Row:
    """oauth.v2.access with a code that cannot exist: Slack looks at the client id and secret
    first (invalid_client_id, bad_client_secret), then refuses the code (invalid_code), so
    that answer means both are right, and nothing is installed."""
    secret = settings.slack_client_secret
    assert settings.slack_client_id is not None and secret is not None
    client = _slack_client(settings, None, seconds)
    try:
        await client.oauth_v2_access(
            client_id=settings.slack_client_id,
            client_secret=secret.get_secret_value(),
            code="reelbot-check",
        )
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error == "invalid_code":
            return Row(CLIENT_ROW, True, f"Slack knows client id {settings.slack_client_id}")
        fixes = {
            "invalid_client_id": ": check SLACK_CLIENT_ID (Basic Information → Client ID)",
            "bad_client_secret": ": check SLACK_CLIENT_SECRET (Basic Information → Client Secret)",
        }
        return Row(CLIENT_ROW, False, f"Slack answered {error}{fixes.get(error, '')}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return Row(
            CLIENT_ROW, False, f"no answer from {settings.slack_api_url} ({type(exc).__name__})"
        )
    return Row(CLIENT_ROW, False, "Slack took a made-up install code: is SLACK_API_URL Slack's?")


def _requested_scopes(settings: Settings, places: Sequence[Path]) -> Row:
    """With many workspaces, the scopes each install asks for (SLACK_SCOPES) against the
    manifest's."""
    try:
        path, wanted = manifest_bot_scopes(places)
    except ManifestProblem as exc:
        return Row(SCOPES_ROW, False, f"not compared: {exc}")
    missing = sorted(wanted - set(settings.scopes))
    if missing:
        return Row(
            SCOPES_ROW,
            False,
            f"installs would miss {', '.join(missing)}: SLACK_SCOPES must hold every scope "
            f"of {path.name}",
        )
    return Row(SCOPES_ROW, True, f"installs ask for all {len(wanted)} that {path.name} lists")


def _scopes(answer: AsyncSlackResponse, places: Sequence[Path]) -> Row:
    try:
        path, wanted = manifest_bot_scopes(places)
    except ManifestProblem as exc:
        return Row(SCOPES_ROW, False, f"not compared: {exc}")
    header = _header(answer, "X-OAuth-Scopes")
    if header is None:
        return Row(SCOPES_ROW, False, "Slack did not say which scopes the token has")
    granted = {s.strip() for s in header.split(",") if s.strip()}
    missing = sorted(wanted - granted)
    if missing:
        return Row(
            SCOPES_ROW,
            False,
            f"missing {', '.join(missing)}: add them to the app ({path.name}) and reinstall it",
        )
    return Row(SCOPES_ROW, True, f"all {len(wanted)} that {path.name} asks for are granted")


async def _app_token(settings: Settings, seconds: float) -> list[Row]:
    assert settings.slack_app_token is not None
    client = _slack_client(settings, None, seconds)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as exc:
        error = _slack_error(exc)
        fix = (
            ": create an app-level token with connections:write for SLACK_APP_TOKEN"
            if error in TOKEN_REFUSED or error == "not_allowed_token_type"
            else ""
        )
        return [Row(APP_TOKEN_ROW, False, f"Slack answered {error}{fix}")]
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        detail = f"no answer from {settings.slack_api_url} ({type(exc).__name__})"
        return [Row(APP_TOKEN_ROW, False, detail)]
    return [Row(APP_TOKEN_ROW, True, "accepted: Slack offered a Socket Mode connection")]


def _signing_secret(settings: Settings) -> Row:
    if settings.slack_signing_secret is None:
        return Row(SIGNING_ROW, False, "not set (HTTP mode needs it)")
    if not SIGNING_SECRET_FORM.fullmatch(settings.slack_signing_secret.get_secret_value()):
        return Row(
            SIGNING_ROW,
            False,
            "not 32 hexadecimal characters like Slack's: copy it again from Basic Information",
        )
    return Row(
        SIGNING_ROW,
        True,
        "well-formed (only Slack's signed requests can prove it: a wrong one answers them 401)",
    )


def store_place(settings: Settings) -> str:
    """Where the store is, without a password or anything else from the URL's secrets."""
    if not settings.redis_url:
        return f"SQLite file {settings.reelbot_db}"
    parts = urlsplit(settings.redis_url)
    if parts.scheme == "unix":
        return f"Redis at {parts.path}"
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    database = parts.path.strip("/") or "0"
    return f"Redis at {host}:{port}/{database}"


async def _store(settings: Settings) -> list[Row]:
    place = store_place(settings)
    store = open_store(
        redis_url=settings.redis_url, sqlite_path=settings.reelbot_db, prefix=settings.key_prefix
    )
    try:
        answers = await store.ping()
    finally:
        await store.close()
    if answers:
        return [Row(STORE_ROW, True, f"{place} answers")]
    return [Row(STORE_ROW, False, f"{place} does not answer")]


def _unavailable(exc: Unavailable, where: str) -> str:
    """Why a provider could not be asked (its own sentence promises retries, which a check
    does not make)."""
    code = exc.code or ""
    if code == NOT_SENT:
        return f"could not connect to {where}"
    if code.startswith("http_"):
        return f"{where} answered HTTP {code.removeprefix('http_')}"
    if code == "malformed":
        return f"{where} answered something unreadable: is the base URL right?"
    if code == "timeout":
        return f"{where} did not answer in time"
    return f"{where} did not answer ({code or 'unavailable'})"


def _provider_checks(settings: Settings) -> list[_Check]:
    configured = [p for p in settings.plugins if settings.group(p.name).configured]
    if not configured:
        keys = ", ".join(p.key_variable for p in settings.plugins)
        row = Row(PROVIDERS_ROW, False, f"none set up: set at least one of {keys}")

        async def nothing() -> list[Row]:
            return [row]

        return [_Check((PROVIDERS_ROW,), nothing)]
    providers = build_providers(settings, MemoryState())
    checks: list[_Check] = []
    for plugin in configured:
        what = f"{plugin.label} key"
        base = getattr(settings.group(plugin.name), "base_url", None)
        where = str(base).rstrip("/") if base is not None else plugin.label

        async def one(name: str = plugin.name, what: str = what, where: str = where) -> list[Row]:
            provider = providers[name]
            try:
                await provider.check_credentials()
            except Unavailable as exc:
                return [Row(what, False, _unavailable(exc, where))]
            except ProviderError as exc:
                return [Row(what, False, exc.message)]
            finally:
                await provider.aclose()
            return [Row(what, True, f"accepted by {where}")]

        checks.append(_Check((what,), one))
    return checks


async def _within(check: _Check, seconds: float) -> list[Row]:
    try:
        async with asyncio.timeout(seconds):
            return await check.run()
    except TimeoutError:
        return [Row(name, False, f"no answer within {seconds:g} s") for name in check.rows]
    except Exception as exc:  # whatever went wrong, a row that says so, never a traceback
        log.debug("check %s failed", check.rows, exc_info=True)
        return [
            Row(name, False, f"could not be checked ({type(exc).__name__})") for name in check.rows
        ]


async def run_checks(
    settings: Settings,
    *,
    seconds: float = CHECK_SECONDS,
    manifest: Sequence[Path] | None = None,
) -> list[Row]:
    """Every check, run at once, each within `seconds`, in a fixed order."""
    places = manifest_places() if manifest is None else manifest

    async def slack() -> list[Row]:
        return await _slack_token(settings, places, seconds)

    slack_rows = (
        (CLIENT_ROW, SCOPES_ROW) if settings.slack_bot_token is None else (TOKEN_ROW, SCOPES_ROW)
    )
    checks = [_Check(slack_rows, slack)]
    if settings.socket_mode:

        async def app_token() -> list[Row]:
            return await _app_token(settings, seconds)

        checks.append(_Check((APP_TOKEN_ROW,), app_token))
    else:

        async def signing() -> list[Row]:
            return [_signing_secret(settings)]

        checks.append(_Check((SIGNING_ROW,), signing))

    async def store() -> list[Row]:
        return await _store(settings)

    checks.append(_Check((STORE_ROW,), store))
    checks.extend(_provider_checks(settings))
    results = await asyncio.gather(*(_within(check, seconds) for check in checks))
    return [row for rows in results for row in rows]


def render(rows: Sequence[Row], settings: Settings) -> str:
    """The table, what is not set up, and the verdict, scrubbed of every secret value."""
    mode = "Socket Mode" if settings.socket_mode else "HTTP mode"
    lines = [f"Reelbot check: {mode}, Slack API {settings.slack_api_url}", ""]
    table = [("CHECK", "RESULT", "DETAIL")] + [
        (row.what, "OK" if row.ok else "FAIL", row.detail) for row in rows
    ]
    width = max(len(what) for what, _, _ in table)
    lines += [f"{what:<{width}}  {result:<6}  {detail}" for what, result, detail in table]
    idle = [
        f"{p.label} ({p.key_variable})"
        for p in settings.plugins
        if not settings.group(p.name).configured
    ]
    if idle and len(idle) < len(settings.plugins):
        lines += ["", f"Not set up, so not checked: {', '.join(idle)}."]
    failed = [row.what for row in rows if not row.ok]
    lines.append("")
    if failed:
        lines.append(f"{len(failed)} of {len(rows)} checks failed: {', '.join(failed)}.")
    else:
        lines.append(f"All {len(rows)} checks passed.")
    text = "\n".join(lines) + "\n"
    for secret in sorted(settings.secrets(), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


async def run_check(settings: Settings, out: TextIO) -> int:
    """Print the checks' table to `out`; 0 when every check holds, 1 otherwise."""
    rows = await run_checks(settings)
    out.write(render(rows, settings))
    return 0 if all(row.ok for row in rows) else 1
