"""Stock changes a WMS reports (``stockchange.report``) booked on the ledger, once per document reference.

    outcomes = await apply_stock_changes(actor, warehouse_id, changes, evidence_ref="exchange:12")

Each change is keyed by the WMS's document reference per (warehouse, SKU):
the ledger row's reason starts ``WMS stock change <reference> |``, and a
change whose key is already on the ledger is a repeat (``duplicate``). A
change caused by one of our own delivery orders (its code in the reason) is
already on the ledger from the delivery confirmation (``accounted``). A
removal that would leave fewer units than are promised to orders is not
booked (``conflict``) and raises an alert: someone must release or move
reservations. Each change is its own savepoint inside one transaction, and
each booked one leaves a ``stock.wms_changed`` lineage row pointing at the
evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.errors import InsufficientStock
from domain.federation.ports import StockChange
from domain.stock.ledger import Cause, MovementKind, change
from domain.stock.levels import stock_row
from domain.unit_of_work import unit_of_work
from events import log
from models import DeliveryOrder, Sku, Stock, StockMovement, Warehouse

APPLIED, DUPLICATE, ACCOUNTED, CONFLICT = "applied", "duplicate", "accounted", "conflict"
CONFLICT_ALERT = AlertKind.WMS_STOCK_CONFLICT


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    sku: str
    reference: str
    quantity: int
    outcome: str
    reason: str = ""


def ledger_reason(change_: StockChange) -> str:
    return f"{_prefix(change_.reference)} {change_.reason}".strip()[:500]


def _prefix(reference: str) -> str:
    return f"WMS stock change {reference} |"


async def unknown_skus(tenant_id: int, changes: Sequence[StockChange]) -> list[str]:
    """SKUs of ``changes`` the catalogue does not have (the caller refuses the report, naming them)."""
    wanted = {c.sku for c in changes}
    known = set(await Sku.filter(tenant_id=tenant_id, code__in=list(wanted)).values_list("code", flat=True))
    return sorted(wanted - known)


async def apply_stock_changes(actor: Actor, warehouse_id: int, changes: Sequence[StockChange], *,
                              evidence_ref: str | None) -> list[ChangeOutcome]:
    """Book each change once (see the module docstring); one outcome per change."""
    warehouse = await Warehouse.get(id=warehouse_id, tenant_id=actor.tenant_id)
    outcomes = []
    async with unit_of_work():
        for item in changes:
            outcomes.append(await _one(actor, warehouse, item, evidence_ref))
    return outcomes


async def _one(actor: Actor, warehouse: Warehouse, item: StockChange, evidence_ref: str | None) -> ChangeOutcome:
    tokens = [token for token in item.reason.replace(",", " ").split() if token]
    if tokens and await DeliveryOrder.exists(tenant_id=actor.tenant_id, code__in=tokens):
        return ChangeOutcome(item.sku, item.reference, item.quantity, ACCOUNTED,
                             "caused by our delivery order, booked when it was confirmed")
    stock = await stock_row(actor.tenant_id, warehouse.id, item.sku)
    await Stock.filter(id=stock.id).select_for_update().first()  # one booking of this row at a time (PostgreSQL)
    if await StockMovement.exists(stock_id=stock.id, reason__startswith=_prefix(item.reference)):
        return ChangeOutcome(item.sku, item.reference, item.quantity, DUPLICATE)
    refusal = InsufficientStock(
        f"the WMS reports {-item.quantity} of {item.sku} gone from {warehouse.code}, more than is not promised to orders",
        field="quantity")
    try:
        async with in_transaction():  # a savepoint: a refused change leaves the others standing
            levels = await change(stock, MovementKind.ADJUSTMENT, Cause(actor, ledger_reason(item)), refusal,
                                  on_hand=item.quantity)
    except InsufficientStock as error:
        await stock.refresh_from_db()
        await raise_alert(
            tenant_id=actor.tenant_id, kind=CONFLICT_ALERT, subject=f"stock:{stock.id}", severity="critical",
            warehouse_id=warehouse.id,
            message=f"{error.message}: release or move reservations, then replay the report",
            details={"sku": item.sku, "warehouse": warehouse.code, "quantity": item.quantity,
                     "reference": item.reference, "on_hand": stock.on_hand, "reserved": stock.reserved},
            actor=actor.name, source=actor.source)
        return ChangeOutcome(item.sku, item.reference, item.quantity, CONFLICT, error.message)
    await log.append(
        tenant_id=actor.tenant_id, order_id=None, type="stock.wms_changed", actor=actor.name, source=actor.source,
        reason=ledger_reason(item),
        after={"warehouse": warehouse.code, "sku": item.sku, "quantity": item.quantity, "reference": item.reference,
               "on_hand": levels.on_hand if levels else stock.on_hand,
               "reserved": levels.reserved if levels else stock.reserved,
               "occurred_at": item.occurred_at.isoformat()},
        payload_ref=evidence_ref)
    return ChangeOutcome(item.sku, item.reference, item.quantity, APPLIED)
