"""Ed25519 signatures over checkpoint notes, with the server key from ``ORDERGRAPH_AUDIT_SIGNING_KEY``.

    use_key(seed_b64)                     # api.settings.apply_secrets, once per process
    signature = sign(note(tenant, size, root, signed_at))
    verify_note(public_key, text, signature)

The note (also what ``tools/verify_lineage.py`` checks) is::

    ordergraph-lineage/v1\n{tenant}\n{tree_size}\n{root base64}\n{timestamp}\n

with ``timestamp`` ISO-8601 UTC (``canonical.utc_text``).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.audit.canonical import utc_text

#: Development only; production refuses to start without ORDERGRAPH_AUDIT_SIGNING_KEY.
DEV_SEED = base64.b64encode(hashlib.sha256(b"ordergraph development audit key").digest()).decode()

_key: Ed25519PrivateKey = Ed25519PrivateKey.from_private_bytes(base64.b64decode(DEV_SEED))


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
