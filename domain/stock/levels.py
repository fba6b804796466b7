"""Stock level use cases for operators and the WMS: opening stock, receive, adjust, count sync, safety stock, inspection.

Each runs in one transaction and changes levels only through ``ledger.change``,
so every unit is accounted for by a movement row and a lineage row. Bad
input (non-positive quantities, unknown warehouse or SKU, going below what is
promised to orders) is refused with a typed error and nothing is changed.

A (warehouse, SKU) row is created on first use with the item's
``safety_stock``. Its first movement may be an opening count
(``set_opening_stock``, a merchant starting on OrderGraph); once it has any
movement, units arrive by receipt and corrections are adjustments.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.errors import (
    Conflict,
    Forbidden,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)
from domain.stock import low_stock
from domain.stock.ledger import Cause, MovementKind, change, lineage
from domain.unit_of_work import unit_of_work
from events import log
from models import Sku, SkuStockPolicy, Stock, StockMovement, Warehouse

#: Roles that may change stock levels (the WMS integration acts as SERVICE).
STOCK_ROLES = frozenset({Role.ADMIN, Role.OPS, Role.WAREHOUSE, Role.SERVICE})
#: Roles that may book opening stock: part of setting a merchant up, like creating warehouses and items.
OPENING_ROLES = frozenset({Role.ADMIN, Role.OPS})
MAX_FACTOR = Decimal("100")


def require_stock_writer(actor: Actor) -> None:
    if actor.role not in STOCK_ROLES:
        raise Forbidden(f"role {actor.role} may not change stock")


def _positive(quantity: int, field: str = "quantity") -> None:
    if quantity <= 0:
        raise ValidationFailed(f"{field} must be a positive whole number, got {quantity}", field=field)


async def warehouse_of(actor: Actor, warehouse_id: int, field: str = "warehouseId") -> Warehouse:
    warehouse = await Warehouse.filter(id=warehouse_id, tenant_id=actor.tenant_id).first()
    if warehouse is None:
        raise NotFound("no such warehouse", field=field)
    return warehouse


async def _known_sku(actor: Actor, sku: str, field: str = "sku") -> str:
    sku = sku.strip()
    if not sku or not await Sku.exists(tenant_id=actor.tenant_id, code=sku):
        raise NotFound(
            f"unknown SKU {sku!r}: create the item first with upsertCatalogItem or `ordergraph catalog import`",
            field=field,
        )
    return sku


async def stock_row(tenant_id: int, warehouse_id: int, sku: str) -> Stock:
    """The levels row of a (warehouse, SKU), created on first use with the item's safety stock."""
    stock = await Stock.filter(warehouse_id=warehouse_id, sku=sku).first()
    if stock is not None:
        return stock
    safety = await Sku.filter(tenant_id=tenant_id, code=sku).first().values_list("safety_stock", flat=True)
    stock, _ = await Stock.get_or_create(
        warehouse_id=warehouse_id, sku=sku, defaults={"tenant_id": tenant_id, "safety": safety or 0}
    )
    return stock


async def _locked(stock: Stock) -> None:
    """Hold the row until commit (PostgreSQL), so two bookings of the same row check its history one after the other."""
    await Stock.filter(id=stock.id).select_for_update().first()


