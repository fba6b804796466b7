"""Returned (or exchanged) items come back into a warehouse's quarantine, not onto the sellable shelf.

They stay out of ``available`` until someone inspects them
(``stock.inspect_quarantine``): accepted units become sellable, scrapped ones
leave the books.
"""

from __future__ import annotations

from tortoise.functions import Sum

from domain.actor import Actor
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.order_writes import lock_order, require_writer
from domain.statuses import OrderStatus
from domain.stock.ledger import Cause, MovementKind, change, lineage
from domain.stock.levels import stock_row, warehouse_of
from domain.stock.reservations import ReservationStatus
from domain.unit_of_work import unit_of_work
from models import Order, OrderLine, Reservation, StockMovement

RETURNABLE = frozenset({OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})


async def _returned_so_far(line_id: int) -> int:
    row = await StockMovement.filter(line_id=line_id, kind=MovementKind.RETURN_TO_QUARANTINE).annotate(total=Sum("quarantine_delta")).first().values("total")
    return int((row or {}).get("total") or 0)


async def return_to_quarantine(
    actor: Actor, line_id: int, quantity: int, reason: str, *, warehouse_id: int | None = None
) -> Order:
    """Book ``quantity`` shipped units of a line into quarantine (in the shipping warehouse unless told otherwise)."""
    require_writer(actor)
    if quantity <= 0:
        raise ValidationFailed(f"quantity must be a positive whole number, got {quantity}", field="quantity")
    if not reason.strip():
        raise ValidationFailed("say why the item came back (return, exchange, ...)", field="reason")
    line = await OrderLine.filter(id=line_id, order__tenant_id=actor.tenant_id).first()
    if line is None:
        raise NotFound("no such order line", field="lineId")
    async with unit_of_work():
        order = await lock_order(actor, line.order_id)  # type: ignore[attr-defined]
        shipped = await Reservation.filter(line_slot=line.id, status=ReservationStatus.CONSUMED).first()  # the unique slot: an index hit
        if order.status not in RETURNABLE or shipped is None:
            raise Conflict("only shipped lines can come back", field="lineId")
        returned = await _returned_so_far(line.id)
        if returned + quantity > shipped.quantity:
            raise ValidationFailed(
                f"{shipped.quantity} shipped and {returned} already returned: at most {shipped.quantity - returned} more", field="quantity"
            )
        warehouse = await warehouse_of(actor, warehouse_id if warehouse_id is not None else shipped.warehouse_id)  # type: ignore[attr-defined]
        stock = await stock_row(actor.tenant_id, warehouse.id, line.sku)
        cause = Cause(actor, reason, order.id, line.id, shipped.id)
        await change(stock, MovementKind.RETURN_TO_QUARANTINE, cause, Conflict("quarantine refused the units"), quarantine=quantity)
        await lineage(actor, "stock.returned_to_quarantine", order_id=order.id, reason=reason,
                      after={"line_id": line.id, "sku": line.sku, "quantity": quantity, "warehouse": warehouse.code})
    return order
