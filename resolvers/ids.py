"""Opaque global ids: ``encode("Order", 42) == "T3JkZXI6NDI="``.

    >>> decode(encode("Order", 42))
    ('Order', 42)
"""

from __future__ import annotations

import base64
import binascii


class BadId(ValueError):
    """Not a global id (of the expected type); ``code`` is the GraphQL ``extensions.code``."""

    code = "BAD_ID"


#: Row ids are 32-bit: anything larger cannot name a row (and would overflow the database's integer).
MAX_PK = 2**31 - 1


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def encode(type_name: str, pk: int) -> str:
    return binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode()  # base64.b64encode, one call fewer


def decode(global_id: str, expected: str | None = None) -> tuple[str, int]:
    """The (type, pk) behind a global id; ``BadId`` if it is not one (of ``expected``)."""
    try:
        if len(global_id) > 200:
            raise ValueError
        type_name, _, raw = base64.b64decode(global_id.encode("ascii"), validate=True).decode().partition(":")
        if not raw.isdigit() or len(raw) > 10:
            raise ValueError
        pk = int(raw)
    except (binascii.Error, UnicodeError, ValueError):
        raise BadId(f"{_shown(global_id)} is not a valid id") from None
    if not 1 <= pk <= MAX_PK:
        raise BadId(f"{_shown(global_id)} is not a valid id")
    if expected and type_name != expected:
        raise BadId(f"{_shown(global_id)} is not a {expected} id")
    return type_name, pk
