"""Status mapping tables per tenant: the shipped defaults plus the tenant's versioned overrides.

A source's raw code means nothing until a table says what it means. The
defaults live in :mod:`domain.inbound.status_maps`; a tenant may override or add
codes (and unmap a default by saving it as null). Every save is a new
version, kept in ``StatusMappingVersion`` and announced in the lineage.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.actor import Actor, Role
from domain.errors import Forbidden, ValidationFailed
from domain.inbound import status_maps
from domain.statuses import AfterSaleStatus, OrderStatus, PaymentStatus, ShipmentStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import StatusMappingTable, StatusMappingVersion

Entry = dict[str, str | None]

ORDER_KEYS = {"order": OrderStatus, "payment": PaymentStatus, "after_sale": AfterSaleStatus}
SHIPMENT_KEYS = {"shipment": ShipmentStatus}
_TABLE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,40}(\.[a-z0-9_\-]{1,20})?$")
#: Tracking providers: tables named after them map to shipment statuses.
SHIPMENT_SOURCES = frozenset({"kdniao", "kuaidi100", "aftership"})


def table_kind(name: str) -> str:
    """``"shipment"`` or ``"order"``: what the entries of table ``name`` describe."""
    default = status_maps.TABLES.get(name)
    if default:
        return "shipment" if "shipment" in next(iter(default.values())) else "order"
    if name.split(".", 1)[0] in SHIPMENT_SOURCES or name == "shopify.fulfillment_event":
        return "shipment"
    return "order"


@dataclass(frozen=True, slots=True)
class Table:
    """One effective table: overrides first, then defaults. ``version`` 0 means defaults only."""

    name: str
    version: int = 0
    overrides: Mapping[str, Entry | None] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        """Whether anything maps codes of this table (an unknown code in it is then 'unmapped')."""
        return self.name in status_maps.TABLES or bool(self.overrides)

    def lookup(self, code: str) -> Entry | None:
        if code in self.overrides:
            entry = self.overrides[code]
            return dict(entry) if entry is not None else None
        return status_maps.lookup(self.name, code)

    @property
    def label(self) -> str:
        return f"{self.name}@v{self.version}"


@dataclass(frozen=True, slots=True)
class Mappings:
    """The tables one payload needs, loaded in one query."""

    tables: Mapping[str, Table]

    def table(self, name: str) -> Table:
        return self.tables.get(name) or Table(name)


_cache: dict[tuple[int, str], tuple[float, Table]] = {}


async def load(tenant_id: int, names: Iterable[str], *, max_age: float = 0.0) -> Mappings:
    """The effective tables ``names`` of a tenant; ``max_age`` > 0 allows a per-process cache that old."""
    wanted = set(names)
    found: dict[str, Table] = {}
    now = time.monotonic()
    if max_age > 0:
        for name in list(wanted):
            hit = _cache.get((tenant_id, name))
            if hit and now - hit[0] < max_age:
                found[name] = hit[1]
                wanted.discard(name)
    if wanted:
        rows = await StatusMappingTable.filter(tenant_id=tenant_id, name__in=sorted(wanted))
        by_name = {row.name: Table(row.name, row.version, dict(row.entries or {})) for row in rows}
        for name in wanted:
            found[name] = by_name.get(name) or Table(name)
            if max_age > 0:
                _cache[(tenant_id, name)] = (now, found[name])
    return Mappings(found)


def forget(tenant_id: int) -> None:
    """Drop this process's cached tables of a tenant (called after a save)."""
    for key in [key for key in _cache if key[0] == tenant_id]:
        _cache.pop(key, None)


def check_entry(name: str, code: str, entry: Mapping[str, Any] | None) -> Entry | None:
    """Validate one entry against the vocabulary of the table's kind; ``None`` unmaps the code."""
    if not code or len(code) > 64:
        raise ValidationFailed("a code must be 1-64 characters", field="code")
    if entry is None:
        return None
    keys = SHIPMENT_KEYS if table_kind(name) == "shipment" else ORDER_KEYS
    unknown = set(entry) - set(keys)
    if unknown:
        raise ValidationFailed(
            f"table {name} maps to {', '.join(sorted(keys))}; not {', '.join(sorted(unknown))}", field=f"entries.{code}"
        )
    clean: Entry = {}
    for key, vocabulary in keys.items():
        value = entry.get(key)
        if value is not None and value not in {member.value for member in vocabulary}:
            raise ValidationFailed(f"{value!r} is not a {key} status", field=f"entries.{code}.{key}")
        clean[key] = value
    if all(value is None for value in clean.values()) and table_kind(name) == "shipment":
        raise ValidationFailed("a shipment entry needs a shipment status (or unmap the code)", field=f"entries.{code}")
    return clean


async def save(
    actor: Actor,
    name: str,
    entries: Mapping[str, Mapping[str, Any] | None],
    *,
    remove: Iterable[str] = (),
    reason: str = "",
) -> StatusMappingTable:
    """Add, change, unmap (entry None) or drop (``remove``: back to the default) codes of a table.

    Writes a new version and a ``status_mapping.changed`` lineage row in one transaction.
    """
    if actor.role != Role.ADMIN:
        raise Forbidden("only an admin may change status mappings")
    if not _TABLE_NAME.match(name):
        raise ValidationFailed("table names look like 'taobao' or 'taobao.refund_status'", field="table")
    cleaned = {str(code): check_entry(name, str(code), entry) for code, entry in entries.items()}
    dropped = [str(code) for code in remove]
    for attempt in range(3):
        try:
            async with unit_of_work():
                row = await StatusMappingTable.filter(tenant_id=actor.tenant_id, name=name).select_for_update().first()
                if row is None:
                    row = await StatusMappingTable.create(tenant_id=actor.tenant_id, name=name, version=0, entries={})
                before = dict(row.entries or {})
                after = {code: entry for code, entry in before.items() if code not in dropped}
                after.update(cleaned)
                if after == before:
                    return row
                row.version += 1
                row.entries = after
                await row.save()
                await StatusMappingVersion.create(
                    tenant_id=actor.tenant_id, name=name, version=row.version, entries=after,
                    changed_by=actor.name, reason=reason[:500],
                )
                changed = sorted(set(before) ^ set(after) | {c for c in after if c in before and after[c] != before[c]})
                await log.append(
                    tenant_id=actor.tenant_id,
                    order_id=None,
                    type="status_mapping.changed",
                    actor=actor.name,
                    source=actor.source,
                    reason=reason or f"status table {name} saved as version {row.version}",
                    before={"table": name, "version": row.version - 1, "entries": {c: before.get(c) for c in changed}},
                    after={"table": name, "version": row.version, "entries": {c: after.get(c) for c in changed}},
                )
            forget(actor.tenant_id)
            return row
        except IntegrityError:  # two first saves raced to create the row: the loser retries on it
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def history(tenant_id: int, name: str) -> list[StatusMappingVersion]:
    return await StatusMappingVersion.filter(tenant_id=tenant_id, name=name).order_by("-version")


def table_names(tenant_names: Iterable[str]) -> list[str]:
    """Every table a tenant can see: the shipped ones and the ones it made."""
    return sorted(set(status_maps.TABLES) | set(tenant_names))
