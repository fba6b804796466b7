"""A customer's return request from the tracking page, checked before the after-sale is opened.

    request = await prepare_return(scope, order_id, "return_refund", {line_id: 1}, "damaged", "盒子压坏了",
                                   [("image/jpeg", jpeg_bytes)])
    sale = await open_after_sale(request.actor, request.order_id, request.kind, request.lines, request.reason,
                                 source=SOURCE, photos=request.photos)

The after-sale itself (one transaction, lineage, policy, the photos judged by
their bytes: at most five of at most 2 MB, JPEG, PNG or WebP) belongs to
``domain.after_sales``; this module holds what is particular to the customer:
the order must be one their session covers and have arrived, reasons come
from a short list (plus their own words), quantities within what arrived and
was not already asked back. Nothing here writes: a refused request leaves no
trace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.actor import Actor, Role
from domain.after_sales.photos import MAX_PHOTOS
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.tracking.customer import clean_comment
from domain.tracking.customer_view import RETURNABLE_STATUSES, OrderView, Scope, orders_for
from models import Order

SOURCE = "customer"
KINDS = ("return_refund", "refund_only", "exchange")
#: Reasons offered as a list (the page words them); "other" needs the customer's own words.
REASONS = ("damaged", "wrong_item", "quality", "not_as_described", "missing_parts", "changed_mind", "other")
MAX_NOTE = 300
MAX_QUANTITY = 9999


def customer_actor(tenant_id: int, customer_id: int | None) -> Actor:
    """The customer as an actor: ``customer:<id>`` in lineage, never a name or a phone.

    The role is one that neither writes orders nor sees personal data: the
    page proved the order is theirs, and use cases accept ``source="customer"``
    on that proof alone (there is no customer role: no API key may act as one).
    """
    name = f"customer:{customer_id}" if customer_id else "customer"
    return Actor(tenant_id=tenant_id, role=Role.PARTNER, name=name, source=SOURCE)


def clean_reason(code: str, note: str) -> str:
    """``damaged: 盒子压坏了``: the listed reason's code, then the customer's words (required for ``other``)."""
    if code not in REASONS:
        raise ValidationFailed("choose a reason", field="reason")
    note = clean_comment(note)[:MAX_NOTE]
    if code == "other" and not note:
        raise ValidationFailed("tell us what is wrong", field="note")
    return f"{code}: {note}" if note else code


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """Everything ``open_after_sale`` needs, checked."""

    actor: Actor
    order_id: int
    kind: str
    lines: list[tuple[int, int]]
    reason: str
    photos: list[tuple[str, bytes]]  # (the type the browser claimed, bytes): open_after_sale judges them by their bytes


async def returnable_order(scope: Scope, order_id: int) -> OrderView:
    """The order as the return form shows it: covered by the visitor's session and arrived, or a typed refusal."""
    views = await orders_for(scope, only=order_id)
    if not views:
        raise NotFound("no such order", field="order")
    view = views[0]
    if view.status not in RETURNABLE_STATUSES:
        raise Conflict("returns can be asked for once the order has arrived", field="order")
    return view


async def prepare_return(
    scope: Scope,
    order_id: int,
    kind: str,
    quantities: Mapping[int, int],
    reason_code: str,
    note: str,
    photos: Sequence[tuple[str, bytes]],
) -> ReturnRequest:
    """Check a customer's return request; refuses with a typed error naming the field."""
    if kind not in KINDS:
        raise ValidationFailed("choose refund only, return and refund, or exchange", field="kind")
    reason = clean_reason(reason_code, note)
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"at most {MAX_PHOTOS} photos", field="photos")
    view = await returnable_order(scope, order_id)
    returnable = {line.id: line.returnable for line in view.lines}
    lines = []
    for line_id, quantity in sorted(quantities.items()):
        if quantity == 0:
            continue
        if line_id not in returnable:
            raise ValidationFailed("that item is not part of this order", field="quantity")
        if not 0 < quantity <= min(returnable[line_id], MAX_QUANTITY):
            raise ValidationFailed("more than arrived (or was already asked back)", field="quantity")
        lines.append((line_id, quantity))
    if not lines:
        raise ValidationFailed("choose at least one item and how many", field="lines")
    customer_id = await _customer_of(scope.tenant_id, order_id)
    return ReturnRequest(customer_actor(scope.tenant_id, customer_id), order_id, kind, lines, reason, list(photos))


async def _customer_of(tenant_id: int, order_id: int) -> int | None:
    return await Order.filter(id=order_id, tenant_id=tenant_id).first().values_list("customer_id", flat=True)
