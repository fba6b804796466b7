"""Opening an after-sale: checked against what was bought, shipped, paid and already asked back; then the policy.

    sale = await open_after_sale(actor, order.id, "return_refund", [(line.id, 1)], "the zip is broken",
                                 source="customer", photos=[("image/jpeg", data)])

One transaction: the after-sale with its lines and photos, its
``after_sale.requested`` lineage row on the order and, when the tenant's
policy approves it at once (a small refund-only request from a buyer who is
not risky), the ``after_sale.approved`` row by ``policy: auto-approve ≤ ¥200``.

Checks (a typed error, nothing stored):

- the order is the caller's tenant's; kind and source are known;
- each line is the order's, named once, with a positive quantity of at most
  what was bought (refund only) or shipped (returns and exchanges: the units
  that left a warehouse, the whole line once the order is shipped) minus
  what other after-sales of that line already cover (open ones, and finished
  ones that refunded or replaced something);
- the amount (refund kinds) defaults to the lines' price × quantity, capped at
  what may still go back (paid − refunded − held by other open requests), and
  is refused above that cap; an exchange carries no amount;
- at most 5 photos of at most 2 MB, JPEG/PNG/WebP by their bytes.

A repeat with the same ``external_id`` (a channel resending its refund) returns
the after-sale already open, unchanged.

Who may open one: an actor that may write orders; a request with
``source="customer"`` comes from the tracking page, which authenticated the
buyer itself (any role).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from domain.actor import Actor, Role
from domain.after_sales import records
from domain.after_sales.machine import OPEN, REFUNDING_KINDS, RETURNING_KINDS, Kind, Source, kind_of
from domain.after_sales.money import ZERO, money_of
from domain.after_sales.moves import LIMIT, approve_locked, now
from domain.after_sales.photos import check_photos
from domain.after_sales.policy import Policy, auto_approvable, policy_for, risk_of
from domain.errors import NotFound, ValidationFailed
from domain.order_writes import lock_order, require_writer
from domain.statuses import AfterSaleStatus as S
from domain.statuses import OrderStatus
from domain.stock.reservations import ReservationStatus
from domain.unit_of_work import unit_of_work
from models import AfterSale, AfterSaleLine, AfterSalePhoto, Order, OrderLine, Reservation, Sku

#: Order statuses in which every line has left the warehouse.
WHOLLY_SHIPPED = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})
MAX_REASON = 500
MAX_LINES = 100


async def open_after_sale(
    actor: Actor,
    order_id: int,
    kind: str,
    lines: list[tuple[int, int]],
    reason: str,
    *,
    source: str = "graphql",
    external_id: str | None = None,
    amount: Decimal | None = None,
    photos: Sequence[tuple[str, bytes]] = (),
    replacements: Mapping[int, str] | None = None,
) -> AfterSale:
    """Open an after-sale about ``lines`` ((order line id, quantity)) of an order (see the module docstring).

    ``replacements`` (exchanges): order line id -> the SKU to send instead of the same one.
    """
    async with unit_of_work():
        sale, _ = await open_in_transaction(actor, order_id, kind, lines, reason, source=source,
                                            external_id=external_id, amount=amount, photos=photos,
                                            replacements=replacements)
    await sale.fetch_related("lines")
    return sale


async def open_in_transaction(
    actor: Actor,
    order_id: int,
    kind: str,
    lines: Sequence[tuple[int, int]],
    reason: str,
    *,
    source: str = "graphql",
    external_id: str | None = None,
    amount: Decimal | None = None,
    photos: Sequence[tuple[str, bytes]] = (),
    replacements: Mapping[int, str] | None = None,
    apply_policy: bool = True,
    payload_ref: str | None = None,
) -> tuple[AfterSale, bool]:
    """The body of :func:`open_after_sale` inside the caller's transaction; (the after-sale, whether it is new)."""
    try:
        origin = Source(source)
    except ValueError:
        raise ValidationFailed("source must be graphql, channel or customer", field="source") from None
    if origin != Source.CUSTOMER:
        require_writer(actor)
    wanted = kind_of(kind)
    external_id = (external_id or "").strip() or None
    if external_id is not None and len(external_id) > 64:
        raise ValidationFailed("an external id is at most 64 characters", field="externalId")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"the reason is at most {MAX_REASON} characters", field="reason")
    if not reason and origin != Source.CHANNEL:
        raise ValidationFailed("say what is wrong (the reason)", field="reason")
    checked_photos = check_photos(photos)
    order = await lock_order(actor, order_id)
    if external_id is not None:
        existing = await AfterSale.filter(tenant_id=actor.tenant_id, order_id=order.id, external_id=external_id).first()
        if existing is not None:
            return existing, False
    requested = await _checked_lines(order, wanted, lines, replacements or {})
    asked = await _checked_amount(order, wanted, requested, amount)
    policy = await policy_for(actor.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    try:
        async with in_transaction():  # a savepoint: a concurrent twin with the same external id wins cleanly
            sale = await AfterSale.create(
                tenant_id=actor.tenant_id, order_id=order.id, kind=wanted, status=S.REQUESTED, source=origin,
                external_id=external_id, reason=reason, requested_amount=asked, currency=order.currency or "CNY",
                respond_by=now() + timedelta(hours=policy.respond_hours),
            )
    except IntegrityError:
        existing = await AfterSale.filter(tenant_id=actor.tenant_id, order_id=order.id, external_id=external_id).first()
        if existing is None:
            raise
        return existing, False
    for order_line, quantity, share, replacement in requested:
        await AfterSaleLine.create(after_sale_id=sale.id, order_line_id=order_line.id, quantity=quantity,
                                   amount=share, replacement_sku=replacement)
    for content_type, data, digest in checked_photos:
        await AfterSalePhoto.create(after_sale_id=sale.id, content_type=content_type, size=len(data), sha256=digest,
                                    data=data)
    await records.append(actor, sale, "after_sale.requested", before=None, reason=reason or "requested",
                         payload_ref=payload_ref,
                         extra={"lines": [{"order_line_id": line.id, "sku": line.sku, "quantity": quantity}
                                          for line, quantity, _share, _r in requested],
                                "photos": len(checked_photos), "respond_by": sale.respond_by.isoformat()})
    if apply_policy:
        await _apply_policy(actor, policy, sale, order)
    return sale, True


async def _checked_lines(
    order: Order, kind: Kind, lines: Sequence[tuple[int, int]], replacements: Mapping[int, str]
) -> list[tuple[OrderLine, int, Decimal, str | None]]:
    """(order line, quantity, its price share, replacement SKU) of each requested line, or the refusal."""
    if not lines:
        raise ValidationFailed("name at least one line and its quantity", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"at most {MAX_LINES} lines", field="lines")
    own = {line.id: line for line in await OrderLine.filter(order_id=order.id)}
    covered = await covered_quantities(order.id)
    shipped = await shipped_quantities(order) if kind in RETURNING_KINDS else {}
    if set(replacements) - {line_id for line_id, _ in lines}:
        raise ValidationFailed("a replacement names a line that is not asked back", field="replacements")
    if replacements and kind != Kind.EXCHANGE:
        raise ValidationFailed("only an exchange sends a replacement", field="replacements")
    result = []
    seen: set[int] = set()
    for index, (line_id, quantity) in enumerate(lines):
        where = f"lines.{index}"
        line = own.get(line_id)
        if line is None:
            raise NotFound("no such line on this order", field=f"{where}.lineId")
        if line_id in seen:
            raise ValidationFailed("the same line twice: give its total quantity once", field=f"{where}.lineId")
        seen.add(line_id)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ValidationFailed(f"quantity must be a positive whole number, got {quantity!r}"[:120],
                                   field=f"{where}.quantity")
        limit_name, limit = ("bought", line.quantity) if kind not in RETURNING_KINDS else \
            ("shipped or delivered", shipped.get(line.id, 0))
        free = limit - covered.get(line.id, 0)
        if quantity > free:
            raise ValidationFailed(
                f"{line.sku}: {limit} {limit_name} and {covered.get(line.id, 0)} already in other after-sales: "
                f"at most {max(free, 0)} can be asked back", field=f"{where}.quantity")
        replacement = (replacements.get(line_id) or "").strip() or None
        if replacement is not None and not await Sku.exists(tenant_id=order.tenant_id, code=replacement):  # type: ignore[attr-defined]
            raise NotFound(f"unknown replacement SKU {replacement[:64]!r}", field=f"replacements.{line_id}")
        result.append((line, quantity, (line.unit_price * quantity).quantize(Decimal("0.01")), replacement))
    return result


async def _checked_amount(order: Order, kind: Kind, requested: Sequence[tuple[OrderLine, int, Decimal, str | None]],
                          amount: Decimal | None) -> Decimal:
    """What the request asks back: the lines' share by default, never more than may still go back."""
    if kind not in REFUNDING_KINDS:
        if amount is not None and amount != 0:
            raise ValidationFailed("an exchange refunds nothing: leave the amount out", field="amount")
        return ZERO
    money = await money_of(order.id)
    if money.refundable <= 0:
        raise ValidationFailed(f"nothing on this order can be refunded ({money.describe()})", field="amount")
    if amount is None:
        share = sum((item[2] for item in requested), ZERO)
        return min(share, money.refundable)
    if not isinstance(amount, Decimal) or not amount.is_finite() or abs(amount) >= LIMIT \
            or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed("the amount needs at most 2 decimals", field="amount")
    if amount <= 0:
        raise ValidationFailed("the amount must be above 0", field="amount")
    if amount > money.refundable:
        raise ValidationFailed(f"a refund of {amount} is above what may still go back ({money.refundable}: "
                               f"{money.describe()})", field="amount")
    return amount


async def covered_quantities(order_id: int) -> dict[int, int]:
    """Units per order line that after-sales already cover: open ones, and finished ones that gave something back."""
    covered: dict[int, int] = {}
    rows = await AfterSaleLine.filter(after_sale__order_id=order_id).values_list(
        "order_line_id", "quantity", "after_sale__status", "after_sale__refunded_amount", "replacement_line_id")
    for line_id, quantity, status, refunded, replacement in rows:
        counts = status in OPEN or status in (S.REFUNDED, S.EXCHANGED) or \
            (status == S.CLOSED and ((refunded or 0) > 0 or replacement is not None))
        if counts:
            covered[line_id] = covered.get(line_id, 0) + quantity
    return covered


async def shipped_quantities(order: Order) -> dict[int, int]:
    """Units per line that left a warehouse: the consumed reservation, or the whole line once the order shipped."""
    lines = await OrderLine.filter(order_id=order.id).values_list("id", "quantity")
    consumed = dict(await Reservation.filter(order_id=order.id, status=ReservationStatus.CONSUMED)
                    .values_list("line_id", "quantity"))
    effective = OrderStatus(order.status_before_hold) if order.status == OrderStatus.ON_HOLD and order.status_before_hold \
        else OrderStatus(order.status)
    whole = effective in WHOLLY_SHIPPED
    return {line_id: consumed.get(line_id, quantity if whole else 0) for line_id, quantity in lines}


async def _apply_policy(actor: Actor, policy: Policy, sale: AfterSale, order: Order) -> None:
    """Approve at once what the policy allows (see ``policy``); anything else waits for a person by ``respond_by``."""
    if sale.kind != Kind.REFUND_ONLY or sale.requested_amount > policy.auto_approve_refund_up_to:
        return
    risk = await risk_of(policy, order, excluding=sale.id)
    if not auto_approvable(policy, sale.kind, sale.requested_amount, risk):
        return
    auto = Actor(tenant_id=actor.tenant_id, role=Role.SERVICE, name=policy.actor_name, source="policy")
    await approve_locked(auto, sale, order, note=f"refund-only of {sale.requested_amount} within the policy",
                         return_days=policy.return_days)
