"""Receiver ciphertext and masks shaped like the platforms', for the local simulator, the tests and the demo.

The platforms' real cryptography stays on the platforms; this is a stand-in
that keeps what matters to an adapter: a value sealed for one order opens
only for that order (the order id is bound in by the MAC) and only with the
simulator's key, and the wrapping looks like the real thing —
Pinduoduo ``~index~payload~1~~``, Douyin ``#index#payload#1##`` (names,
addresses) and ``$index$payload$1$$`` (phones), Taobao an opaque OAID. The
cipher is an HMAC-SHA256 keystream with a truncated HMAC tag (stdlib only).

Masks follow each platform's own style, so a test can tell them from
OrderGraph's own masking.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from domain.inbound.normalized import SealedContact

#: The simulator's default sealing key; a simulator started with another key cannot open these.
DEFAULT_KEY = b"ordergraph-decryption-simulator-v1"
_NONCE = 12
_TAG = 12

#: What kind of value a ciphertext holds, as each platform numbers it in its answers.
PDD_DATA_TYPES = {"name": 5, "phone": 6, "address": 8}
DOUYIN_DATA_TYPES = {"address": 1, "name": 2, "phone": 3}
_KINDS = ("name", "phone", "address")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (hmac.new(key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
              for counter in range((length + 31) // 32))
    return b"".join(blocks)[:length]


def seal_text(key: bytes, tag: str, kind: str, clear: str) -> str:
    """An opaque token holding ``clear`` (a ``kind``: name, phone, address), openable only for ``tag``."""
    nonce = os.urandom(_NONCE)
    plain = f"{kind}\x1f{clear}".encode()
    body = bytes(a ^ b for a, b in zip(plain, _keystream(key, nonce, len(plain)), strict=True))
    mac = hmac.new(key, tag.encode() + b"\x00" + nonce + body, hashlib.sha256).digest()[:_TAG]
    return _b64(nonce + body + mac)


def open_text(key: bytes, tag: str, token: str) -> tuple[str, str] | None:
    """``(kind, clear)`` of a token sealed for ``tag``; ``None`` if it is not ours, not for ``tag`` or tampered."""
    try:
        raw = _unb64(token)
    except ValueError:
        return None
    if len(raw) < _NONCE + _TAG + 2:
        return None
    nonce, body, mac = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(key, tag.encode() + b"\x00" + nonce + body, hashlib.sha256).digest()[:_TAG]
    if not hmac.compare_digest(mac, expected):
        return None
    plain = bytes(a ^ b for a, b in zip(body, _keystream(key, nonce, len(body)), strict=True))
    kind, _, clear = plain.decode("utf-8", errors="replace").partition("\x1f")
    return (kind, clear) if kind in _KINDS else None


def _index(key: bytes, clear: str) -> str:
    """The short search index platforms put in front of the payload (same clear value, same index)."""
    return _b64(hmac.new(key, b"index\x00" + clear.encode(), hashlib.sha256).digest()[:3])


def wrap(delimiter: str, key: bytes, clear: str, token: str) -> str:
    return f"{delimiter}{_index(key, clear)}{delimiter}{token}{delimiter}1{delimiter}{delimiter}"


def unwrap(cipher: str) -> str | None:
    """The token inside a ``~index~token~1~~``-style ciphertext, or ``None`` if it is not shaped so."""
    if len(cipher) < 6 or cipher[0] not in "~#$" or cipher[-1] != cipher[0]:
        return None
    parts = cipher.split(cipher[0])
    return parts[2] if len(parts) == 6 and parts[2] else None


def cipher_for(platform: str, key: bytes, tag: str, kind: str, clear: str) -> str:
    """One value's ciphertext as ``platform`` (pinduoduo, douyin) would send it for order ``tag``."""
    delimiter = "~" if platform == "pinduoduo" else ("$" if kind == "phone" else "#")
    return wrap(delimiter, key, clear, seal_text(key, tag, kind, clear))


# ---------------------------------------------------------------- masks


def _stars(count: int) -> str:
    return "*" * max(1, count)


def masks(platform: str, name: str, phone: str, address: str) -> tuple[str, str, str]:
    """``(name, phone, address)`` masked the way ``platform`` masks them."""
    digits = "".join(ch for ch in phone if ch.isdigit()) or phone
    if platform == "taobao":
        return (name[:1] + "**", _stars(len(digits) - 4) + digits[-4:], address[:3] + _stars(min(8, len(address) - 3)))
    if platform == "douyin":
        return (name[:1] + "*", digits[:1] + _stars(len(digits) - 3) + digits[-2:], address[:4] + "******")
    return (name[:1] + _stars(len(name) - 1), digits[:3] + "****" + digits[-4:], address[:3] + "****")


@dataclass(frozen=True, slots=True)
class ClearContact:
    """What a simulated platform knows in clear about one order's receiver."""

    name: str
    phone: str
    address: str

    def __repr__(self) -> str:
        return "ClearContact(...)"


def sealed_contact(platform: str, key: bytes, external_id: str, clear: ClearContact, *, open_id: str = "") -> SealedContact:
    """The :class:`SealedContact` a parser would read from ``platform``'s order payload."""
    name_mask, phone_mask, address_mask = masks(platform, clear.name, clear.phone, clear.address)
    if platform == "taobao":
        return SealedContact(platform=platform, open_id=open_id, name_masked=name_mask, phone_masked=phone_mask,
                             address_masked=address_mask)
    return SealedContact(
        platform=platform,
        name_cipher=cipher_for(platform, key, external_id, "name", clear.name),
        phone_cipher=cipher_for(platform, key, external_id, "phone", clear.phone),
        address_cipher=cipher_for(platform, key, external_id, "address", clear.address),
        name_masked=name_mask, phone_masked=phone_mask, address_masked=address_mask,
    )


def new_oaid() -> str:
    """A fresh OAID-like handle (Taobao's are opaque strings of up to 128 characters)."""
    return _b64(os.urandom(24))
