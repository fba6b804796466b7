"""Catalogue items (SKUs): what a merchant sells, created or changed by one upsert, and listed a page at a time.

    item, outcome = await upsert_item(actor, "TEA-250", {"title": "龙井 250g", "safety_stock": 5})

An upsert names only the fields it changes; ``title`` is required when the
item is new. Saving the same values again changes nothing and writes no
lineage (so re-importing a file is harmless). ``safety_stock`` is what a
(warehouse, SKU) stock row starts with when the SKU first arrives in a
warehouse; rows that exist keep their own (``setSafetyStock``). A barcode
names one item only, and a GTIN (8, 12, 13 or 14 digits) must have a valid
check digit: a mistyped barcode would otherwise scan as nothing at the dock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.actor import Actor
from domain.catalog import checks
from domain.errors import Duplicate, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import log
from models import Sku

MAX_WEIGHT_GRAMS = 10_000_000  # 10 t: anything heavier is a typo, not a parcel
_GTIN_LENGTHS = frozenset({8, 12, 13, 14})


class Outcome(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"


def gtin_ok(digits: str) -> bool:
    """GS1 check digit: weights 3 and 1 from the right, excluding the check digit itself."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _barcode(value: Any, field: str) -> str:
    text = checks.label(value, field, max_length=64, what="barcode")
    if any(character.isspace() for character in text):
        raise ValidationFailed(f"barcode {text!r} must not contain spaces", field=field)
    if text.isdigit() and len(text) in _GTIN_LENGTHS and not gtin_ok(text):
        raise ValidationFailed(f"barcode {text} is a {len(text)}-digit GTIN with a wrong check digit", field=field)
    return text


def _weight(value: Any, field: str) -> int | None:
    return None if value is None else checks.whole(value, field, what="weight in grams", minimum=1, maximum=MAX_WEIGHT_GRAMS)


#: column -> (GraphQL path named in refusals, check)
FIELDS: dict[str, tuple[str, Callable[[Any, str], Any]]] = {
    "title": ("title", lambda v, f: checks.label(v, f, max_length=200, what="title", required=True)),
    "category": ("category", lambda v, f: checks.label(v, f, max_length=64, what="category")),
    "barcode": ("barcode", _barcode),
    "weight_grams": ("weightGrams", _weight),
    "safety_stock": ("safetyStock", lambda v, f: checks.whole(v, f, what="safety stock", maximum=1_000_000_000)),
    "active": ("active", lambda v, f: checks.flag(v, f, what="active")),
}
NULLABLE = frozenset({"weight_grams"})


def sku_code(value: Any, field: str = "sku") -> str:
    return checks.identifier(value, field, max_length=64, what="SKU code")


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    return checks.checked(values, FIELDS, NULLABLE, "catalogue")


def snapshot(item: Sku) -> dict[str, Any]:
    return {"sku": item.code, **{column: getattr(item, column) for column in FIELDS}}


async def upsert_item(actor: Actor, code: str, values: Mapping[str, Any], *, reason: str = "",
                      payload_ref: str | None = None) -> tuple[Sku, Outcome]:
    """Create the item or change the fields named; returns it with what happened."""
    checks.require_setup(actor, "change the catalogue")
    code = sku_code(code)
    fields = _checked(values)
    try:
        async with unit_of_work():
            item = await Sku.filter(tenant_id=actor.tenant_id, code=code).select_for_update().first()
            if fields.get("barcode"):
                await _barcode_free(actor.tenant_id, fields["barcode"], code)
            if item is None:
                if "title" not in fields:
                    raise ValidationFailed(f"title is required for the new item {code}", field="title")
                item = await Sku.create(tenant_id=actor.tenant_id, code=code, **fields)
                await _record(actor, "catalog.item_created", reason or f"item {code} created", None, snapshot(item), payload_ref)
                return item, Outcome.CREATED
            before = snapshot(item)
            for column, value in fields.items():
                setattr(item, column, value)
            after = snapshot(item)
            changed = sorted(c for c in after if after[c] != before[c])
            if not changed:
                return item, Outcome.UNCHANGED
            await item.save(update_fields=[*changed, "updated_at"])
            await _record(actor, "catalog.item_updated", reason or f"item {code}: changed {', '.join(changed)}",
                          {c: before[c] for c in changed}, {"sku": code, **{c: after[c] for c in changed}}, payload_ref)
            return item, Outcome.UPDATED
    except IntegrityError:  # the same new code saved twice at once: the other one won
        raise Duplicate(f"item {code} was created at the same moment by someone else; save again to change it", field="sku") from None


async def _barcode_free(tenant_id: int, barcode: str, code: str) -> None:
    other = await Sku.filter(tenant_id=tenant_id, barcode=barcode).exclude(code=code).first()
    if other is not None:
        raise Duplicate(f"barcode {barcode} already belongs to {other.code}", field="barcode")


async def _record(actor: Actor, kind: str, reason: str, before: dict[str, Any] | None, after: dict[str, Any],
                  payload_ref: str | None) -> None:
    await log.append(tenant_id=actor.tenant_id, order_id=None, type=kind, actor=actor.name, source=actor.source,
                     reason=reason, before=before, after=after, payload_ref=payload_ref)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Narrows ``catalogItems``: ``search`` matches code, title or barcode; the rest must equal."""

    search: str | None = None
    category: str | None = None
    active: bool | None = None
    skus: tuple[str, ...] | None = None


def query(tenant_id: int, wanted: ItemFilter | None) -> QuerySet[Sku]:
    """The tenant's items matching ``wanted``, unordered (the caller pages them by code)."""
    items = Sku.filter(tenant_id=tenant_id)
    if wanted is None:
        return items
    if wanted.search and wanted.search.strip():
        text = wanted.search.strip()
        items = items.filter(Q(code__icontains=text) | Q(title__icontains=text) | Q(barcode=text))
    if wanted.category is not None:
        items = items.filter(category=wanted.category.strip())
    if wanted.active is not None:
        items = items.filter(active=wanted.active)
    if wanted.skus is not None:
        items = items.filter(code__in=[code.strip() for code in wanted.skus])
    return items
