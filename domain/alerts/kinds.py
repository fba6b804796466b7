"""The exception board's vocabulary: every kind of alert, its category, and the SLA of each severity.

A kind is stored as its value (stable, used by routes and rules); the GraphQL
enum shows its name. The categories are the ones Chinese OMS users know from
their exception lists (地址变更, 商品变更, 仓库变更, 买家留言, 赠品/换货拦截,
平台已发货) plus OrderGraph's cross-system ones.

    AlertKind("low_stock").category      # Category.STOCK
    sla_for(Severity.CRITICAL)           # timedelta(minutes=15)
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}

#: Time to close an alert of each severity before it counts as late (the seeds' 15 minutes for the urgent ones).
SLA = {Severity.CRITICAL: timedelta(minutes=15), Severity.WARNING: timedelta(hours=2), Severity.INFO: timedelta(hours=24)}


def sla_for(severity: str) -> timedelta:
    return SLA.get(Severity(severity) if severity in Severity._value2member_map_ else Severity.WARNING, SLA[Severity.WARNING])


class Category(StrEnum):
    ORDER_CHANGE = "order_change"  # the buyer or platform changed the order after we started on it
    BUYER = "buyer"  # the buyer asked for something
    INTERCEPT = "intercept"  # stop the parcel
    PLATFORM = "platform"  # the channel's view disagrees with ours
    INTAKE = "intake"  # what arrived could not be read whole
    STOCK = "stock"
    FULFILMENT = "fulfilment"
    TRACKING = "tracking"
    SYSTEMS = "systems"  # ERP / WMS / partners
    RULE = "rule"  # raised by a business rule


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class AlertKind(StrEnum):
    # The OMS exception categories
    ADDRESS_CHANGED = "intake.address_changed_after_shipping"
    GOODS_CHANGED = "intake.lines_changed"
    WAREHOUSE_CHANGED = "order.warehouse_changed"
    BUYER_MESSAGE = "order.buyer_message"
    BUYER_REQUEST = "intake.buyer_request"
    GIFT_EXCHANGE_INTERCEPT = "order.intercept"
    SHIPPED_ON_PLATFORM = "intake.skipped_steps"
    # Intake and platforms
    STATUS_CONFLICT = "intake.status_conflict"
    UNMAPPED_CODE = "intake.unmapped_code"
    PAYLOAD_ISSUES = "intake.payload_issues"
    AFTER_SALE_OPEN = "after_sale.open"
    AFTER_SALE_PUSH_FAILED = "after_sale.push_failed"
    AFTER_SALE_CHANNEL_REFUSED = "after_sale.channel_refused"
    ORDERS_MISSED = "orders_missed"
    # Orders, stock, fulfilment
    ORDER_HELD = "order.held"
    ALLOCATION_FAILED = "allocation_failed"
    PRESALE_BALANCE_OVERDUE = "presale_balance_overdue"
    LOW_STOCK = "low_stock"
    STOCK_COUNT_CONFLICT = "count_conflict"
    SKU_FROZEN = "sku.frozen"
    # Tracking
    SHIPMENT_NOT_MOVING = "shipment.not_moving"
    SHIPMENT_STALLED = "shipment.stalled"
    TRACKING_SUBSCRIPTION_FAILED = "tracking.subscription_failed"
    TRACKING_PROVIDER_REFUSED = "tracking.provider_refused"
    # ERP, WMS, partners
    WMS_CONFIRM_CONFLICT = "wms_confirm_conflict"
    WMS_SHORT_SHIPMENT = "wms_short_shipment"
    WMS_STOCK_CONFLICT = "wms_stock_conflict"
    WMS_PUSH_FAILED = "wms_push_failed"
    WMS_CANCEL_REFUSED = "wms_cancel_refused"
    WMS_CANCEL_FAILED = "wms_cancel_failed"
    STOCK_DRIFT = "stock_drift"
    FEDERATION_ESCALATED = "federation.escalated"
    WEBHOOK_DISABLED = "webhook_disabled"
    RECONCILIATION_MISMATCH = "reconciliation.mismatch"
    # Business rules
    RULE = "rule"
    MERGE_SUGGESTED = "order.merge_suggested"
    # Payments (gateway notices)
    PAYMENT_UNMATCHED = "payment.unmatched"
    PAYMENT_AMBIGUOUS = "payment.ambiguous"
    PAYMENT_PARTIAL = "payment.partial"
    PAYMENT_OVER = "payment.over"
    # The platform itself (raised on every tenant's board, see domain.alerts.platform)
    PROCESS_LOST = "system.process_lost"
    BUS_DOWN = "system.bus_down"
    # Outside systems down or throttling (see domain.federation.reachability, domain.polling.run_alerts)
    SYSTEM_UNREACHABLE = "system.unreachable"
    CHANNEL_THROTTLED = "channel.throttled"
    CHANNEL_UNREACHABLE = "channel.unreachable"

    @property
    def category(self) -> Category:
        return _CATEGORY[self]


_CATEGORY = {
    AlertKind.ADDRESS_CHANGED: Category.ORDER_CHANGE,
    AlertKind.GOODS_CHANGED: Category.ORDER_CHANGE,
    AlertKind.WAREHOUSE_CHANGED: Category.ORDER_CHANGE,
    AlertKind.BUYER_MESSAGE: Category.BUYER,
    AlertKind.BUYER_REQUEST: Category.BUYER,
    AlertKind.GIFT_EXCHANGE_INTERCEPT: Category.INTERCEPT,
    AlertKind.SHIPPED_ON_PLATFORM: Category.PLATFORM,
    AlertKind.STATUS_CONFLICT: Category.PLATFORM,
    AlertKind.UNMAPPED_CODE: Category.INTAKE,
    AlertKind.PAYLOAD_ISSUES: Category.INTAKE,
    AlertKind.AFTER_SALE_OPEN: Category.BUYER,
    AlertKind.AFTER_SALE_PUSH_FAILED: Category.PLATFORM,
    AlertKind.AFTER_SALE_CHANNEL_REFUSED: Category.PLATFORM,
    AlertKind.ORDERS_MISSED: Category.PLATFORM,
    AlertKind.ORDER_HELD: Category.FULFILMENT,
    AlertKind.ALLOCATION_FAILED: Category.STOCK,
    AlertKind.PRESALE_BALANCE_OVERDUE: Category.FULFILMENT,
    AlertKind.LOW_STOCK: Category.STOCK,
    AlertKind.STOCK_COUNT_CONFLICT: Category.STOCK,
    AlertKind.SKU_FROZEN: Category.STOCK,
    AlertKind.SHIPMENT_NOT_MOVING: Category.TRACKING,
    AlertKind.SHIPMENT_STALLED: Category.TRACKING,
    AlertKind.TRACKING_SUBSCRIPTION_FAILED: Category.TRACKING,
    AlertKind.TRACKING_PROVIDER_REFUSED: Category.TRACKING,
    AlertKind.WMS_CONFIRM_CONFLICT: Category.SYSTEMS,
    AlertKind.WMS_SHORT_SHIPMENT: Category.SYSTEMS,
    AlertKind.WMS_STOCK_CONFLICT: Category.SYSTEMS,
    AlertKind.WMS_PUSH_FAILED: Category.SYSTEMS,
    AlertKind.WMS_CANCEL_REFUSED: Category.SYSTEMS,
    AlertKind.WMS_CANCEL_FAILED: Category.SYSTEMS,
    AlertKind.STOCK_DRIFT: Category.SYSTEMS,
    AlertKind.FEDERATION_ESCALATED: Category.SYSTEMS,
    AlertKind.WEBHOOK_DISABLED: Category.SYSTEMS,
    AlertKind.RECONCILIATION_MISMATCH: Category.SYSTEMS,
    AlertKind.RULE: Category.RULE,
    AlertKind.MERGE_SUGGESTED: Category.RULE,
    AlertKind.PAYMENT_UNMATCHED: Category.SYSTEMS,
    AlertKind.PAYMENT_AMBIGUOUS: Category.SYSTEMS,
    AlertKind.PAYMENT_PARTIAL: Category.SYSTEMS,
    AlertKind.PAYMENT_OVER: Category.SYSTEMS,
    AlertKind.PROCESS_LOST: Category.SYSTEMS,
    AlertKind.BUS_DOWN: Category.SYSTEMS,
    AlertKind.SYSTEM_UNREACHABLE: Category.SYSTEMS,
    AlertKind.CHANNEL_THROTTLED: Category.PLATFORM,
    AlertKind.CHANNEL_UNREACHABLE: Category.PLATFORM,
}
