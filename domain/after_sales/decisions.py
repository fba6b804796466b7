"""The after-sale moves people and systems make, one transaction each, lineage on the order.

    await approve(actor, sale_id)                                  # → APPROVED (→ AWAITING_RETURN for returns)
    await reject(actor, sale_id, "the seal is broken by the buyer")
    await mark_returned(actor, sale_id, "SF", "SF1234567890")       # the buyer sent it back
    await receive(actor, sale_id, warehouse_id, [(sale_line_id, 1)])  # into quarantine → RECEIVED
    await inspect(actor, sale_id, sale_line_id, restock=1)          # quarantine → sellable (or written off)
    await refund(actor, sale_id)                                    # a negative payment → REFUNDED
    await exchange(actor, sale_id)                                  # a replacement order, allocated → EXCHANGED
    await close(actor, sale_id)                                     # → CLOSED

Each locks the order and the after-sale, checks the move against the table
(``machine``) and the money (``money``), writes, and appends its
``after_sale.*`` row to the order's lineage. A decision on an after-sale that
came from a channel is queued for the channel and pushed after commit
(``pushes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.actor import Actor
from domain.after_sales import moves, records
from domain.after_sales.exchange import send_replacement
from domain.after_sales.machine import WITHDRAWABLE, Kind, Source, check_move
from domain.after_sales.policy import policy_for
from domain.errors import Conflict, ValidationFailed
from domain.order_writes import require_writer
from domain.statuses import AfterSaleStatus as S
from domain.unit_of_work import unit_of_work
from models import AfterSale
from models.order import order_no


async def approve(actor: Actor, after_sale_id: int, amount: Decimal | None = None, note: str = "") -> AfterSale:
    """Approve a request (at ``amount``, at most what may still go back; default: what was asked)."""
    require_writer(actor)
    async with unit_of_work():
        sale, order = await records.lock(actor, after_sale_id)
        policy = await policy_for(actor.tenant_id, order.channel_id)  # type: ignore[attr-defined]
        await moves.approve_locked(actor, sale, order, amount=amount, note=note, return_days=policy.return_days)
    return sale


async def reject(actor: Actor, after_sale_id: int, note: str) -> AfterSale:
    """Reject a request; the note (required) is what the buyer reads."""
    require_writer(actor)
    async with unit_of_work():
        sale, _ = await records.lock(actor, after_sale_id)
        await moves.reject_locked(actor, sale, note)
    return sale


async def mark_returned(actor: Actor, after_sale_id: int, carrier: str, tracking_no: str) -> AfterSale:
    """The buyer sent the goods back: carrier and waybill (the customer page or a person says so)."""
    if actor.source != Source.CUSTOMER:
        require_writer(actor)
    async with unit_of_work():
        sale, order = await records.lock(actor, after_sale_id)
        policy = await policy_for(actor.tenant_id, order.channel_id)  # type: ignore[attr-defined]
        await moves.mark_returned_locked(actor, sale, carrier, tracking_no, return_days=policy.return_days)
    return sale


async def receive(actor: Actor, after_sale_id: int, warehouse_id: int, lines: Sequence[tuple[int, int]]) -> AfterSale:
    """The goods arrived: (after-sale line id, units received) are booked into quarantine at ``warehouse_id``."""
    require_writer(actor)
    async with unit_of_work():
        sale, _ = await records.lock(actor, after_sale_id)
        await moves.receive_locked(actor, sale, warehouse_id, lines)
    return sale


async def inspect(actor: Actor, after_sale_id: int, line_id: int, *, restock: int = 0, write_off: int = 0,
                  note: str = "") -> AfterSale:
    """Inspect received units of one after-sale line: ``restock`` become sellable, ``write_off`` leave the books."""
    require_writer(actor)
    async with unit_of_work():
        sale, _ = await records.lock(actor, after_sale_id)
        await moves.inspect_locked(actor, sale, line_id, restock, write_off, note)
    return sale


async def refund(actor: Actor, after_sale_id: int) -> AfterSale:
    """Pay the approved amount back (a negative payment by the order's gateway) → REFUNDED; refused twice."""
    require_writer(actor)
    async with unit_of_work():
        sale, order = await records.lock(actor, after_sale_id)
        await moves.refund_locked(actor, sale, order)
    return sale


async def exchange(actor: Actor, after_sale_id: int) -> AfterSale:
    """Send the replacement of received goods: a new order, allocated the normal way → EXCHANGED."""
    require_writer(actor)
    async with unit_of_work():
        sale, order = await records.lock(actor, after_sale_id)
        if sale.kind != Kind.EXCHANGE:
            raise Conflict("only an exchange sends a replacement", field="id")
        check_move(sale.kind, sale.status, S.EXCHANGED, why="the goods must be received first")
        replacement, reserved = await send_replacement(actor, sale, order)
        before = records.snapshot(sale)
        sale.status = S.EXCHANGED
        await records.save(actor, sale, before, "after_sale.exchanged",
                           f"replacement {order_no(replacement.id)} " + ("reserved" if reserved else "waits for stock"),
                           extra={"replacement_order_id": replacement.id, "reserved": reserved})
    return sale


async def close(actor: Actor, after_sale_id: int, note: str = "") -> AfterSale:
    """Close a finished after-sale, or withdraw an unfinished one (a note saying why is needed then)."""
    require_writer(actor)
    async with unit_of_work():
        sale, _ = await records.lock(actor, after_sale_id)
        await moves.close_locked(actor, sale, note)
    return sale


async def cancel(actor: Actor, after_sale_id: int, reason: str) -> AfterSale:
    """The buyer withdraws a request before anything came back (the customer page, with source ``customer``)."""
    if actor.source != Source.CUSTOMER:
        require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say why the request is withdrawn", field="reason")
    async with unit_of_work():
        sale, _ = await records.lock(actor, after_sale_id)
        if sale.status not in WITHDRAWABLE:
            raise Conflict(f"a request that is {sale.status} can no longer be withdrawn", field="id")
        await moves.close_locked(actor, sale, reason)
    return sale
