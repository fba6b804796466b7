"""Tortoise ORM tables, one module per aggregate.

Nothing here imports anything else of ours; ``domain/`` is the only writer.
"""

from models.after_sale import AfterSale, AfterSaleLine, AfterSalePhoto, AfterSalePolicy
from models.alert import Alert
from models.audit import AuditCheckpoint, AuditLeaf, AuditTree
from models.channel import Channel
from models.console import ConsoleSession, ConsoleUser
from models.customer import Customer
from models.event import DispatchCursor, OrderEvent
from models.export_job import ExportJob
from models.federation import DeliveryOrder, SystemConnection, SystemExchange, WarehouseSystems
from models.feedback import OrderFeedback
from models.notification import NotificationDelivery, NotificationRoute
from models.intake import (
    CarrierAccount,
    ChannelOrderState,
    IdempotencyRecord,
    ImportRowError,
    ImportRun,
    InboundDelivery,
    InboundPayload,
    QuarantinedPayload,
    StatusMappingTable,
    StatusMappingVersion,
)
from models.order import Order, OrderLine, OrderTag, SealedContact
from models.otp import OtpChallenge
from models.payment import Payment, PaymentGatewayAccount, PaymentNotice
from models.persisted_query import PersistedQuery
from models.reconciliation import ReconciliationDiff, ReconciliationRun
from models.polling import ChannelPoll
from models.rule import Rule, RuleVersion, SkuFreeze
from models.server_process import ServerProcess
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
from models.warehouse import Sku, SkuAlias, Stock, Warehouse
from models.webhook import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSecret,
)

__all__ = [
    "AfterSale",
    "AfterSaleLine",
    "AfterSalePhoto",
    "AfterSalePolicy",
    "Alert",
    "ExportJob",
    "AuditCheckpoint",
    "AuditLeaf",
    "AuditTree",
    "AllocationDecision",
    "AllocationPolicy",
    "ApiKey",
    "CarrierAccount",
    "Channel",
    "ChannelOrderState",
    "ChannelPoll",
    "ConsoleSession",
    "ConsoleUser",
    "Customer",
    "DeliveryOrder",
    "DispatchCursor",
    "IdempotencyRecord",
    "ImportRowError",
    "ImportRun",
    "InboundDelivery",
    "InboundPayload",
    "NotificationDelivery",
    "NotificationRoute",
    "Order",
    "OrderEvent",
    "OrderFeedback",
    "OrderLine",
    "OrderTag",
    "OtpChallenge",
    "Payment",
    "PaymentGatewayAccount",
    "PaymentNotice",
    "PersistedQuery",
    "Quarantine",
    "QuarantinedPayload",
    "ReconciliationDiff",
    "ReconciliationRun",
    "Reservation",
    "Rule",
    "RuleVersion",
    "SealedContact",
    "ServerProcess",
    "Shipment",
    "Sku",
    "SkuAlias",
    "SkuFreeze",
    "SkuStockPolicy",
    "StatusMappingTable",
    "StatusMappingVersion",
    "Stock",
    "StockMovement",
    "SystemConnection",
    "SystemExchange",
    "Tenant",
    "TrackingEvent",
    "Warehouse",
    "WarehouseSystems",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSecret",
]
