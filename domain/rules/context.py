"""The variables a rule sees, loaded for many orders in a constant number of queries.

    variables = await contexts(tenant_id, [order_ids])       # {order_id: {"order": …, "lines": …, …}}

Documented field by field in docs/rules.md. Numbers are doubles (money too,
as business users read it), times are timestamps, absent things are null.
``order.ship_by`` is the latest hand-over time: as the channel or a person set
it, else the priority tier's promise from placement. ``stock`` maps each SKU of the order to its levels summed over the tenant's
active warehouses, with ``by_warehouse`` per warehouse code.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.allocation.pick_queue import default_ship_by
from models import Channel, Customer, Order, OrderLine, OrderTag, Shipment, Stock, Warehouse


def number(value: Decimal | int | float | None) -> float | None:
    return None if value is None else float(value)


def order_number(order_id: int) -> str:
    return f"OG{order_id:09d}"


async def contexts(tenant_id: int, order_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The rule variables of each order (orders of other tenants, or gone, are left out)."""
    if not order_ids:
        return {}
    orders = await Order.filter(tenant_id=tenant_id, id__in=order_ids)
    if not orders:
        return {}
    ids = [order.id for order in orders]
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for line in await OrderLine.filter(order_id__in=ids).order_by("id"):
        lines[line.order_id].append(line)  # type: ignore[attr-defined]
    tags: dict[int, list[str]] = defaultdict(list)
    for order_id, tag in await OrderTag.filter(order_id__in=ids).values_list("order_id", "tag"):
        tags[order_id].append(tag)
    shipments: dict[int, Shipment] = {}
    for shipment in await Shipment.filter(order_id__in=ids).order_by("id"):
        shipments[shipment.order_id] = shipment  # type: ignore[attr-defined]  # the newest wins
    channels = {c.id: c for c in await Channel.filter(id__in={o.channel_id for o in orders})}  # type: ignore[attr-defined]
    customer_ids = {o.customer_id for o in orders if o.customer_id}  # type: ignore[attr-defined]
    customers = {c.id: c for c in await Customer.filter(id__in=customer_ids)} if customer_ids else {}
    warehouses = {w.id: w for w in await Warehouse.filter(tenant_id=tenant_id)}
    skus = {line.sku for group in lines.values() for line in group}
    stock = await _stock(tenant_id, skus, warehouses)
    return {
        order.id: {
            "order": _order(order, lines[order.id], tags[order.id]),
            "lines": [_line(line, warehouses) for line in lines[order.id]],
            "customer": _customer(customers.get(order.customer_id)),  # type: ignore[attr-defined]
            "channel": _channel(channels[order.channel_id]),  # type: ignore[attr-defined]
            "stock": {line.sku: stock.get(line.sku, _EMPTY_STOCK) for line in lines[order.id]},
            "shipment": _shipment(shipments.get(order.id)),
            "warehouse": _warehouse(warehouses.get(order.warehouse_id)),  # type: ignore[attr-defined]
        }
        for order in orders
    }


def _order(order: Order, lines: list[OrderLine], tags: list[str]) -> dict[str, Any]:
    return {
        "id": float(order.id), "number": order_number(order.id), "external_id": order.external_id,
        "status": order.status, "hold_reasons": list(order.hold_reasons or []), "tags": tags,
        "priority": order.priority, "currency": order.currency, "total_amount": number(order.total_amount),
        "goods_total": number(order.goods_total), "discount_total": number(order.discount_total),
        "shipping_fee": number(order.shipping_fee), "placed_at": order.placed_at, "paid_at": order.paid_at,
        "ship_by": order.ship_by or default_ship_by(order), "updated_at": order.updated_at, "province": order.ship_province,
        "city": order.ship_city, "district": order.ship_district, "country_code": order.ship_country_code,
        "merged": order.merged_into_id is not None,  # type: ignore[attr-defined]
        "line_count": float(len(lines)), "item_count": float(sum(line.quantity for line in lines)),
    }


def _line(line: OrderLine, warehouses: dict[int, Warehouse]) -> dict[str, Any]:
    warehouse = warehouses.get(line.warehouse_id)  # type: ignore[attr-defined]
    return {"sku": line.sku, "title": line.title, "quantity": float(line.quantity),
            "unit_price": number(line.unit_price), "channel_sku": line.channel_sku,
            "warehouse": warehouse.code if warehouse else None}


def _customer(customer: Customer | None) -> dict[str, Any] | None:
    # Personal data stays out: rules decide on behaviour, not on who someone is.
    return None if customer is None else {"id": float(customer.id), "since": customer.created_at}


def _channel(channel: Channel) -> dict[str, Any]:
    return {"code": channel.code, "kind": channel.kind, "name": channel.name}


def _shipment(shipment: Shipment | None) -> dict[str, Any] | None:
    if shipment is None:
        return None
    return {"status": shipment.status, "carrier": shipment.carrier, "tracking_no": shipment.tracking_no,
            "shipped_at": shipment.shipped_at, "last_scan_at": shipment.last_scan_at,
            "delivered_at": shipment.delivered_at}


def _warehouse(warehouse: Warehouse | None) -> dict[str, Any] | None:
    return None if warehouse is None else {"code": warehouse.code, "name": warehouse.name, "region": warehouse.region}


_EMPTY_STOCK: dict[str, Any] = {"on_hand": 0.0, "reserved": 0.0, "available": 0.0, "safety": 0.0, "by_warehouse": {}}


async def _stock(tenant_id: int, skus: set[str], warehouses: dict[int, Warehouse]) -> dict[str, dict[str, Any]]:
    if not skus:
        return {}
    levels: dict[str, dict[str, Any]] = {}
    rows = await Stock.filter(tenant_id=tenant_id, sku__in=skus).values_list(
        "sku", "warehouse_id", "on_hand", "reserved", "safety")
    for sku, warehouse_id, on_hand, reserved, safety in rows:
        warehouse = warehouses.get(warehouse_id)
        if warehouse is None or not warehouse.active:
            continue
        total = levels.setdefault(sku, {"on_hand": 0.0, "reserved": 0.0, "available": 0.0, "safety": 0.0,
                                        "by_warehouse": {}})
        here = {"on_hand": float(on_hand), "reserved": float(reserved), "available": float(on_hand - reserved),
                "safety": float(safety)}
        total["by_warehouse"][warehouse.code] = here
        for key in ("on_hand", "reserved", "available", "safety"):
            total[key] += here[key]
    return levels


def event_variables(type: str, actor: str, source: str, reason: str, after: dict[str, Any] | None,
                    at: datetime) -> dict[str, Any]:
    """What ``event`` holds for a rule triggered by a lineage row."""
    return {"type": type, "actor": actor, "source": source, "reason": reason, "after": _plain(after or {}), "at": at}


def _plain(value: Any) -> Any:
    """JSON from lineage with numbers as doubles, as everywhere else in the context."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
