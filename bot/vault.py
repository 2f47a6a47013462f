"""Sealing small secrets for the store: a workspace's own provider keys, under
REELBOT_SECRET_KEY, with the cryptography package's Fernet (AES-128-CBC with an HMAC-SHA256,
so a value sealed under another key, or changed in the store, is refused rather than misread).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cryptography.fernet import Fernet, InvalidToken


def is_fernet_key(key: str) -> bool:
    """Whether `key` is a Fernet key: 32 bytes in url-safe base64."""
    try:
        Fernet(key.encode())
    except (ValueError, TypeError):
        return False
    return True


class Vault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, fields: Mapping[str, str]) -> str:
        """A token (text) holding `fields`; a new one each call, even for the same fields."""
        return self._fernet.encrypt(json.dumps(dict(fields), sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str] | None:
        """The fields a token holds, or None when this key cannot read it (sealed under
        another REELBOT_SECRET_KEY, or not a token of ours)."""
        try:
            raw = self._fernet.decrypt(token.encode())
        except (InvalidToken, ValueError):
            return None
        try:
            fields = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(fields, dict):
            return None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
            return None
        return fields
