"""One lineage row as an auditor reads it: who, what, when (UTC and local), source, reason, before/after, evidence.

    record = to_record(row, zone, payloads={...}, show_payload=True, clear=False)

``who`` is the actor as lineage shows it (``events.actors.public_actor``);
for an API key, ``key`` adds its owner, label and role (keys are named
``<owner> via <label> (<role> key)`` or ``<owner> via <role> key #<id>``; keys made
before owners were recorded lack ``<owner> via ``: their owner is null; see
``domain.tenants.accounts.key_label``).
A raw payload is referred to by its SHA-256; where the caller's role may see
payloads (admins and auditors) it is included, personal data masked unless
the role sees personal data in clear.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from domain.inbound.payloads import REF_PREFIX
from domain.lineage.global_ids import encode, with_global_ids
from domain.order_numbers import order_number
from domain.masking import mask_address, mask_name, mask_phone
from events.actors import public_actor

#: Columns read from ``order_event`` (``values()``: no model objects, constant memory per batch).
COLUMNS = ("id", "order_id", "type", "actor", "source", "reason", "before", "after", "payload_ref", "created_at")
#: CSV header, in order; before/after/payload are JSON text in CSV.
CSV_FIELDS = ("id", "global_id", "order", "order_gid", "type", "who", "key_owner", "key_label", "key_role", "actor",
              "source", "reason", "recorded_utc", "recorded_local", "before", "after", "payload_sha256", "payload")

_LABELLED = re.compile(r"^(?P<label>.+) \((?P<role>[a-z]+) key\)$")
_NUMBERED = re.compile(r"^(?P<role>[a-z]+) key #(?P<id>\d+)$")
#: An owner never contains " via " (``domain.tenants.accounts.validate_owner``): the first one separates.
_OWNED = re.compile(r"^(?P<owner>.+?) via (?P<key>.+)$")
_PHONE_KEYS = ("phone", "mobile", "tel")
_NAME_KEYS = ("name", "nick", "consignee", "contact")
_ADDRESS_KEYS = ("address", "street", "addr", "detail")
_NEUTRAL_NAMES = frozenset({"name", "sku_name", "item_name", "product_name", "title", "goods_name", "shop_name",
                            "channel_name", "warehouse_name"})


def key_of(shown: str) -> dict[str, str | None] | None:
    """The API key behind an actor name, as owner (None for keys made before owners), label and role;
    None when the actor is not a key."""
    owned = _OWNED.match(shown)
    if owned:
        key = _key_part(owned.group("key"))
        if key is not None:
            return {"owner": owned.group("owner"), **key}
    key = _key_part(shown)
    return {"owner": None, **key} if key is not None else None


def _key_part(text: str) -> dict[str, str] | None:
    labelled = _LABELLED.match(text)
    if labelled:
        return {"label": labelled.group("label"), "role": labelled.group("role")}
    numbered = _NUMBERED.match(text)
    if numbered:
        return {"label": "", "role": numbered.group("role"), "number": numbered.group("id")}
    return None


def mask_payload(value: Any, parent: str = "") -> Any:
    """Personal data in a decoded payload masked: phone-, name- and address-like keys, anywhere in it."""
    if isinstance(value, dict):
        return {key: _mask_field(str(key).lower(), item, parent) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_payload(item, parent) for item in value]
    return value


def _mask_field(key: str, value: Any, parent: str) -> Any:
    if isinstance(value, (dict, list)):
        return mask_payload(value, key)
    if not isinstance(value, str):
        return value
    if any(part in key for part in _PHONE_KEYS):
        return mask_phone(value)
    if any(part in key for part in _ADDRESS_KEYS):
        return mask_address(value)
    personal_parent = any(part in parent for part in ("receiver", "buyer", "customer", "shipping", "consignee",
                                                      "recipient", "address", "contact"))
    if any(part in key for part in _NAME_KEYS) and (key not in _NEUTRAL_NAMES or personal_parent):
        return mask_name(value)
    return value


def decode_body(body: bytes, clear: bool) -> Any:
    """A stored body for an export: JSON decoded and masked, else text (masked wholesale unless clear)."""
    try:
        decoded = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace")
        return text if clear else f"<{len(body)} bytes, not JSON: withheld>"
    return decoded if clear else mask_payload(decoded)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def to_record(row: dict[str, Any], zone: ZoneInfo, payloads: dict[str, Any] | None = None,
              show_payload: bool = False) -> dict[str, Any]:
    """The export record of one ``order_event`` row (a ``values()`` dict with ``COLUMNS``)."""
    recorded: datetime = row["created_at"]
    if recorded.tzinfo is None:
        recorded = recorded.replace(tzinfo=UTC)
    shown = public_actor(row["actor"])
    ref = row.get("payload_ref")
    digest = ref[len(REF_PREFIX):] if ref and ref.startswith(REF_PREFIX) else None
    order_id = row.get("order_id")
    record: dict[str, Any] = {
        "id": row["id"],
        "global_id": encode("OrderEvent", row["id"]),
        "order": order_number(order_id) if order_id else None,
        "order_gid": encode("Order", order_id) if order_id else None,
        "type": row["type"],
        "who": shown,
        "key": key_of(shown),
        "actor": row["actor"] if shown == row["actor"] else shown,
        "source": row["source"],
        "reason": row["reason"],
        "recorded_utc": recorded.astimezone(UTC).isoformat(),
        "recorded_local": recorded.astimezone(zone).isoformat(),
        "before": with_global_ids(_json(row["before"])),
        "after": with_global_ids(_json(row["after"])),
        "payload_ref": ref,
        "payload_sha256": digest,
    }
    if show_payload and digest is not None and payloads is not None:
        record["payload"] = payloads.get(digest)
    return record


def to_csv_row(record: dict[str, Any]) -> list[str]:
    key = record.get("key") or {}
    flat = {**record, "key_owner": key.get("owner") or "", "key_label": key.get("label", ""),
            "key_role": key.get("role", "")}
    out: list[str] = []
    for name in CSV_FIELDS:
        value = flat.get(name)
        if value is None:
            out.append("")
        elif isinstance(value, (dict, list)):
            out.append(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
        else:
            out.append(str(value))
    return out
