"""The local HeyGen's webhooks: registering an endpoint, and delivering a render's event.

Written from the documents, never from the client (see `heygen`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import aiohttp

from providers.simulators.heygen_answers import Job, webhook_event
from providers.simulators.heygen_rules import Refusal


@dataclass
class Hook:
    endpoint_id: str
    url: str
    secret: str
    events: list[str] | None


async def register(session: aiohttp.ClientSession, url: str, events: list[str] | None) -> Hook:
    """A new endpoint as POST /v3/webhooks/endpoints makes one, once `url` answers the probe."""
    # HeyGen probes a new endpoint with OPTIONS (1 s timeout) before it accepts it.
    try:
        async with session.options(url, timeout=aiohttp.ClientTimeout(total=1)) as probe:
            ok = probe.status < 400
    except (aiohttp.ClientError, TimeoutError):
        ok = False
    if not ok:
        raise Refusal("validation_error", "Url of this webhook endpoint is invalid.", param="url")
    return Hook(secrets.token_hex(16), url, "whsec_" + secrets.token_urlsafe(24), events)


async def deliver(
    session: aiohttp.ClientSession | None,
    job: Job,
    hooks: list[Hook],
    origin: str,
    deliveries: list[tuple[str, dict[str, str], bytes]],
) -> None:
    """The finished render's event to its callback_url (unsigned) and each endpoint (signed)."""
    event, body = webhook_event(job, origin)
    targets: list[tuple[str, dict[str, str]]] = []
    if job.callback_url is not None:
        targets.append((job.callback_url, {}))  # per-job callbacks are not signed
    for hook in hooks:
        if hook.events is None or event in hook.events:
            signature = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
            targets.append((hook.url, {"Signature": signature}))
    for url, headers in targets:
        headers = {"Content-Type": "application/json", **headers}
        deliveries.append((url, headers, body))
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            assert session is not None
            async with session.post(url, data=body, headers=headers) as answer:
                await answer.read()
