"""Each after-sale move on an after-sale and order the caller has locked, inside the caller's transaction.

    async with unit_of_work():
        sale, order = await records.lock(actor, after_sale_id)
        await approve_locked(actor, sale, order, amount=Decimal("80.00"), note="partial: one of two broken")

The public use cases (``decisions``), the policy's automatic approval
(``requests``) and the channel's own reports (``channel``) all move an
after-sale through these, so every path checks the same table
(``machine``), the same money (``money``) and writes the same lineage.

A decision a person (or the policy) takes on an after-sale that came from a
sales channel is owed to that channel: it is queued on the after-sale
(``push_state = pending``) in the same transaction and pushed after commit
(``pushes``). What the channel itself reported is not pushed back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.actor import Actor
from domain.after_sales import records
from domain.after_sales.machine import (
    REFUNDING_KINDS,
    RETURNING_KINDS,
    WITHDRAWABLE,
    Kind,
    Source,
    check_move,
)
from domain.after_sales.money import REFUND, ZERO, gateway_of, money_of
from domain.errors import Conflict, ValidationFailed
from domain.statuses import AfterSaleStatus as S
from domain.statuses import PaymentStatus
from domain.stock.levels import inspect_quarantine
from domain.stock.returns import return_to_quarantine
from models import AfterSale, AfterSaleLine, Order, OrderLine, Payment

APPROVE, REJECT = "approve", "reject"
PENDING, DONE, FAILED, UNSUPPORTED = "pending", "done", "failed", "unsupported"
CENT = Decimal("0.01")
#: No after-sale amount reaches a trillion: anything that large is a typo (and beyond the column).
LIMIT = Decimal("1000000000000")


def now() -> datetime:
    return datetime.now(UTC)


def owes_channel(actor: Actor, sale: AfterSale) -> bool:
    """A decision on a channel's after-sale that the channel did not make itself."""
    return sale.source == Source.CHANNEL and bool(sale.external_id) and actor.source != Source.CHANNEL


def queue_push(sale: AfterSale, action: str) -> None:
    sale.push_action, sale.push_state, sale.push_attempts = action, PENDING, 0
    sale.push_due_at, sale.push_error = now(), ""


def _decided(actor: Actor, sale: AfterSale, note: str) -> None:
    sale.decided_by, sale.decided_at, sale.decision_note = actor.name[:100], now(), note.strip()[:500]


def _amount(value: Decimal | None, field: str = "amount") -> Decimal | None:
    if value is None:
        return None
    if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= LIMIT or value != value.quantize(CENT):
        raise ValidationFailed("an amount needs at most 2 decimals", field=field)
    if value <= 0:
        raise ValidationFailed("an amount must be above 0", field=field)
    return value


async def approve_locked(actor: Actor, sale: AfterSale, order: Order, *, amount: Decimal | None = None,
                         note: str = "", return_days: int = 7, reason: str = "") -> None:
    """REQUESTED → APPROVED (and on to AWAITING_RETURN for goods that come back), at ``amount`` or the requested one."""
    check_move(sale.kind, sale.status, S.APPROVED)
    amount = _amount(amount)
    if sale.kind == Kind.EXCHANGE:
        if amount is not None:
            raise ValidationFailed("an exchange refunds nothing: leave the amount out", field="amount")
        approved = ZERO
    else:
        approved = amount if amount is not None else sale.requested_amount
        money = await money_of(order.id, excluding=sale.id)
        if approved > money.refundable:
            raise ValidationFailed(f"a refund of {approved} is above what may still go back ({money.refundable}: "
                                   f"{money.describe()})", field="amount")
    before = records.snapshot(sale)
    sale.status, sale.approved_amount = S.APPROVED, approved
    _decided(actor, sale, note)
    if owes_channel(actor, sale):
        queue_push(sale, APPROVE)
    await records.save(actor, sale, before, "after_sale.approved", reason or note or "approved")
    if sale.kind in RETURNING_KINDS:
        await await_return_locked(actor, sale, return_days=return_days)


async def await_return_locked(actor: Actor, sale: AfterSale, *, return_days: int = 7, reason: str = "") -> None:
    """APPROVED → AWAITING_RETURN: the buyer sends the goods back by ``return_by``."""
    check_move(sale.kind, sale.status, S.AWAITING_RETURN)
    before = records.snapshot(sale)
    sale.status = S.AWAITING_RETURN
    sale.return_by = sale.return_by or now() + timedelta(days=return_days)
    await records.save(actor, sale, before, "after_sale.awaiting_return",
                       reason or f"send the goods back by {sale.return_by.date().isoformat()}",
                       extra={"return_by": sale.return_by.isoformat()})


