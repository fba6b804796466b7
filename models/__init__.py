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
from models.tenant import ApiKey, Tenant
from models.warehouse import Sku, Stock, Warehouse

__all__ = [
    "Alert",
    "ApiKey",
    "Channel",
    "Customer",
    "DispatchCursor",
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderTag",
    "Payment",
    "Shipment",
    "Sku",
    "Stock",
    "Tenant",
    "TrackingEvent",
    "Warehouse",
]
