"""Pieces every channel parser needs: API envelopes, SKU fallback, personal-data tags."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.reader import Reader
from domain.inbound.normalized import PayloadError

#: Tag: buyer name/phone/address are platform ciphertext (PDD ``~..~``, Douyin ``#..#``/``$..$``);
#: only the platform's decrypt API turns them into clear text.
PII_CIPHERTEXT = "pii:ciphertext"
#: Tag: buyer name/phone arrive masked (``张**``, ``138****1234``); the clear value is not in this payload.
PII_MASKED = "pii:masked"

_CIPHER_DELIMITERS = "~#$"


def unwrap(payload: object, *envelope: str) -> Reader:
    """Read an order whether it arrives as the API response (``{"x_response": {"trade": ...}}``) or bare.

    Paths in errors then match what was really received.  A platform error
    envelope (TOP / PDD ``error_response``) is refused with its message.
    """
    reader = Reader(payload)
    if reader.has("error_response"):
        error = reader.obj("error_response")
        detail = error.first_text("sub_msg", "error_msg", "msg", "sub_code", "code")
        raise PayloadError(f"the platform answered with an error, not an order: {detail}", field="error_response")
    if envelope and envelope[0] in reader.data:
        for key in envelope:
            reader = reader.obj(key)
    return reader


def require_lines(lines: list[Reader], field: str) -> list[Reader]:
    """An order without lines cannot be fulfilled or reconciled: refuse it."""
    if not lines:
        raise PayloadError("order has no lines", field=field)
    return lines


def merchant_sku(line: Reader, keys: Sequence[str], issues: list[str]) -> str:
    """The merchant's own SKU code from the first filled field; its absence is reported, not invented."""
    sku = line.first_text(*keys)
    if not sku:
        issues.append(f"{line.path}: no merchant SKU code (looked at {', '.join(keys)})")
    return sku


def looks_encrypted(value: str) -> bool:
    """Platform ciphertext is wrapped in a repeated delimiter, e.g. ``~AgAAA..~`` or ``#ZgX..#``."""
    return len(value) > 2 and value[0] == value[-1] and value[0] in _CIPHER_DELIMITERS


def looks_masked(value: str) -> bool:
    return "*" in value


def pii_tags(*values: str) -> tuple[str, ...]:
    """Tags telling downstream code that name/phone fields are not clear text."""
    tags: list[str] = []
    if any(looks_encrypted(v) for v in values):
        tags.append(PII_CIPHERTEXT)
    if any(looks_masked(v) and not looks_encrypted(v) for v in values):
        tags.append(PII_MASKED)
    return tuple(tags)
