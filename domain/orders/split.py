"""Splitting an order into several parcels by hand (拆单): which lines, and how many of each, leave together.

    # line 7 is 3 x TEA, line 8 is 1 x CUP
    await split_order(actor, order_id, [[(7, 2)], [(7, 1), (8, 1)]])
    # parcel 1: 2 x TEA (line 7, now quantity 2); parcel 2: 1 x TEA (a new line row) and the CUP
    await ship_order(actor, order_id, "SF", "SF1001", parcel=1)   # PARTIALLY_SHIPPED
    await ship_order(actor, order_id, "SF", "SF1002", parcel=2)   # SHIPPED

Parcels are numbered by their place in the request, from 1 (after the highest
parcel that has already shipped, when some has). Every line not yet shipped
must be assigned in full: a line given to several parcels becomes several line
rows with the same channel line id, SKU and unit price, their quantities
summing to the original. A line that is reserved keeps its warehouse: its
reservation is released and every part reserved again there, in the same
transaction (refused once picking has started on it, since the units are off
the shelf). Shipped lines cannot move.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.actor import Actor
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.order_writes import lock_order, require_writer
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.stock import reservations
from domain.stock.reservations import Claim, ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import Order, OrderLine, Reservation, Warehouse

#: Most parcels one order may be split into.
MAX_PARCELS = 20
#: Statuses in which an order still has something to split (a held order: the status it returns to).
SPLITTABLE = frozenset({OrderStatus.PENDING_PAYMENT, OrderStatus.DEPOSIT_PAID, OrderStatus.PAID, OrderStatus.ALLOCATED,
                        OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED})

#: One parcel: (line id, quantity) pairs.
Parcel = Sequence[tuple[int, int]]


def _shape(parcels: Sequence[Parcel]) -> dict[int, list[tuple[int, int]]]:
    """Check the request's shape; returns line id -> [(parcel index, quantity)] in parcel order."""
    if not 1 <= len(parcels) <= MAX_PARCELS:
        raise ValidationFailed(f"give between 1 and {MAX_PARCELS} parcels", field="parcels")
    wanted: dict[int, list[tuple[int, int]]] = {}
    for index, parcel in enumerate(parcels):
        if not parcel:
            raise ValidationFailed(f"parcel {index + 1} is empty", field=f"parcels.{index}")
        seen: set[int] = set()
        for position, (line_id, quantity) in enumerate(parcel):
            if quantity < 1:
                raise ValidationFailed("a quantity must be at least 1", field=f"parcels.{index}.{position}.quantity")
            if line_id in seen:
                raise ValidationFailed(f"line {line_id} is listed twice in parcel {index + 1}", field=f"parcels.{index}.{position}.lineId")
            seen.add(line_id)
            wanted.setdefault(line_id, []).append((index, quantity))
    return wanted


def _picture(lines: list[OrderLine]) -> list[dict]:
    return [{"line_id": line.id, "sku": line.sku, "quantity": line.quantity, "parcel": line.parcel} for line in lines]


async def split_order(actor: Actor, order_id: int, parcels: Sequence[Parcel]) -> Order:
    """Assign the order's unshipped lines to parcels, splitting lines by quantity where asked; lineage ``order.split``."""
    require_writer(actor)
    wanted = _shape(parcels)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        status = OrderStatus(order.status_before_hold if order.status == OrderStatus.ON_HOLD and order.status_before_hold else order.status)
        if status not in SPLITTABLE:
            raise Conflict(f"the order is {order.status}: nothing is left to split", field="id")
        lines = {line.id: line for line in await OrderLine.filter(order_id=order.id).order_by("id")}
        live = {r.line_id: r for r in await Reservation.filter(order_id=order.id, line_slot__isnull=False)}  # type: ignore[attr-defined]
        shipped = {line_id for line_id, r in live.items() if r.status == ReservationStatus.CONSUMED}
        for line_id in wanted:
            if line_id not in lines:
                raise NotFound(f"line {line_id} is not a line of this order", field="parcels")
            if line_id in shipped:
                raise Conflict(f"line {line_id} ({lines[line_id].sku}) has shipped and cannot move", field="parcels")
        open_lines = [line for line in lines.values() if line.id not in shipped]
        for line in open_lines:
            assigned = sum(quantity for _, quantity in wanted.get(line.id, []))
            if assigned != line.quantity:
                raise ValidationFailed(f"line {line.id} ({line.sku}): {assigned} of {line.quantity} assigned; "
                                       "assign every unit of every line not yet shipped", field="parcels")
        first = max((lines[line_id].parcel for line_id in shipped), default=0) + 1
        before = _picture(open_lines)
        after_rows: list[OrderLine] = []
        for line in open_lines:
            parts = wanted[line.id]
            reservation = live.get(line.id)
            if len(parts) > 1 and reservation is not None and reservation.picker:
                raise Conflict(f"picking has started on line {line.id} ({line.sku}): it can change parcel whole, "
                               "not be split", field="parcels")
            line.quantity, line.parcel = parts[0][1], first + parts[0][0]
            await OrderLine.filter(id=line.id).update(quantity=line.quantity, parcel=line.parcel)
            rows = [line]
            for index, quantity in parts[1:]:
                rows.append(await OrderLine.create(
                    order_id=order.id, sku=line.sku, title=line.title, quantity=quantity, unit_price=line.unit_price,
                    external_line_id=line.external_line_id, channel_sku=line.channel_sku, parcel=first + index,
                ))
            if len(parts) > 1 and reservation is not None:
                await _reserve_again(actor, order, reservation, rows)
            after_rows += rows
        order.version += 1
        await order.save()
        await log.append(
            tenant_id=actor.tenant_id, order_id=order.id, type="order.split", actor=actor.name, source=actor.source,
            reason=f"{len(parcels)} parcel(s)", before={**order_state(order), "lines": before},
            after={**order_state(order), "lines": _picture(sorted(after_rows, key=lambda r: (r.parcel, r.id)))},
        )
    return order


async def _reserve_again(actor: Actor, order: Order, reservation: Reservation, rows: list[OrderLine]) -> None:
    """A reserved line became several rows: release its reservation and reserve each row at the same warehouse."""
    warehouse = await Warehouse.get(id=reservation.warehouse_id)  # type: ignore[attr-defined]
    note = f"line {rows[0].id} split into {len(rows)} parcels"
    await reservations.release(actor, order, [reservation], note)
    await reservations.reserve(actor, order, [Claim(row, warehouse) for row in rows],
                               kind=ReservationKind(reservation.kind), expires_at=reservation.expires_at, reason=note)
