"""Short-lived signed links to videos uploaded to Slack, for providers that take only a link
(Vizard): `{REELBOT_PUBLIC_URL}/media/<file id>/<expires>/<signature>/<name>`, and with many
workspaces `?team=<team id>`: the workspace whose bot token reads the file (signed too).

The signature is an HMAC over the file id, the expiry and the name, keyed with a key derived
from the app's own secret, so a link cannot be made for another file or lengthened. The web
route checks it and the expiry, then streams the file from Slack (a safe download with the
bot token); the bytes are never stored. The lifetime is SLACK_FILE_LINK_MINUTES.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from urllib.parse import quote

from bot.oauth.teams import current_team
from providers.base import MediaFile

_SIGNATURE = re.compile(r"[0-9a-f]{40}")
_EXPIRES = re.compile(r"[0-9]{1,12}")


class MediaLinks:
    def __init__(
        self,
        public_url: str,
        secret: str,
        lifetime_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        per_team: bool = False,
    ) -> None:
        """`per_team` (many workspaces): links name the workspace in hand."""
        self._per_team = per_team
        self._base = public_url.rstrip("/")
        self._key = hashlib.sha256(b"reelbot media links\0" + secret.encode()).digest()
        self.lifetime_seconds = lifetime_seconds
        self._clock = clock

    def _signature(self, file_id: str, expires: int, name: str, team: str | None) -> str:
        message = f"{file_id}\0{expires}\0{name}".encode()
        if team is not None:
            message += f"\0{team}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]

    def link(self, media: MediaFile) -> str:
        """A link for the workspace in hand, if any (bot/oauth/teams.py)."""
        expires = int(self._clock() + self.lifetime_seconds)
        file_id = str(media.ref or "")
        team = current_team.get() if self._per_team else None
        signature = self._signature(file_id, expires, media.name, team)
        link = f"{self._base}/media/{file_id}/{expires}/{signature}/{quote(media.name, safe='')}"
        return link if team is None else f"{link}?team={quote(team, safe='')}"

    def valid(
        self, file_id: str, expires: str, signature: str, name: str, team: str | None = None
    ) -> bool:
        """The link is ours, for this file, name and workspace, and not expired."""
        if not _EXPIRES.fullmatch(expires) or int(expires) < self._clock():
            return False
        if not _SIGNATURE.fullmatch(signature):
            return False
        wanted = self._signature(file_id, int(expires), name, team)
        return hmac.compare_digest(wanted, signature)
