"""What OrderGraph, the channel and the carriers say about orders, read from our own tables for a diagnosis.

    facts = await load(tenant_id, [42, 43])      # {42: OrderFacts(...), ...}; other tenants' ids are absent

Everything here is ours (no outside call): the order and its lines, live
reservations, shipments with their latest carrier scan, the lineage times a
discrepancy is dated from, and the channel's last word mapped through the
tenant's status tables exactly as intake maps it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.intake.reading import read, tables_for
from domain.statuses import OrderStatus
from domain.stock.reservations import ReservationStatus
from models import (
    ChannelOrderState,
    Order,
    OrderEvent,
    OrderLine,
    Reservation,
    Shipment,
    TrackingEvent,
    WarehouseSystems,
)


@dataclass(frozen=True, slots=True)
class ShipmentFact:
    id: int
    warehouse_id: int | None
    carrier: str
    tracking_no: str
    status: str
    source: str
    shipped_at: datetime | None
    last_scan_at: datetime | None
    scans: int


@dataclass(frozen=True, slots=True)
class ReservationFact:
    id: int
    warehouse_id: int
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ChannelFact:
    """The channel's last word: its raw code, what it maps to, and when the channel said it."""

    source: str
    status_code: str
    forward: OrderStatus | None
    cancelled: bool
    updated_at: datetime
    payload_ref: str | None


@dataclass(slots=True)
class OrderFacts:
    id: int
    status: OrderStatus
    effective: OrderStatus           # what a held order returns to
    currency: str
    total_amount: Decimal
    warehouse_id: int | None
    lines: dict[str, int]            # sku -> quantity ordered
    line_warehouses: dict[str, set[int]]
    shipments: list[ShipmentFact]
    reservations: list[ReservationFact]
    channel: ChannelFact | None
    status_since: datetime | None    # when the order entered its current status
    status_event_id: int | None
    event_times: dict[str, tuple[int, datetime]] = field(default_factory=dict)   # type -> newest (id, time)

    def event(self, kind: str) -> tuple[int, datetime] | None:
        return self.event_times.get(kind)


async def load(tenant_id: int, order_ids: Sequence[int]) -> dict[int, OrderFacts]:
    """Facts for the tenant's orders among ``order_ids``."""
    orders = list(await Order.filter(tenant_id=tenant_id, id__in=list(order_ids)))
    ids = [o.id for o in orders]
    if not ids:
        return {}
    line_rows, shipments, reservation_rows, event_rows, channels = await asyncio.gather(
        OrderLine.filter(order_id__in=ids).order_by("id"), _shipments(ids),
        Reservation.filter(order_id__in=ids, status=ReservationStatus.ACTIVE).order_by("id"),
        OrderEvent.filter(order_id__in=ids).order_by("id").values_list("id", "order_id", "type", "created_at", "after"),
        _channel_facts(tenant_id, ids))
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in line_rows:
        lines[line.order_id].append(line)  # type: ignore[attr-defined]
    reservations: dict[int, list[ReservationFact]] = defaultdict(list)
    for row in reservation_rows:
        reservations[row.order_id].append(ReservationFact(row.id, row.warehouse_id, row.sku, row.quantity))  # type: ignore[attr-defined]
    events: dict[int, list[tuple[int, str, datetime, dict | None]]] = defaultdict(list)
    for event_id, order_id, kind, created_at, after in event_rows:
        events[order_id].append((event_id, kind, created_at, after))
    found = {}
    for order in orders:
        status = OrderStatus(order.status)
        effective = OrderStatus(order.status_before_hold) if status == OrderStatus.ON_HOLD and order.status_before_hold else status
        since, since_id = _entered(events[order.id], status)
        quantities: dict[str, int] = defaultdict(int)
        where: dict[str, set[int]] = defaultdict(set)
        for line in lines[order.id]:
            quantities[line.sku] += line.quantity
            if line.warehouse_id is not None:  # type: ignore[attr-defined]
                where[line.sku].add(line.warehouse_id)  # type: ignore[attr-defined]
        found[order.id] = OrderFacts(
            id=order.id, status=status, effective=effective, currency=order.currency, total_amount=order.total_amount,
            warehouse_id=order.warehouse_id, lines=dict(quantities), line_warehouses=dict(where),  # type: ignore[attr-defined]
            shipments=shipments[order.id], reservations=reservations[order.id], channel=channels.get(order.id),
            status_since=since, status_event_id=since_id,
            event_times={kind: (event_id, created_at) for event_id, kind, created_at, _ in events[order.id]},
        )
    return found


def _entered(events: list[tuple[int, str, datetime, dict | None]], status: OrderStatus) -> tuple[datetime | None, int | None]:
    """The newest lineage row that put the order in ``status`` (its first row if none says so)."""
    for event_id, _, created_at, after in reversed(events):
        if isinstance(after, dict) and after.get("status") == status:
            return created_at, event_id
    return (events[0][2], events[0][0]) if events else (None, None)


async def _shipments(order_ids: list[int]) -> dict[int, list[ShipmentFact]]:
    rows = list(await Shipment.filter(order_id__in=order_ids).order_by("id"))
    scans: dict[int, list[datetime]] = defaultdict(list)
    if rows:
        for shipment_id, occurred_at in await TrackingEvent.filter(shipment_id__in=[r.id for r in rows]).values_list(
                "shipment_id", "occurred_at"):
            scans[shipment_id].append(occurred_at)
    found: dict[int, list[ShipmentFact]] = defaultdict(list)
    for row in rows:
        times = scans[row.id]
        found[row.order_id].append(ShipmentFact(  # type: ignore[attr-defined]
            id=row.id, warehouse_id=row.warehouse_id, carrier=row.carrier, tracking_no=row.tracking_no,  # type: ignore[attr-defined]
            status=row.status, source=row.source, shipped_at=row.shipped_at,
            last_scan_at=max(times) if times else None, scans=len(times)))
    return found


async def _channel_facts(tenant_id: int, order_ids: list[int]) -> dict[int, ChannelFact]:
    states = list(await ChannelOrderState.filter(tenant_id=tenant_id, order_id__in=order_ids))
    if not states:
        return {}
    names: set[str] = set()
    for state in states:
        names |= tables_for(state.source, state.extra_codes or {})
    mappings = await mapping_tables.load(tenant_id, names)
    found = {}
    for state in states:
        reading = read(state.source, state.status_code, state.extra_codes or {}, mappings)
        found[state.order_id] = ChannelFact(  # type: ignore[attr-defined]
            source=state.source, status_code=state.status_code, forward=reading.forward, cancelled=reading.cancelled,
            updated_at=state.source_updated_at,
            payload_ref=payloads.ref(state.payload_sha256) if state.payload_sha256 else None)
    return found


async def wms_warehouses(tenant_id: int, warehouse_ids: set[int]) -> dict[int, WarehouseSystems]:
    """The links (with their WMS connection) of the warehouses that have an active WMS."""
    if not warehouse_ids:
        return {}
    rows = await WarehouseSystems.filter(tenant_id=tenant_id, warehouse_id__in=list(warehouse_ids)).prefetch_related("wms")
    return {row.warehouse_id: row for row in rows if row.wms is not None and row.wms.active}  # type: ignore[attr-defined]
