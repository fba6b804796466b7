"""A WMS's delivery confirmation applied to the order: its lines of that warehouse shipped, once.

    outcome = await apply_confirmation(actor, warehouse_id, confirmation, evidence_ref="exchange:12")

In ONE transaction: the delivery order row is locked; a final confirmation
walks the order to PACKED if the WMS skipped telling us about picking and
packing, then ships the warehouse's reservations through
``domain.orders.fulfilment.ship_order`` with the first new parcel (the
carrier normalised, the stock consumed) and records any further parcels as
shipments too; a partial one (Qimen ``confirmType`` 1) records its parcels
and waits for the final one. A lineage row ``wms.delivery_confirmed`` points
at the evidence. A confirmation whose parcels are all known already is a
repeat and changes nothing; one for a code we do not know yet is reported
``unknown`` (the caller parks it); one the order cannot take (cancelled,
held, shipped by hand) is ``conflict`` with the reason, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.actor import Actor
from domain.alerts.raising import raise_alert
from domain.errors import Conflict, DomainError
from domain.federation import delivery_orders as rows_of
from domain.federation.ports import DeliveryConfirmation, Parcel
from domain.inbound.carrier_codes import normalize
from domain.order_writes import lock_order
from domain.orders import fulfilment, transition_order
from domain.statuses import OrderStatus, ShipmentStatus
from domain.stock.reservations import ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import DeliveryOrder, Reservation, Shipment

APPLIED, PARTIAL, DUPLICATE, UNKNOWN, CONFLICT = "applied", "partial", "duplicate", "unknown", "conflict"
SHORT_SHIPMENT_ALERT = "wms_short_shipment"


@dataclass(frozen=True, slots=True)
class ConfirmOutcome:
    code: str
    outcome: str
    order_id: int | None = None
    reason: str = ""
    shipments: list[int] = field(default_factory=list)


def carrier_of(parcel: Parcel) -> str:
    """The normalised carrier code (``SF``), else the WMS's own name for it."""
    return (normalize(parcel.carrier) or parcel.carrier.strip())[:32]


def _key(carrier: str, number: str) -> tuple[str, str]:
    return normalize(carrier) or carrier.strip().lower(), number.strip()


async def apply_confirmation(actor: Actor, warehouse_id: int, confirmation: DeliveryConfirmation, *,
                             evidence_ref: str | None, payload_ref: str | None = None) -> ConfirmOutcome:
    """Apply one confirmation received for ``warehouse_id`` (see the module docstring)."""
    try:
        async with unit_of_work():
            return await _apply(actor, warehouse_id, confirmation, evidence_ref, payload_ref)
    except DomainError as refusal:
        row = await DeliveryOrder.filter(tenant_id=actor.tenant_id, code=confirmation.code).first()
        return ConfirmOutcome(confirmation.code, CONFLICT, row.order_id if row else None, refusal.message)  # type: ignore[attr-defined]


