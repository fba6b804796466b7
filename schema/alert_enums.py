"""The exception board's GraphQL enums, made from the domain's vocabulary (``domain.alerts.kinds``).

GraphQL shows the names (``LOW_STOCK``, ``CRITICAL``); the stored value
(``low_stock``) is each member's ``.value``, and an alert's ``kindCode``. A kind
added to the domain appears here without an edit.
"""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.alerts import kinds
from schema.enum_values import describe_values


def _mirror(name: str, source: type[Enum], description: str) -> type[Enum]:
    return strawberry.enum(Enum(name, {member.name: member.value for member in source}),  # type: ignore[misc]
                           description=description)


AlertKind = describe_values(_mirror("AlertKind", kinds.AlertKind, "What an alert is about; its stored code is the alert's `kindCode`."), {
    "ADDRESS_CHANGED": "The channel changed the receiver's address after the order started shipping (地址变更).",
    "GOODS_CHANGED": "The channel changed the order's lines after we started on it (商品变更).",
    "WAREHOUSE_CHANGED": "The order was moved to another warehouse (仓库变更).",
    "BUYER_MESSAGE": "The buyer left a message on the order (买家留言).",
    "BUYER_REQUEST": "The buyer asked the channel to cancel or refund; the order is held.",
    "GIFT_EXCHANGE_INTERCEPT": "The parcel must be stopped (gift or exchange intercept, 拦截).",
    "SHIPPED_ON_PLATFORM": "The channel says the order shipped though we had not shipped it (平台已发货): steps were skipped.",
    "STATUS_CONFLICT": "The channel reported a status our state machine refuses; the raw input is in the details.",
    "UNMAPPED_CODE": "A channel, WMS or carrier sent a status code no mapping knows.",
    "PAYLOAD_ISSUES": "An inbound payload could not be read whole; what was missing is in the details.",
    "AFTER_SALE_OPEN": "An after-sale (refund, return, exchange) is waiting for a decision.",
    "AFTER_SALE_PUSH_FAILED": "An after-sale decision could not be pushed to the channel (retried).",
    "AFTER_SALE_CHANNEL_REFUSED": "The channel refused an after-sale decision we pushed.",
    "ORDERS_MISSED": "The daily check found channel orders the poller never received.",
    "ORDER_HELD": "The order is on hold; the message lists the reasons.",
    "ALLOCATION_FAILED": "No warehouse could take the order (no stock, all paused or breakers open).",
    "PRESALE_BALANCE_OVERDUE": "A deposit order's balance was not paid by its deadline.",
    "LOW_STOCK": "A (warehouse, SKU)'s available stock is at or below its low-stock threshold.",
    "STOCK_COUNT_CONFLICT": "A stock count came in below what is reserved; it was not applied.",
    "SKU_FROZEN": "A rule froze a SKU: allocation skips it until it is unfrozen.",
    "SHIPMENT_NOT_MOVING": "Shipped, but the carrier has no scan since (default 24 hours).",
    "SHIPMENT_STALLED": "A parcel on its way whose newest scan is too old; cleared by the next scan.",
    "TRACKING_SUBSCRIPTION_FAILED": "The tracking provider could not be subscribed to a parcel (retried).",
    "TRACKING_PROVIDER_REFUSED": "The tracking provider refused a parcel (e.g. unknown carrier).",
    "WMS_CONFIRM_CONFLICT": "The WMS confirmed a delivery order that disagrees with ours.",
    "WMS_SHORT_SHIPMENT": "The WMS shipped fewer units than ordered.",
    "WMS_STOCK_CONFLICT": "The WMS's stock for a SKU disagrees with ours.",
    "WMS_PUSH_FAILED": "A delivery order could not be pushed to the WMS.",
    "WMS_CANCEL_REFUSED": "The WMS refused to cancel a delivery order (it may already be picked).",
    "WMS_CANCEL_FAILED": "A cancel could not reach the WMS.",
    "STOCK_DRIFT": "A warehouse's WMS and ERP stock drift apart: its drift breaker opened and allocation skips it.",
    "FEDERATION_ESCALATED": "A cross-system discrepancy that automatic repair could not fix; a person must decide.",
    "WEBHOOK_DISABLED": "A partner webhook endpoint kept failing and was disabled.",
    "RECONCILIATION_MISMATCH": "A reconciliation run found units or money that differ between systems.",
    "RULE": "Raised by a business rule; the message says which and why.",
    "MERGE_SUGGESTED": "A rule found orders that could be merged into one parcel (合单).",
    "PAYMENT_UNMATCHED": "A gateway payment notice matched no order.",
    "PAYMENT_AMBIGUOUS": "A gateway payment notice matched more than one order.",
    "PAYMENT_PARTIAL": "Less money arrived than the payment expected.",
    "PAYMENT_OVER": "More money arrived than the payment expected.",
    "PROCESS_LOST": "A server process stopped without shutting down (e.g. killed); cleared once it is replaced.",
    "BUS_DOWN": "A server lost its event bus (Redis): live feeds and webhooks wait; cleared once it is back and caught up.",
    "SYSTEM_UNREACHABLE": "A WMS or ERP stopped answering OrderGraph's calls (refused, timed out, 5xx); cleared by its next answer.",
    "CHANNEL_THROTTLED": "A channel platform throttled the order poller, which had to wait; cleared by a run without throttling.",
    "CHANNEL_UNREACHABLE": "A poll run stopped because the channel platform's API kept failing; cleared by a run that completes.",
})
AlertCategory = describe_values(_mirror("AlertCategory", kinds.Category,
                        "Groups of kinds, as OMS exception lists know them (order changed, buyer, intercept, platform …)."), {
    "ORDER_CHANGE": "The buyer or channel changed the order after we started on it.",
    "BUYER": "The buyer asked for something.",
    "INTERCEPT": "A parcel must be stopped.",
    "PLATFORM": "The channel's view disagrees with ours.",
    "INTAKE": "What arrived could not be read whole.",
    "STOCK": "Stock levels and allocation.",
    "FULFILMENT": "Orders stuck on their way to shipping.",
    "TRACKING": "Parcels and carrier tracking.",
    "SYSTEMS": "ERP, WMS, payment gateways and partners.",
    "RULE": "Raised by a business rule.",
})
AlertSeverity = describe_values(_mirror("AlertSeverity", kinds.Severity, "How urgent; sets the SLA (critical 15 min, warning 2 h, info 24 h)."), {
    "INFO": "For information; due within 24 hours.",
    "WARNING": "Needs attention; due within 2 hours.",
    "CRITICAL": "Urgent; due within 15 minutes.",
})
AlertState = describe_values(_mirror("AlertState", kinds.AlertState, "open -> acknowledged -> resolved; snoozed until a time; resolved may reopen."), {
    "OPEN": "Raised, nobody has acknowledged it yet.",
    "ACKNOWLEDGED": "Someone is on it.",
    "SNOOZED": "Hidden from the open board until `snoozedUntil` (its SLA clock keeps running).",
    "RESOLVED": "Closed, with a resolution; it reopens if the problem comes back.",
})
