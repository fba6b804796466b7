"""Ed25519 signatures over checkpoint notes, with the server key from ``ORDERGRAPH_AUDIT_SIGNING_KEY``.

    use_key(seed_b64)                     # api.settings.apply_secrets, once per process
    use_previous_keys([public_b64, ...])  # ORDERGRAPH_AUDIT_PREVIOUS_PUBLIC_KEYS (after a rotation)
    signature = sign(note(tenant, size, root, signed_at))
    verify_note(public_for(checkpoint.key_id), text, signature)
    key_document()                        # what /audit/public-key serves: current key and ``previous``

The note (also what ``tools/verify_lineage.py`` checks) is::

    ordergraph-lineage/v1\n{tenant}\n{tree_size}\n{root base64}\n{timestamp}\n

with ``timestamp`` ISO-8601 UTC (``canonical.utc_text``).

Rotation: every checkpoint records the ``key_id`` of the key that signed it. After the signing
seed changes, the public keys of the earlier seeds stay known (``use_previous_keys``) so their
checkpoints still verify; ``public_for`` picks the key by id and returns None for an unknown id.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.audit.canonical import utc_text

#: Development only; production refuses to start without ORDERGRAPH_AUDIT_SIGNING_KEY.
DEV_SEED = base64.b64encode(hashlib.sha256(b"ordergraph development audit key").digest()).decode()

NOTE_FORMAT = "ordergraph-lineage/v1\\n{tenant}\\n{tree_size}\\n{root base64}\\n{timestamp}\\n"

_key: Ed25519PrivateKey = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEV_SEED))
#: Public keys of earlier signing seeds, by key id.
_previous: dict[str, bytes] = {}


def load_seed(seed_b64: str) -> Ed25519PrivateKey:
    """The private key from a base64 32-byte seed; ``ValueError`` if it is not one."""
    try:
        raw = base64.b64decode(seed_b64, validate=True)
    except ValueError:
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"the seed must be 32 bytes, got {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)


def use_key(seed_b64: str) -> None:
    global _key
    _key = load_seed(seed_b64)


def load_public(public_b64: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64; ``ValueError`` if it is not one."""
    try:
        raw = base64.b64decode(public_b64.strip(), validate=True)
    except ValueError:
        raise ValueError(f"{public_b64.strip()[:16]!r}… is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"a public key must be 32 bytes, got {len(raw)}")
    Ed25519PublicKey.from_public_bytes(raw)
    return raw


def use_previous_keys(keys_b64: Iterable[str]) -> None:
    """Public keys (base64) of earlier signing seeds whose checkpoints must still verify."""
    global _previous
    _previous = {key_id(raw): raw for raw in (load_public(text) for text in keys_b64 if text.strip())}


def public_for(wanted: str) -> bytes | None:
    """The raw public key with this key id: the current one or a previous one; None when unknown."""
    current = public_bytes()
    if wanted == key_id(current):
        return current
    return _previous.get(wanted)


def known_key_ids() -> list[str]:
    return [key_id(), *(kid for kid in _previous if kid != key_id())]


def key_document() -> dict[str, Any]:
    """The current public key and the previous ones, as ``/audit/public-key`` serves them."""
    current = key_id()
    return {"algorithm": "Ed25519", "public_key": public_key_b64(), "key_id": current,
            "previous": [{"public_key": base64.b64encode(raw).decode(), "key_id": kid}
                         for kid, raw in _previous.items() if kid != current],
            "note_format": NOTE_FORMAT}


def public_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    return (key or _key.public_key()).public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_bytes()).decode()


def key_id(raw_public: bytes | None = None) -> str:
    """The first 16 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(raw_public if raw_public is not None else public_bytes()).hexdigest()[:16]


def note(tenant_id: int, tree_size: int, root: bytes, signed_at: datetime) -> bytes:
    return (f"ordergraph-lineage/v1\n{tenant_id}\n{tree_size}\n{base64.b64encode(root).decode()}\n"
            f"{utc_text(signed_at)}\n").encode()


def sign(text: bytes) -> bytes:
    return _key.sign(text)


def verify_note(raw_public: bytes, text: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(raw_public).verify(signature, text)
    except (InvalidSignature, ValueError):
        return False
    return True