async def reject_locked(actor: Actor, sale: AfterSale, note: str) -> None:
    """REQUESTED → REJECTED, with the reason the buyer will read."""
    if not note.strip():
        raise ValidationFailed("say why the request is rejected (the buyer reads it)", field="note")
    check_move(sale.kind, sale.status, S.REJECTED)
    before = records.snapshot(sale)
    sale.status = S.REJECTED
    _decided(actor, sale, note)
    if owes_channel(actor, sale):
        queue_push(sale, REJECT)
    await records.save(actor, sale, before, "after_sale.rejected", note.strip())


async def mark_returned_locked(actor: Actor, sale: AfterSale, carrier: str, tracking_no: str, *,
                               return_days: int = 7) -> None:
    """The buyer sent the goods back with this carrier and waybill (status AWAITING_RETURN)."""
    carrier, tracking_no = carrier.strip(), tracking_no.strip()
    if not tracking_no or len(tracking_no) > 64:
        raise ValidationFailed("the return's waybill number is required (up to 64 characters)", field="trackingNo")
    if len(carrier) > 32:
        raise ValidationFailed("the carrier is at most 32 characters", field="carrier")
    if sale.kind not in RETURNING_KINDS:
        raise Conflict("a refund-only request sends nothing back", field="id")
    if sale.status == S.APPROVED:
        await await_return_locked(actor, sale, return_days=return_days)
    elif sale.status != S.AWAITING_RETURN:
        check_move(sale.kind, sale.status, S.AWAITING_RETURN, why="the goods are not awaited")
    before = records.snapshot(sale)
    sale.return_carrier, sale.return_tracking_no = carrier, tracking_no
    await records.save(actor, sale, before, "after_sale.return_shipped", f"sent back with {carrier or 'a carrier'}",
                       extra={"carrier": carrier, "tracking_no": tracking_no})


async def _own_lines(sale: AfterSale) -> dict[int, AfterSaleLine]:
    return {line.id: line for line in await AfterSaleLine.filter(after_sale_id=sale.id).order_by("id")}


