"""Secrets sealed at rest: columns that hold signing keys and credentials are Fernet tokens in the database.

    use_keys(["<new key>", "<old key>"])     # at start-up, from ORDERGRAPH_DATA_KEYS: the first seals, all open
    channel.secret = "whsec_…"                # a SealedTextField: stored as gAAAAA…, read back in clear

``cryptography``'s MultiFernet (AES-128-CBC + HMAC-SHA256, with a timestamp)
does the work. A value written before sealing existed (no token) is read as it
is and sealed the next time the row is saved, or by ``ordergraph secrets
reseal``, which also moves every token to the first key after a rotation. A
token no configured key opens raises :class:`SealedWithUnknownKey` rather than
handing out garbage.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from tortoise import fields

#: Used until start-up sets the server's keys; production refuses to start without its own.
DEV_KEY = "b3JkZXJncmFwaC1kZXZlbG9wbWVudC1kYXRhLWtleSE="
_TOKEN_PREFIX = "gAAAAA"
_box = MultiFernet([Fernet(DEV_KEY)])


class SealedWithUnknownKey(Exception):
    """A stored secret was sealed with a key that is not among ORDERGRAPH_DATA_KEYS."""


def use_keys(keys: list[str]) -> None:
    """Seal with the first key, open with any (rotation: put the new key first, keep the old one until resealed)."""
    global _box
    if not keys:
        raise ValueError("at least one key")
    _box = MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def is_sealed(value: str) -> bool:
    return value.startswith(_TOKEN_PREFIX)


def seal(text: str) -> str:
    return _box.encrypt(text.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    if not is_sealed(stored):
        return stored  # written before sealing: read as is, sealed on the next save
    try:
        return _box.decrypt(stored.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SealedWithUnknownKey("a stored secret is sealed with a key ORDERGRAPH_DATA_KEYS does not hold") from None


def reseal(stored: str) -> str:
    """The same secret sealed with the first key (plaintext gets sealed)."""
    return _box.rotate(stored.encode("ascii")).decode("ascii") if is_sealed(stored) else seal(stored)


class SealedTextField(fields.TextField):
    """Text kept as a Fernet token; Python sees the clear value. Never filter on it (each token differs)."""

    skip_to_python_if_native = False

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None:
            return None
        return value if isinstance(value, str) and is_sealed(value) else seal(str(value))

    def to_python_value(self, value: Any) -> Any:
        return unseal(value) if isinstance(value, str) else value


class SealedJSONField(fields.TextField):
    """A JSON object kept as a Fernet token (a connection's URLs, credentials and maps); Python sees the dict."""

    skip_to_python_if_native = False

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        super().__init__(**kwargs)

    def to_db_value(self, value: Any, instance: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            return value if is_sealed(value) else seal(value)
        return seal(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def to_python_value(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = unseal(value)
        return json.loads(text) if text else {}
