"""Tortoise ORM tables, one module per aggregate.

Nothing here imports anything else of ours; ``domain/`` is the only writer.
"""

from models.alert import Alert
from models.channel import Channel
from models.customer import Customer
from models.event import DispatchCursor, OrderEvent
from models.order import Order, OrderLine, OrderTag
from models.payment import Payment
from models.shipment import Shipment, TrackingEvent
from models.stock import (
    AllocationDecision,
    AllocationPolicy,
    Quarantine,
    Reservation,
    SkuStockPolicy,
    StockMovement,
)
from models.tenant import ApiKey, Tenant
from models.warehouse import Sku, Stock, Warehouse

__all__ = [
    "Alert",
    "AllocationDecision",
    "AllocationPolicy",
    "ApiKey",
    "Channel",
    "Customer",
    "DispatchCursor",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderTag",
    "Payment",
    "Quarantine",
    "Reservation",
    "Shipment",
    "Sku",
    "SkuStockPolicy",
    "Stock",
    "StockMovement",
    "Tenant",
    "TrackingEvent",
    "Warehouse",
]