async def receive_locked(actor: Actor, sale: AfterSale, warehouse_id: int, lines: Sequence[tuple[int, int]]) -> None:
    """Goods arrived at ``warehouse_id``: each (after-sale line, units) goes into quarantine; AWAITING_RETURN → RECEIVED."""
    if sale.kind not in RETURNING_KINDS:
        raise Conflict("a refund-only request has no goods to receive", field="id")
    if sale.status != S.RECEIVED:
        check_move(sale.kind, sale.status, S.RECEIVED)
    if sale.warehouse_id is not None and sale.warehouse_id != warehouse_id:  # type: ignore[attr-defined]
        raise ValidationFailed("this return was received in another warehouse: receive the rest there",
                               field="warehouseId")
    if not lines:
        raise ValidationFailed("say which lines arrived and how many", field="lines")
    own = await _own_lines(sale)
    seen: set[int] = set()
    received = []
    for index, (line_id, quantity) in enumerate(lines):
        where = f"lines.{index}"
        line = own.get(line_id)
        if line is None:
            raise ValidationFailed("that line is not part of this after-sale", field=f"{where}.lineId")
        if line_id in seen:
            raise ValidationFailed("the same line twice", field=f"{where}.lineId")
        seen.add(line_id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ValidationFailed("a received quantity must be a positive whole number", field=f"{where}.quantity")
        if line.received + quantity > line.quantity:
            raise ValidationFailed(f"{line.quantity} asked back and {line.received} already received: at most "
                                   f"{line.quantity - line.received} more", field=f"{where}.quantity")
        await return_to_quarantine(actor, line.order_line_id, quantity,  # type: ignore[attr-defined]
                                   f"after-sale {sale.id} ({sale.kind}) received", warehouse_id=warehouse_id)
        line.received += quantity
        await line.save(update_fields=["received"])
        received.append({"line_id": line.id, "order_line_id": line.order_line_id, "quantity": quantity})  # type: ignore[attr-defined]
    before = records.snapshot(sale)
    sale.status, sale.warehouse_id = S.RECEIVED, warehouse_id  # type: ignore[attr-defined]
    await records.save(actor, sale, before, "after_sale.received", "the goods came back into quarantine",
                       extra={"warehouse_id": warehouse_id, "lines": received})


async def inspect_locked(actor: Actor, sale: AfterSale, line_id: int, restock: int, write_off: int, note: str = "") -> None:
    """Decide on received units of one line: ``restock`` become sellable, ``write_off`` leave the books."""
    for name, value in (("restock", restock), ("writeOff", write_off)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationFailed(f"{name} must be a whole number, 0 or more", field=name)
    if restock + write_off == 0:
        raise ValidationFailed("restock or write off at least one unit", field="restock")
    line = (await _own_lines(sale)).get(line_id)
    if line is None:
        raise ValidationFailed("that line is not part of this after-sale", field="lineId")
    waiting = line.received - line.restocked - line.written_off
    if restock + write_off > waiting:
        raise ValidationFailed(f"{waiting} received units of this line wait for inspection", field="restock")
    if sale.warehouse_id is None:  # type: ignore[attr-defined]
        raise Conflict("nothing was received for this after-sale yet", field="id")
    order_line = await OrderLine.get(id=line.order_line_id)  # type: ignore[attr-defined]
    await inspect_quarantine(actor, sale.warehouse_id, order_line.sku, accepted=restock, scrapped=write_off,  # type: ignore[attr-defined]
                             reason=note.strip() or f"after-sale {sale.id} inspected")
    line.restocked += restock
    line.written_off += write_off
    await line.save(update_fields=["restocked", "written_off"])
    await records.save(actor, sale, records.snapshot(sale), "after_sale.inspected", note.strip() or "inspected",
                       extra={"line_id": line.id, "sku": order_line.sku, "restocked": restock, "written_off": write_off})


async def _refund_payment(actor: Actor, sale: AfterSale, order: Order, amount: Decimal, reference: str) -> Payment:
    """The negative payment that gives ``amount`` back; refused when refunds would pass what was paid."""
    money = await money_of(order.id)
    if money.refunded + amount > money.paid:
        raise ValidationFailed(f"refunding {amount} would give back more than was paid ({money.describe()})",
                               field="amount")
    payment = await Payment.create(
        order_id=order.id, gateway=await gateway_of(order.id), reference=(reference or f"AS{sale.id}")[:64],
        amount=-amount, currency=sale.currency, status=PaymentStatus.REFUNDED, kind=REFUND, after_sale_id=sale.id,
        paid_at=now(),
    )
    sale.refunded_amount = (sale.refunded_amount or ZERO) + amount
    return payment


async def refunded_so_far(sale: AfterSale) -> Decimal:
    total = ZERO
    for amount in await Payment.filter(after_sale_id=sale.id, kind=REFUND).values_list("amount", flat=True):
        total += -amount if amount < 0 else amount
    return total


async def refund_locked(actor: Actor, sale: AfterSale, order: Order, *, reference: str = "", reason: str = "") -> None:
    """→ REFUNDED: the approved amount goes back as a negative payment (once; a refund the channel already
    recorded for this after-sale is not paid twice)."""
    if sale.kind not in REFUNDING_KINDS:
        raise Conflict("an exchange refunds nothing: send the replacement", field="id")
    check_move(sale.kind, sale.status, S.REFUNDED, why="refund an approved request (a return once received), once")
    target = sale.approved_amount if sale.approved_amount is not None else sale.requested_amount
    done = await refunded_so_far(sale)
    before = records.snapshot(sale)
    extra: dict[str, object] = {"amount": str(target)}
    if done < target:
        payment = await _refund_payment(actor, sale, order, target - done, reference or (sale.external_id or ""))
        extra["payment_id"] = payment.id
    sale.status = S.REFUNDED
    await records.save(actor, sale, before, "after_sale.refunded", reason or f"{target} {sale.currency} refunded",
                       extra=extra)


async def record_channel_refund(actor: Actor, sale: AfterSale, order: Order, amount: Decimal, reference: str) -> None:
    """The channel paid the buyer back before the goods reached us: the money is recorded now, the status waits."""
    done = await refunded_so_far(sale)
    if done >= amount:
        return
    before = records.snapshot(sale)
    payment = await _refund_payment(actor, sale, order, amount - done, reference)
    await records.save(actor, sale, before, "after_sale.refund_recorded",
                       "the channel refunded the buyer; the goods are still to come back",
                       extra={"payment_id": payment.id, "amount": str(amount - done)})


async def close_locked(actor: Actor, sale: AfterSale, note: str = "") -> None:
    """→ CLOSED: after the outcome, or the buyer withdrawing an unfinished request (a reason needed then)."""
    check_move(sale.kind, sale.status, S.CLOSED)
    if sale.status in WITHDRAWABLE and not note.strip():
        raise ValidationFailed("closing an unfinished request needs a reason (the buyer withdrew it?)", field="note")
    before = records.snapshot(sale)
    withdrawn = sale.status in WITHDRAWABLE
    sale.status = S.CLOSED
    if withdrawn and sale.push_state == PENDING:
        sale.push_state, sale.push_error = "", "withdrawn before it was pushed"
    await records.save(actor, sale, before, "after_sale.closed", note.strip() or "closed",
                       extra={"withdrawn": withdrawn})
