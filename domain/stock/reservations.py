"""Reservations: units of one stock row promised to one order line, from promise to shipment or release.

Building blocks for the allocation, cancel, ship and presale use cases; call
them inside ``unit_of_work`` with the order already locked. Each writes the
reservation rows, the ledger rows (through ``ledger.change``, or for a new
reservation on PostgreSQL ``reservation_statement``) and one lineage row per
order and step, so the order's history shows every unit it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tortoise import connections

from domain.actor import Actor
from domain.errors import Conflict, InsufficientStock
from domain.stock import low_stock, reservation_statement
from domain.stock.ledger import Cause, Change, MovementKind, change, change_all, lineage
from models import Order, OrderLine, Reservation, Stock, Warehouse


class ReservationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"
    CONSUMED = "CONSUMED"


class ReservationKind(StrEnum):
    ORDER = "ORDER"
    PRESALE = "PRESALE"


@dataclass(frozen=True, slots=True)
class Claim:
    """Reserve this line at this warehouse."""

    line: OrderLine
    warehouse: Warehouse


def _summary(rows: list[Reservation], codes: dict[int, str]) -> list[dict]:
    return [
        {"line_id": r.line_id, "sku": r.sku, "quantity": r.quantity, "warehouse": codes.get(r.warehouse_id, str(r.warehouse_id))}  # type: ignore[attr-defined]
        for r in rows
    ]


async def _codes(rows: list[Reservation]) -> dict[int, str]:
    ids = {r.warehouse_id for r in rows}  # type: ignore[attr-defined]
    return dict(await Warehouse.filter(id__in=ids).values_list("id", "code")) if ids else {}


async def live_for_order(order_id: int, *, warehouse_id: int | None = None) -> list[Reservation]:
    query = Reservation.filter(order_id=order_id, status=ReservationStatus.ACTIVE)
    if warehouse_id is not None:
        query = query.filter(warehouse_id=warehouse_id)
    return list(await query.order_by("id"))


async def reserve(
    actor: Actor,
    order: Order,
    claims: list[Claim],
    *,
    kind: ReservationKind = ReservationKind.ORDER,
    expires_at: datetime | None = None,
    reason: str = "",
) -> None:
    """Reserve every claim or none: raise ``InsufficientStock`` (the caller rolls back) if one cannot be met.

    On PostgreSQL every row goes out in one statement (``reservation_statement``);
    elsewhere step by step through ``ledger.change``. Either way the lineage row
    is written only once every claim is met.
    """
    after = {"kind": kind, "expires_at": expires_at.isoformat() if expires_at else None,
             "reservations": [{"line_id": c.line.id, "sku": c.line.sku, "quantity": c.line.quantity, "warehouse": c.warehouse.code}
                              for c in claims]}
    if connections.get("default").capabilities.dialect == "postgres":
        await _reserve_in_one_statement(actor, order, claims, kind, expires_at, reason, after)
    else:
        await _reserve_step_by_step(actor, order, claims, kind, expires_at, reason, after)


def refusal_writes_nothing(claims: list[Claim]) -> bool:
    """True when ``reserve`` refusing these claims leaves no row behind, so the caller needs no savepoint to undo it.

    So on PostgreSQL: the one statement takes every claimed stock row or none,
    and writes nothing else unless it did (``reservation_statement``). Step by
    step (SQLite) a refusal can follow rows already written.
    """
    return bool(claims) and connections.get("default").capabilities.dialect == "postgres"


def _refusal(claim: Claim, available: int | None, wanted: int) -> InsufficientStock:
    if available is None:
        return InsufficientStock(f"{claim.warehouse.code} does not stock {claim.line.sku}", field="warehouseId")
    return InsufficientStock(
        f"only {available} of {claim.line.sku} available in {claim.warehouse.code}, {wanted} wanted", field="quantity"
    )


async def _reserve_in_one_statement(
    actor: Actor, order: Order, claims: list[Claim], kind: ReservationKind, expires_at: datetime | None, reason: str, after: dict
) -> None:
    rows = await reservation_statement.run(
        reservation_statement.Request(
            tenant_id=actor.tenant_id,
            order_id=order.id,
            lines=[(c.line.id, c.warehouse.id, c.line.sku, c.line.quantity) for c in claims],
            kind=kind,
            expires_at=expires_at,
            actor=actor.name,
            source=actor.source,
            reason=reason,
            lineage_after=after,
            now=datetime.now(UTC),
        )
    )
    by_line = {row.line_id: row for row in rows}
    if not all(row.taken for row in rows):
        short = [c for c in claims if by_line[c.line.id].available is None or by_line[c.line.id].available < by_line[c.line.id].wanted]
        claim = (short or claims)[0]
        raise _refusal(claim, by_line[claim.line.id].available, by_line[claim.line.id].wanted or claim.line.quantity)
    seen: set[int] = set()
    for claim in claims:
        row = by_line[claim.line.id]
        if row.stock_id in seen:
            continue
        seen.add(row.stock_id)  # type: ignore[arg-type]
        assert row.on_hand is not None and row.reserved is not None and row.safety is not None and row.wanted is not None
        stock = Stock(id=row.stock_id, tenant_id=actor.tenant_id, warehouse_id=claim.warehouse.id, sku=claim.line.sku)
        await low_stock.after_update(stock, actor.name, on_hand=row.on_hand, reserved=row.reserved, safety=row.safety,
                                     factor=row.factor, available_change=-row.wanted)


async def _reserve_step_by_step(
    actor: Actor, order: Order, claims: list[Claim], kind: ReservationKind, expires_at: datetime | None, reason: str, after: dict
) -> None:
    """Reservation and ledger rows first, then the conditional UPDATEs in stock-id order (no deadlocks)."""
    stocks = {
        (row.warehouse_id, row.sku): row  # type: ignore[attr-defined]
        for row in await Stock.filter(
            warehouse_id__in={c.warehouse.id for c in claims}, sku__in={c.line.sku for c in claims}
        )
    }
    rows: list[tuple[Stock, Reservation, Claim]] = []
    for claim in claims:
        stock = stocks.get((claim.warehouse.id, claim.line.sku))
        if stock is None:
            raise _refusal(claim, None, claim.line.quantity)
        reservation = await Reservation.create(
            tenant_id=actor.tenant_id,
            order_id=order.id,
            line_id=claim.line.id,
            warehouse_id=claim.warehouse.id,
            stock_id=stock.id,
            sku=claim.line.sku,
            quantity=claim.line.quantity,
            status=ReservationStatus.ACTIVE,
            kind=kind,
            expires_at=expires_at,
            line_slot=claim.line.id,
        )
        rows.append((stock, reservation, claim))
        await OrderLine.filter(id=claim.line.id).update(warehouse_id=claim.warehouse.id)
    for stock, reservation, claim in sorted(rows, key=lambda row: row[0].id):
        cause = Cause(actor, reason, order.id, claim.line.id, reservation.id)
        await change(stock, MovementKind.RESERVE, cause, _refusal(claim, stock.on_hand - stock.reserved, claim.line.quantity),
                     reserved=claim.line.quantity)
    # Appended only once every UPDATE succeeded: a refused reservation must not leave a gap in the event ids.
    await lineage(actor, "stock.reserved", order_id=order.id, reason=reason, after=after)


async def _close(actor: Actor, rows: list[Reservation], status: ReservationStatus, reason: str) -> None:
    """Mark reservations closed; refuse if one was closed meanwhile (the order lock makes that a bug, not a race)."""
    now = datetime.now(UTC)
    for row in rows:
        updates: dict = {"status": status, "closed_at": now, "close_reason": reason[:500]}
        if status == ReservationStatus.RELEASED:
            updates["line_slot"] = None
        closed = await Reservation.filter(id=row.id, status=ReservationStatus.ACTIVE).update(**updates)
        if not closed:
            raise Conflict(f"reservation {row.id} is no longer active", field="reservationId")


async def release(actor: Actor, order: Order, rows: list[Reservation], reason: str, *, type: str = "stock.released") -> None:
    """Give reserved units back to available; the lines become unallocated."""
    if not rows:
        return
    await _close(actor, rows, ReservationStatus.RELEASED, reason)
    await OrderLine.filter(id__in=[r.line_id for r in rows]).update(warehouse_id=None)  # type: ignore[attr-defined]
    await lineage(actor, type, order_id=order.id, reason=reason, after={"reservations": _summary(rows, await _codes(rows))})
    await _give_back(actor, order, rows, reason, MovementKind.RELEASE)


async def consume(actor: Actor, order: Order, rows: list[Reservation], reason: str) -> None:
    """The units left the building: reserved and on-hand both drop."""
    if not rows:
        return
    await _close(actor, rows, ReservationStatus.CONSUMED, reason)
    await lineage(actor, "stock.consumed", order_id=order.id, reason=reason, after={"reservations": _summary(rows, await _codes(rows))})
    await _give_back(actor, order, rows, reason, MovementKind.SHIP)


async def _give_back(actor: Actor, order: Order, rows: list[Reservation], reason: str, kind: MovementKind) -> None:
    """The units of closed reservations leave ``reserved`` (and ``on_hand`` too when they shipped), last in the
    transaction's stock work and back to back (``ledger.change_all``)."""
    stocks = {stock.id: stock for stock in await Stock.filter(id__in={r.stock_id for r in rows})}  # type: ignore[attr-defined]
    await change_all([
        Change(stocks[row.stock_id], kind, Cause(actor, reason, order.id, row.line_id, row.id),  # type: ignore[attr-defined]
               Conflict("the ledger has fewer units reserved than this reservation"),
               on_hand=-row.quantity if kind == MovementKind.SHIP else 0, reserved=-row.quantity)
        for row in rows
    ])


async def convert_presale(actor: Actor, order: Order) -> list[Reservation]:
    """The balance is paid: pre-sale reservations become ordinary ones with no deadline."""
    rows = [r for r in await live_for_order(order.id) if r.kind == ReservationKind.PRESALE]
    if rows:
        await Reservation.filter(id__in=[r.id for r in rows]).update(kind=ReservationKind.ORDER, expires_at=None)
        await lineage(actor, "stock.presale_converted", order_id=order.id, reason="balance paid",
                      after={"reservations": _summary(rows, await _codes(rows))})
    return rows
