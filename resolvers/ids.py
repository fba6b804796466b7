"""Opaque global ids: ``encode("Order", 42) == "T3JkZXI6NDI="``.

    >>> decode(encode("Order", 42))
    ('Order', 42)
"""

from __future__ import annotations

import base64
import binascii


class BadId(ValueError):
    pass


def encode(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def decode(global_id: str, expected: str | None = None) -> tuple[str, int]:
    """The (type, pk) behind a global id; ``BadId`` if it is not one (of ``expected``)."""
    try:
        type_name, _, raw = base64.b64decode(global_id.encode(), validate=True).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadId(f"{global_id!r} is not a valid id") from None
    if expected and type_name != expected:
        raise BadId(f"{global_id!r} is not a {expected} id")
    return type_name, pk