async def _apply(actor: Actor, warehouse_id: int, confirmation: DeliveryConfirmation, evidence_ref: str | None,
                 payload_ref: str | None) -> ConfirmOutcome:
    row = await DeliveryOrder.filter(tenant_id=actor.tenant_id, code=confirmation.code).select_for_update().first()
    if row is None:
        return ConfirmOutcome(confirmation.code, UNKNOWN)
    order_id: int = row.order_id  # type: ignore[attr-defined]
    if row.warehouse_id != warehouse_id:  # type: ignore[attr-defined]
        raise Conflict(f"delivery order {row.code} belongs to another warehouse than the one that confirmed it")
    known = {_key(carrier, number) for carrier, number in
             await Shipment.filter(order_id=order_id).values_list("carrier", "tracking_no")}
    fresh = [parcel for parcel in confirmation.parcels if _key(parcel.carrier, parcel.tracking_no) not in known]
    if row.status == rows_of.CONFIRMED and not fresh:
        return ConfirmOutcome(row.code, DUPLICATE, order_id)
    if row.status == rows_of.CANCELLED:
        raise Conflict(f"the WMS confirmed {row.code} as shipped, but it was cancelled there before")
    final = confirmation.final and row.status != rows_of.CONFIRMED
    if not final and not fresh:
        return ConfirmOutcome(row.code, DUPLICATE, order_id)
    order = await lock_order(actor, order_id)
    shipment_ids: list[int] = []
    shipped_at = min(confirmation.confirmed_at, datetime.now(UTC))
    if final:
        if not fresh:
            raise Conflict(f"the final confirmation of {row.code} names no parcel we have not recorded already")
        await _walk_to_packed(actor, order_id, OrderStatus(order.status), row.code)
        first = fresh.pop(0)
        expected = await _reserved(order_id, warehouse_id)
        shipment = await fulfilment.ship_order(actor, order_id, carrier_of(first), first.tracking_no,
                                               warehouse_id=warehouse_id, shipped_at=shipped_at)
        await Shipment.filter(id=shipment.id).update(source="wms")
        shipment_ids.append(shipment.id)
        await _short_shipment(actor, order_id, row.code, expected, dict(confirmation.shipped))
    for parcel in fresh:
        extra = await Shipment.create(order_id=order_id, warehouse_id=warehouse_id, carrier=carrier_of(parcel),
                                      tracking_no=parcel.tracking_no, status=ShipmentStatus.LABEL_CREATED,
                                      source="wms", shipped_at=shipped_at)
        shipment_ids.append(extra.id)
    now = datetime.now(UTC)
    if final:
        await DeliveryOrder.filter(id=row.id).update(status=rows_of.CONFIRMED, confirmed_at=now,
                                                     wms_order_id=row.wms_order_id or confirmation.wms_order_id)
    parcels = [{"carrier": carrier_of(p), "tracking_no": p.tracking_no} for p in confirmation.parcels]
    await log.append(
        tenant_id=actor.tenant_id, order_id=order_id,
        type="wms.delivery_confirmed" if final else "wms.delivery_partially_confirmed", actor=actor.name,
        source=actor.source,
        reason=f"{row.code} left the warehouse: " + ", ".join(f"{p['carrier']} {p['tracking_no']}" for p in parcels),
        before={"status": row.status},
        after={"code": row.code, "status": rows_of.CONFIRMED if final else row.status, "final": confirmation.final,
               "parcels": parcels, "shipped": dict(confirmation.shipped), "shipment_ids": shipment_ids,
               "payload": payload_ref},
        payload_ref=evidence_ref)
    return ConfirmOutcome(row.code, APPLIED if final else PARTIAL, order_id, shipments=shipment_ids)


async def _walk_to_packed(actor: Actor, order_id: int, status: OrderStatus, code: str) -> None:
    """A WMS reports shipping, not each step before it: picking and packing happened, so say so."""
    reason = f"the WMS confirmed {code} shipped"
    if status == OrderStatus.ALLOCATED:
        await transition_order(actor, order_id, OrderStatus.PICKING, reason)
        status = OrderStatus.PICKING
    if status == OrderStatus.PICKING:
        await transition_order(actor, order_id, OrderStatus.PACKED, reason)
        status = OrderStatus.PACKED
    if status not in (OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED):
        raise Conflict(f"the WMS confirmed {code} shipped, but the order is {status}")


async def _reserved(order_id: int, warehouse_id: int) -> dict[str, int]:
    reserved: dict[str, int] = {}
    for sku, quantity in await Reservation.filter(order_id=order_id, warehouse_id=warehouse_id,
                                                  status=ReservationStatus.ACTIVE,
                                                  kind=ReservationKind.ORDER).values_list("sku", "quantity"):
        reserved[sku] = reserved.get(sku, 0) + quantity
    return reserved


async def _short_shipment(actor: Actor, order_id: int, code: str, expected: dict[str, int], shipped: dict[str, int]) -> None:
    """The WMS shipped other quantities than it was asked to: the order ships, and a person looks."""
    if not shipped or shipped == expected:
        return
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order_id, kind=SHORT_SHIPMENT_ALERT, severity="warning",
        message=f"The WMS shipped {code} with other quantities than ordered: asked {expected}, shipped {shipped}",
        details={"code": code, "expected": expected, "shipped": shipped}, actor=actor.name, source=actor.source)
