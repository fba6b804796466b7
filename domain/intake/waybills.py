"""The parcels a channel already knows of: its waybills become shipments, once each.

A platform's "shipped" means the merchant uploaded a waybill, so the waybill
is the evidence: each ``InboundShipment`` becomes a ``Shipment`` with
``source="channel"``, status ``LABEL_CREATED`` until a carrier scan says more,
and the carrier stored as the normalised code (``SF``), so a later carrier
push for that waybill finds it however the provider spells the carrier. A
carrier we cannot normalise keeps the channel's own name. The same waybill
reported again (or already recorded by shipOrder) adds nothing; a second one
adds a second shipment. Every shipment added leaves a
``shipment.reported_by_channel`` lineage row naming the waybill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.actor import Actor
from domain.inbound.normalized import InboundOrder, InboundShipment, PayloadError
from domain.statuses import ShipmentStatus
from domain.inbound.carrier_codes import normalize
from events import log
from models import OrderEvent, Shipment

EVENT = "shipment.reported_by_channel"


@dataclass(frozen=True, slots=True)
class Waybill:
    """One channel-reported parcel, ready to store."""

    carrier: str
    tracking_no: str
    carrier_name: str
    shipped_at: datetime | None
    line_ids: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str]:
        return carrier_key(self.carrier), self.tracking_no

    def lineage(self) -> dict[str, Any]:
        return {"carrier": self.carrier, "carrier_name": self.carrier_name, "tracking_no": self.tracking_no,
                "shipped_at": self.shipped_at.isoformat() if self.shipped_at else None,
                "line_ids": list(self.line_ids), "status": ShipmentStatus.LABEL_CREATED.value}


def carrier_key(carrier: str) -> str:
    """What two spellings of one carrier share (``顺丰速运`` and ``SF``); an unknown name compares as itself."""
    return normalize(carrier) or carrier.strip().lower()


def stored_carrier(shipment: InboundShipment) -> str:
    """The normalised carrier code, else the channel's raw name."""
    return normalize(shipment.carrier) or normalize(shipment.carrier_name) or (shipment.carrier or shipment.carrier_name).strip()


def check_waybills(inbound: InboundOrder) -> None:
    """Refuse a waybill the shipment table cannot hold exactly, naming it."""
    for index, shipment in enumerate(inbound.shipments):
        where = f"shipments[{index}]"
        number = shipment.tracking_no.strip()
        if not number:
            raise PayloadError("a waybill without a tracking number", field=f"{where}.tracking_no")
        if len(number) > 64:
            raise PayloadError("tracking number is longer than 64 characters", field=f"{where}.tracking_no")
        carrier = stored_carrier(shipment)
        if not carrier:
            raise PayloadError("a waybill without a carrier", field=f"{where}.carrier")
        if len(carrier) > 32:
            raise PayloadError(f"carrier {carrier[:40]!r} is not a known carrier and is longer than 32 characters",
                               field=f"{where}.carrier")


def waybills_of(inbound: InboundOrder) -> list[Waybill]:
    """The order's waybills, each once (a payload may repeat one per line it holds)."""
    result: dict[tuple[str, str], Waybill] = {}
    for shipment in inbound.shipments:
        waybill = Waybill(carrier=stored_carrier(shipment), tracking_no=shipment.tracking_no.strip(),
                          carrier_name=shipment.carrier_name or shipment.carrier, shipped_at=shipment.shipped_at,
                          line_ids=tuple(shipment.line_ids))
        result.setdefault(waybill.key, waybill)
    return list(result.values())


def shipment_row(order_id: int, waybill: Waybill) -> Shipment:
    return Shipment(order_id=order_id, carrier=waybill.carrier, tracking_no=waybill.tracking_no,
                    status=ShipmentStatus.LABEL_CREATED, source="channel", shipped_at=waybill.shipped_at)


def lineage_row(actor: Actor, order_id: int, waybill: Waybill, payload_ref: str | None) -> OrderEvent:
    """The lineage row as ``events.log.append`` writes it, for bulk inserts."""
    return OrderEvent(tenant_id=actor.tenant_id, order_id=order_id, type=EVENT, actor=actor.name, source=actor.source,
                      reason=f"the channel reports waybill {waybill.carrier} {waybill.tracking_no}"[:500],
                      before=None, after=waybill.lineage(), payload_ref=payload_ref)


async def sync_waybills(actor: Actor, order_id: int, inbound: InboundOrder, payload_ref: str | None) -> list[str]:
    """Add the waybills this update reports that the order has no shipment for; returns what was added."""
    waybills = waybills_of(inbound)
    if not waybills:
        return []
    known = {(carrier_key(carrier), number) for carrier, number in
             await Shipment.filter(order_id=order_id).values_list("carrier", "tracking_no")}
    added: list[str] = []
    for waybill in waybills:
        if waybill.key in known:
            continue
        shipment = shipment_row(order_id, waybill)
        await shipment.save()
        await log.append(tenant_id=actor.tenant_id, order_id=order_id, type=EVENT, actor=actor.name, source=actor.source,
                         reason=f"the channel reports waybill {waybill.carrier} {waybill.tracking_no}",
                         after={"shipment_id": shipment.id, **waybill.lineage()}, payload_ref=payload_ref)
        known.add(waybill.key)
        added.append(f"{waybill.carrier} {waybill.tracking_no}")
    return added
