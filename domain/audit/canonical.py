"""The canonical bytes of one lineage row, the input of its leaf hash.

A fixed JSON form: sorted keys, no whitespace, UTF-8, ``created_at`` as ISO-8601 UTC with microseconds::

    leaf_hash(canonical(row_dict))   # row_dict: the OrderEvent's columns (see ``FIELDS``)

``tools/verify_lineage.py`` repeats this code (standard library only); keep the two identical.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

#: The columns of a row that are sealed, in the names the canonical form uses.
FIELDS = ("id", "tenant_id", "order_id", "type", "actor", "source", "reason", "before", "after", "payload_ref",
          "created_at")


def utc_text(moment: datetime | str) -> str:
    """``2026-11-30T07:57:29.123456Z`` (naive datetimes are taken as UTC)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    elif moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical(row: dict[str, Any]) -> bytes:
    """The row's canonical serialisation."""
    form = {name: row.get(name) for name in FIELDS}
    form["created_at"] = utc_text(row["created_at"])
    return _ENCODER.encode(form).encode()


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def row_leaf(row: dict[str, Any]) -> bytes:
    return leaf_hash(canonical(row))
