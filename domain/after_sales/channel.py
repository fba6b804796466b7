"""What a sales channel reports about its refunds and after-sales, followed on our after-sales.

    notes = await follow_channel(actor, order_id, inbound.refunds, reading.after_sale, payload_ref=ref)

Called by the intake inside the order's transaction, for every refund the
channel's payload names with an id (``InboundRefund``):

- its after-sale status is what the adapter stated (a Shopify refund is
  ``REFUNDED``), else the tenant's mapping of the line's raw code
  (``refund_status@<oid>`` → ``reading.after_sale["line:<oid>"]``, Taobao);
  an unmapped code moves nothing (the unmapped-code alert says so);
- a refund id not seen before opens an after-sale (``source="channel"``,
  ``external_id`` = the channel's refund id) over its lines; its kind is the
  adapter's, else refund-only while the goods have not left and a return
  once they have; the tenant's policy applies when the channel still waits
  for the merchant (REQUESTED), so a small refund is approved at once and
  the approval pushed back (``pushes``);
- a known one moves forward along its kind's path to the reported status,
  as actor ``channel:<code>`` (the channel's own moves are not pushed back):
  approved, awaiting the goods, refunded (a negative payment, once), rejected,
  closed. Receiving goods is the warehouse's word, never the channel's: a
  return the channel reports refunded before the goods reached us gets its
  money recorded and waits in AWAITING_RETURN for the receipt;
- a report that would move backwards (our decision not yet reflected
  there) is kept as it is; one the after-sale cannot follow is refused with
  an ``after_sale.channel_refused`` alert, inside a savepoint so the order's
  update still lands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.after_sales import moves
from domain.after_sales.machine import PATHS, WITHDRAWABLE, IllegalAfterSaleMove, Kind, Source, path_to
from domain.after_sales.policy import policy_for
from domain.after_sales.requests import open_in_transaction, shipped_quantities
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.errors import DomainError, NotFound
from domain.inbound.normalized import InboundRefund
from domain.statuses import AfterSaleStatus as S
from models import AfterSale, Order, OrderLine


def reported_status(refund: InboundRefund, mapped: Mapping[str, str]) -> S | None:
    """The after-sale status the channel reports for ``refund`` (stated, else mapped from its first line's code)."""
    if refund.after_sale:
        return S(refund.after_sale) if refund.after_sale in S._value2member_map_ else None
    for line in refund.lines:
        status = mapped.get(f"line:{line.external_line_id}")
        if status in S._value2member_map_:
            return S(status)  # type: ignore[arg-type]
    return None


async def follow_channel(actor: Actor, order_id: int, refunds: Sequence[InboundRefund], mapped: Mapping[str, str],
                         *, payload_ref: str | None = None) -> list[str]:
    """Open or move an after-sale per channel refund (module docstring); what changed, for the intake's note."""
    notes: list[str] = []
    for refund in refunds:
        status = reported_status(refund, mapped)
        if status is None or not refund.external_id:
            continue
        try:
            async with in_transaction():  # a savepoint: a refused refund leaves the rest of the update applied
                note = await _follow_one(actor, order_id, refund, status, payload_ref)
        except DomainError as error:
            await raise_alert(tenant_id=actor.tenant_id, order_id=order_id, kind=AlertKind.AFTER_SALE_CHANNEL_REFUSED,
                              subject=f"refund:{refund.external_id}"[:64], severity="warning",
                              message=f"the channel's refund {refund.external_id} ({refund.status_code}) was not "
                                      f"applied: {error.message}"[:500],
                              details={"refund_id": refund.external_id, "status_code": refund.status_code,
                                       "reported": status.value, "payload_ref": payload_ref},
                              actor=actor.name, source=actor.source)
            notes.append(f"after-sale {refund.external_id} refused: {error.message}"[:200])
            continue
        if note:
            notes.append(note)
    return notes


async def _lines(order_id: int, refund: InboundRefund) -> list[tuple[int, int]]:
    """(order line id, quantity) for the refund's lines; a whole line when the channel gives no quantity."""
    wanted = {line.external_line_id: line.quantity for line in refund.lines}
    own = await OrderLine.filter(order_id=order_id, external_line_id__in=list(wanted)).values_list(
        "id", "external_line_id", "quantity")
    found = {external: (pk, quantity) for pk, external, quantity in own}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise NotFound(f"the order has no line {missing[0]!r} that the refund names", field="lines")
    return [(found[external][0], quantity or found[external][1]) for external, quantity in wanted.items()]


async def _kind(order: Order, refund: InboundRefund, lines: list[tuple[int, int]]) -> str:
    """The adapter's kind, else refund-only while none of the lines left a warehouse, a return once one did."""
    if refund.kind in Kind._value2member_map_:
        return refund.kind
    shipped = await shipped_quantities(order)
    return Kind.RETURN_REFUND if any(shipped.get(line_id, 0) for line_id, _ in lines) else Kind.REFUND_ONLY


async def _follow_one(actor: Actor, order_id: int, refund: InboundRefund, status: S, payload_ref: str | None) -> str:
    sale = await AfterSale.filter(tenant_id=actor.tenant_id, order_id=order_id, external_id=refund.external_id).first()
    order = await Order.get(id=order_id)
    if sale is None:
        if status in (S.REJECTED, S.CLOSED):
            return ""  # asked and settled on the platform before we ever saw it: nothing to work on
        lines = await _lines(order_id, refund)
        sale, _ = await open_in_transaction(
            actor, order_id, await _kind(order, refund, lines), lines, refund.reason or f"channel refund "
            f"{refund.status_code}", source=Source.CHANNEL, external_id=refund.external_id, amount=refund.amount,
            apply_policy=status == S.REQUESTED, payload_ref=payload_ref)
        opened = f"after-sale {refund.external_id} opened ({sale.kind})"
    else:
        opened = ""
    sale = await AfterSale.filter(id=sale.id).select_for_update().first()
    assert sale is not None
    if sale.channel_status != refund.status_code:
        sale.channel_status = refund.status_code[:32]
        await sale.save(update_fields=["channel_status", "updated_at"])
    moved = await _move_toward(actor, sale, order, refund, status)
    return "; ".join(part for part in (opened, moved) if part)


async def _move_toward(actor: Actor, sale: AfterSale, order: Order, refund: InboundRefund, target: S) -> str:
    """Walk the after-sale forward to what the channel reports (module docstring); what was done."""
    current = S(sale.status)
    if current == target:
        return ""
    reason = f"channel reports {refund.status_code}"
    if target == S.REJECTED and current == S.REQUESTED:
        await moves.reject_locked(actor, sale, reason)
        return f"after-sale {refund.external_id} rejected"
    if target == S.CLOSED:
        if current in (S.REJECTED, S.REFUNDED, S.EXCHANGED) or current in WITHDRAWABLE:
            await moves.close_locked(actor, sale, reason)
            return f"after-sale {refund.external_id} closed"
        return ""  # received goods are ours to settle: the channel closing does not undo them
    steps = path_to(sale.kind, current, target)
    if not steps:
        path = PATHS[Kind(sale.kind)]
        if current in path and target in path or current in (S.CLOSED, S.REJECTED):
            return ""  # the channel is behind us (our decision has not reached it yet), or it is over here
        raise IllegalAfterSaleMove(sale.kind, current, target, f"the channel reports {refund.status_code}")
    policy = await policy_for(actor.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    done: list[str] = []
    for step in steps:
        if step == S.APPROVED:
            await moves.approve_locked(actor, sale, order, amount=_within(refund.amount, sale), reason=reason,
                                       return_days=policy.return_days)
            if sale.status == S.AWAITING_RETURN and target == S.APPROVED:
                break
        elif step == S.AWAITING_RETURN:
            if sale.status != S.AWAITING_RETURN:
                await moves.await_return_locked(actor, sale, return_days=policy.return_days, reason=reason)
        elif step == S.REFUNDED and sale.status == S.APPROVED:
            await moves.refund_locked(actor, sale, order, reference=refund.external_id, reason=reason)
        elif step == S.RECEIVED:
            if target == S.REFUNDED:
                amount = sale.approved_amount if sale.approved_amount is not None else sale.requested_amount
                await moves.record_channel_refund(actor, sale, order, amount, refund.external_id)
                done.append("refund recorded, goods awaited")
            break  # only our warehouse receives goods
        elif step == S.EXCHANGED:
            break  # only we send the replacement
        done.append(step.value)
    return f"after-sale {refund.external_id} → {sale.status}" + (f" ({', '.join(done)})" if done else "")


def _within(amount: Decimal | None, sale: AfterSale) -> Decimal | None:
    """The channel's amount for the approval, when it states one that differs from the request."""
    if amount is None or sale.kind == Kind.EXCHANGE or amount == sale.requested_amount:
        return None
    return amount