async def set_opening_stock(
    actor: Actor, warehouse_id: int, sku: str, quantity: int, *, reason: str = "", payload_ref: str | None = None,
    repeat_ok: bool = False,
) -> tuple[Stock, bool]:
    """Book the first count of a (warehouse, SKU) that has never had stock; ``True`` when it was booked now.

    Refused once the row has any movement: from then on units arrive with
    ``receive_stock`` and corrections are ``adjust_stock``. ``repeat_ok``
    (a re-run import) accepts the very same opening again as already done,
    whatever moved since.
    """
    if actor.role not in OPENING_ROLES:
        raise Forbidden(f"role {actor.role} may not book opening stock; an admin or ops key may")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValidationFailed(f"opening stock must be a whole number, 0 or more, got {quantity}", field="quantity")
    warehouse = await warehouse_of(actor, warehouse_id, "warehouse")
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        await _locked(stock)
        first = await StockMovement.filter(stock_id=stock.id).order_by("id").first().values_list("kind", "on_hand_delta")
        if first:
            if repeat_ok and tuple(first) == (MovementKind.OPENING_STOCK.value, quantity):
                return stock, False
            first_kind = first[0]
            opened = "was opened already" if first_kind == MovementKind.OPENING_STOCK else f"already has stock movements ({first_kind})"
            raise Conflict(
                f"{sku} in {warehouse.code} {opened}: book arrivals with receiveStock and corrections with adjustStock",
                field="quantity",
            )
        note = "opening stock" + (f": {reason.strip()}" if reason.strip() else "")
        refusal = Conflict("opening stock was refused by the stock invariants")  # adding units cannot break them
        await change(stock, MovementKind.OPENING_STOCK, Cause(actor, note), refusal, on_hand=quantity)
        await stock.refresh_from_db()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="stock.opened", actor=actor.name,
                         source=actor.source, reason=note, payload_ref=payload_ref,
                         after={**_levels(stock, warehouse), "quantity": quantity, "safety": stock.safety})
    return stock, True


async def receive_once(
    actor: Actor, warehouse_id: int, sku: str, quantity: int, reference: str, *, payload_ref: str | None = None
) -> tuple[Stock, bool]:
    """Book a receipt that has a reference (a purchase order or ASN number) once per (warehouse, SKU, reference).

    ``False`` when that receipt was booked before: a repeated file or a WMS
    retry does not add the units twice.
    """
    require_stock_writer(actor)
    _positive(quantity)
    reference = reference.strip()
    if not reference or len(reference) > 64:
        raise ValidationFailed("a receipt needs its reference (purchase order or ASN number), up to 64 characters", field="reference")
    warehouse = await warehouse_of(actor, warehouse_id, "warehouse")
    sku = await _known_sku(actor, sku)
    note = f"receipt {reference}"
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        await _locked(stock)
        if await StockMovement.exists(stock_id=stock.id, kind=MovementKind.RECEIPT.value, reason=note):
            return stock, False
        refusal = Conflict("a receipt was refused by the stock invariants")  # adding units cannot break them
        await change(stock, MovementKind.RECEIPT, Cause(actor, note), refusal, on_hand=quantity)
        await stock.refresh_from_db()
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="stock.received", actor=actor.name,
                         source=actor.source, reason=note, payload_ref=payload_ref,
                         after={**_levels(stock, warehouse), "quantity": quantity, "reference": reference})
    return stock, True


def _levels(stock: Stock, warehouse: Warehouse) -> dict:
    return {"warehouse": warehouse.code, "sku": stock.sku, "on_hand": stock.on_hand, "reserved": stock.reserved}


async def receive_stock(
    actor: Actor, warehouse_id: int, sku: str, quantity: int, *, reason: str = "", safety: int | None = None
) -> Stock:
    """Add units that arrived (a purchase receipt); optionally set safety stock at the same time."""
    require_stock_writer(actor)
    _positive(quantity)
    if safety is not None and safety < 0:
        raise ValidationFailed("safety stock must not be negative", field="safety")
    warehouse = await warehouse_of(actor, warehouse_id)
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        if safety is not None:
            await Stock.filter(id=stock.id).update(safety=safety)
        refusal = Conflict("a receipt was refused by the stock invariants")  # adding units cannot break them
        await change(stock, MovementKind.RECEIPT, Cause(actor, reason or "receipt"), refusal, on_hand=quantity)
        await stock.refresh_from_db()
        if safety is not None:
            await low_stock.reevaluate(stock, actor.name)
        await lineage(actor, "stock.received", reason=reason or f"received {quantity}", after={**_levels(stock, warehouse), "quantity": quantity})
    return stock


async def adjust_stock(actor: Actor, warehouse_id: int, sku: str, delta: int, reason: str) -> Stock:
    """Correct on-hand by ``delta`` (damage, found units); never below what is reserved for orders."""
    require_stock_writer(actor)
    if delta == 0:
        raise ValidationFailed("an adjustment must change the quantity", field="delta")
    if not reason.strip():
        raise ValidationFailed("say why the stock is adjusted", field="reason")
    warehouse = await warehouse_of(actor, warehouse_id)
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        refusal = InsufficientStock(
            f"cannot remove {-delta} of {sku} in {warehouse.code}: only {stock.on_hand - stock.reserved} are not promised to orders",
            field="delta",
        )
        await change(stock, MovementKind.ADJUSTMENT, Cause(actor, reason), refusal, on_hand=delta)
        await stock.refresh_from_db()
        await lineage(actor, "stock.adjusted", reason=reason, after={**_levels(stock, warehouse), "delta": delta})
    return stock


async def set_safety_stock(actor: Actor, warehouse_id: int, sku: str, safety: int) -> Stock:
    require_stock_writer(actor)
    if safety < 0:
        raise ValidationFailed("safety stock must not be negative", field="safety")
    warehouse = await warehouse_of(actor, warehouse_id)
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        before = stock.safety
        await Stock.filter(id=stock.id).update(safety=safety)
        await low_stock.reevaluate(stock, actor.name)
        await lineage(
            actor, "stock.safety_set", before={"safety": before}, after={**_levels(stock, warehouse), "safety": safety}
        )
    return stock


async def set_low_stock_factor(actor: Actor, sku: str, factor: Decimal) -> SkuStockPolicy:
    """Alert when available <= safety x ``factor`` for this SKU, in every warehouse."""
    require_stock_writer(actor)
    try:
        factor = Decimal(factor)
    except InvalidOperation:
        raise ValidationFailed("factor must be a number", field="factor") from None
    if not Decimal("0") < factor <= MAX_FACTOR or factor != round(factor, 2):
        raise ValidationFailed(f"factor must be above 0 and at most {MAX_FACTOR}, with 2 decimals at most", field="factor")
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        policy, _ = await SkuStockPolicy.update_or_create(
            tenant_id=actor.tenant_id, sku=sku, defaults={"low_stock_factor": factor}
        )
        for stock in await Stock.filter(tenant_id=actor.tenant_id, sku=sku).order_by("id"):
            await low_stock.reevaluate(stock, actor.name)
        await lineage(actor, "stock.low_stock_factor_set", after={"sku": sku, "factor": str(factor)})
    return policy


@dataclass(frozen=True, slots=True)
class CountLine:
    """One row of a WMS count: what is physically on the shelf."""

    warehouse_id: int
    sku: str
    on_hand: int
    in_transit: int | None = None


@dataclass(frozen=True, slots=True)
class CountResult:
    warehouse_id: int
    sku: str
    before: int
    counted: int
    outcome: str  # APPLIED, UNCHANGED or CONFLICT
    message: str = ""

    @property
    def difference(self) -> int:
        return self.counted - self.before


async def sync_counts(actor: Actor, counts: list[CountLine], reason: str = "WMS count") -> list[CountResult]:
    """Set on-hand to the WMS's counts, recording each difference it corrects as a movement.

    A count below what is already reserved cannot be applied without breaking
    promises: that row is left as it is, reported as CONFLICT and raised as an
    alert for a person to release or move reservations. Invalid input
    refuses the whole sync.
    """
    require_stock_writer(actor)
    if not counts:
        raise ValidationFailed("a sync needs at least one count", field="counts")
    seen: set[tuple[int, str]] = set()
    for index, line in enumerate(counts):
        where = f"counts.{index}"
        if line.on_hand < 0:
            raise ValidationFailed("a count must not be negative", field=f"{where}.onHand")
        if line.in_transit is not None and line.in_transit < 0:
            raise ValidationFailed("in-transit units must not be negative", field=f"{where}.inTransit")
        await warehouse_of(actor, line.warehouse_id, f"{where}.warehouseId")
        await _known_sku(actor, line.sku, f"{where}.sku")
        key = (line.warehouse_id, line.sku.strip())
        if key in seen:
            raise ValidationFailed("the same warehouse and SKU appear twice", field=where)
        seen.add(key)
    results: list[CountResult] = []
    async with unit_of_work():
        rows = [await stock_row(actor.tenant_id, wid, sku) for wid, sku in seen]
        ids = sorted(row.id for row in rows)
        locked = {row.id: row for row in await Stock.filter(id__in=ids).order_by("id").select_for_update()}
        by_key = {(row.warehouse_id, row.sku): row for row in locked.values()}  # type: ignore[attr-defined]
        for line in counts:
            row = by_key[(line.warehouse_id, line.sku.strip())]
            if line.in_transit is not None and line.in_transit != row.in_transit:
                await Stock.filter(id=row.id).update(in_transit=line.in_transit)  # inbound info, not a level promised against
            results.append(await _apply_count(actor, row, line.on_hand, reason))
        changed = [r for r in results if r.outcome != "UNCHANGED"]
        await lineage(
            actor,
            "stock.synced",
            reason=reason,
            after={
                "rows": len(results),
                "differences": [
                    {"warehouse_id": r.warehouse_id, "sku": r.sku, "before": r.before, "counted": r.counted, "outcome": r.outcome}
                    for r in changed
                ],
            },
        )
    return results


async def _apply_count(actor: Actor, stock: Stock, counted: int, reason: str) -> CountResult:
    result = CountResult(stock.warehouse_id, stock.sku, stock.on_hand, counted, "UNCHANGED")  # type: ignore[attr-defined]
    if counted == stock.on_hand:
        return result
    if counted < stock.reserved:
        message = f"counted {counted} of {stock.sku} but {stock.reserved} are reserved for orders"
        await raise_alert(
            tenant_id=actor.tenant_id,
            kind=AlertKind.STOCK_COUNT_CONFLICT,
            subject=f"stock:{stock.id}",
            warehouse_id=stock.warehouse_id,  # type: ignore[attr-defined]
            severity="critical",
            message=f"Stock count conflict: {message}; release or move reservations, then sync again",
            details={"stock_id": stock.id, "sku": stock.sku, "counted": counted, "on_hand": stock.on_hand, "reserved": stock.reserved},
            actor=actor.name,
        )
        return CountResult(result.warehouse_id, result.sku, result.before, counted, "CONFLICT", message)
    cause = Cause(actor, f"{reason}: counted {counted}, was {stock.on_hand}")
    await change(stock, MovementKind.COUNT_SYNC, cause, InsufficientStock("count changed under a lock"), on_hand=counted - stock.on_hand)
    return CountResult(result.warehouse_id, result.sku, result.before, counted, "APPLIED")


async def inspect_quarantine(
    actor: Actor, warehouse_id: int, sku: str, *, accepted: int, scrapped: int, reason: str = ""
) -> Stock:
    """Decide on returned units: accepted ones become sellable, scrapped ones leave the books."""
    require_stock_writer(actor)
    if accepted < 0 or scrapped < 0 or accepted + scrapped == 0:
        raise ValidationFailed("accept or scrap at least one unit, and neither may be negative", field="accepted")
    warehouse = await warehouse_of(actor, warehouse_id)
    sku = await _known_sku(actor, sku)
    async with unit_of_work():
        stock = await stock_row(actor.tenant_id, warehouse.id, sku)
        refusal = InsufficientStock(f"fewer than {accepted + scrapped} units of {sku} are in quarantine in {warehouse.code}", field="accepted")
        if accepted:
            await change(stock, MovementKind.QUARANTINE_ACCEPT, Cause(actor, reason or "inspected: sellable"), refusal, quarantine=-accepted, on_hand=accepted)
        if scrapped:
            await change(stock, MovementKind.QUARANTINE_SCRAP, Cause(actor, reason or "inspected: scrapped"), refusal, quarantine=-scrapped)
        await stock.refresh_from_db()
        await lineage(actor, "stock.inspected", reason=reason, after={**_levels(stock, warehouse), "accepted": accepted, "scrapped": scrapped})
    return stock
