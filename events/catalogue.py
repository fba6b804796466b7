"""Every event type OrderGraph writes to the lineage: the one registry the API, the docs and the tests share.

    from events.catalogue import CATALOGUE, describe, enum_name
    describe("order.created")      # "an order is created (GraphQL, …)"
    enum_name("order.created")     # "ORDER_CREATED", the GraphQL ``EventType`` value

Each entry: the stored type string (``area.verb``), when it fires (one line,
shown as the GraphQL enum value's description and in docs/partners.md), and
whether the event belongs to an order (``yes``, ``no`` or ``either``: set when
the change concerns one). ``tests/test_partner_docs.py`` checks that the
catalogue table in docs/partners.md equals this registry row for row, and that
the code writes exactly these types. Add a type here, then to the doc table.
"""

from __future__ import annotations

from typing import Literal, NamedTuple


class EventTypeEntry(NamedTuple):
    """One event type: its stored string, when it fires, and whether ``data.order`` is set."""

    type: str
    fires: str
    order: Literal["yes", "no", "either"]


CATALOGUE: tuple[EventTypeEntry, ...] = (
    EventTypeEntry('order.created', "an order is created (GraphQL, channel webhook, poll, file import, or an exchange's replacement order)", 'yes'),
    EventTypeEntry('order.status_changed', 'the order moves along the state machine (PICKING, PACKED, DELIVERED from a carrier scan, PAID from a channel, …)', 'yes'),
    EventTypeEntry('order.allocated', 'every line is reserved in a warehouse', 'yes'),
    EventTypeEntry('order.presale_reserved', 'stock is reserved for a pre-sale order waiting for its balance', 'yes'),
    EventTypeEntry('order.line_moved', 'a line is moved to another warehouse', 'yes'),
    EventTypeEntry('order.hold_added', 'one or more hold reasons are put on the order', 'yes'),
    EventTypeEntry('order.hold_released', 'hold reasons are lifted (the last one restores the status)', 'yes'),
    EventTypeEntry('order.cancelled', 'the order is cancelled', 'yes'),
    EventTypeEntry('order.shipped', 'a parcel is handed over with a tracking number (SHIPPED or PARTIALLY_SHIPPED)', 'yes'),
    EventTypeEntry('order.split', 'the order is split into parcels by hand', 'yes'),
    EventTypeEntry('order.merged', 'the order is merged into another (合单)', 'yes'),
    EventTypeEntry('order.unmerged', 'a merged order is taken out again', 'yes'),
    EventTypeEntry('order.pick_claimed', 'a picker claims the order from the pick queue', 'yes'),
    EventTypeEntry('order.priority_changed', "the order's priority tier changes (by hand or by a rule)", 'yes'),
    EventTypeEntry('order.tagged', 'a rule tags the order', 'yes'),
    EventTypeEntry('order.address_changed', 'the channel reports a new delivery address (field names only)', 'yes'),
    EventTypeEntry('order.lines_changed', 'the channel reports changed lines', 'yes'),
    EventTypeEntry('order.amounts_reported', 'the channel reports changed amounts', 'yes'),
    EventTypeEntry('order.after_sale_reported', 'the channel reports an after-sale state on the order', 'yes'),
    EventTypeEntry('order.resynced_from_channel', 'the order is re-read from its channel to repair it', 'yes'),
    EventTypeEntry('order.contact_revealed', 'sealed buyer contacts are decrypted for a role that may see them', 'yes'),
    EventTypeEntry('order.receipt_confirmed', 'the customer confirms receipt on the tracking page', 'yes'),
    EventTypeEntry('order.rated', 'the customer rates the order on the tracking page', 'yes'),
    EventTypeEntry('customer.lookup', 'the customer opens the order on the tracking page (verified look-up)', 'yes'),
    EventTypeEntry('payment.recorded', 'a channel reports a payment', 'yes'),
    EventTypeEntry('payment.status_changed', "a payment's status changes from the channel", 'yes'),
    EventTypeEntry('payment.confirmed', 'a gateway notice (WeChat Pay, Alipay) confirms a payment', 'yes'),
    EventTypeEntry('payment.gateway_saved', 'the merchant saves a payment gateway account', 'no'),
    EventTypeEntry('shipment.tracking', 'a carrier scan is recorded on a shipment', 'yes'),
    EventTypeEntry('shipment.status_changed', "a tracking provider's push changes a shipment's status", 'yes'),
    EventTypeEntry('shipment.reported_by_channel', 'the channel reports a waybill for the order', 'yes'),
    EventTypeEntry('shipment.tracking_subscribed', 'the parcel is subscribed at the tracking provider', 'yes'),
    EventTypeEntry('shipment.tracking_subscription_failed', 'subscribing the parcel failed', 'yes'),
    EventTypeEntry('shipment.tracking_unsupported', 'the tracking provider does not support the carrier', 'yes'),
    EventTypeEntry('stock.received', 'units arrive in a warehouse', 'no'),
    EventTypeEntry('stock.opened', 'opening stock is set', 'no'),
    EventTypeEntry('stock.adjusted', 'on-hand is adjusted by hand', 'no'),
    EventTypeEntry('stock.synced', 'a stock count or WMS snapshot is applied', 'no'),
    EventTypeEntry('stock.safety_set', 'safety stock changes', 'no'),
    EventTypeEntry('stock.low_stock_factor_set', "a SKU's low-stock factor changes", 'no'),
    EventTypeEntry('stock.inspected', 'returned goods are inspected (restocked or written off)', 'no'),
    EventTypeEntry('stock.wms_changed', 'the WMS reports a stock change (`stockchange.report`)', 'no'),
    EventTypeEntry('stock.reserved', 'stock is reserved for an order', 'yes'),
    EventTypeEntry('stock.released', "an order's reservations are released (cancel, re-allocation)", 'yes'),
    EventTypeEntry('stock.consumed', 'reservations are consumed by a shipment', 'yes'),
    EventTypeEntry('stock.force_released', 'a reservation is force-released', 'yes'),
    EventTypeEntry('stock.presale_converted', 'a pre-sale reservation becomes an ordinary one (balance paid)', 'yes'),
    EventTypeEntry('stock.presale_expired', 'a pre-sale reservation expires unpaid', 'yes'),
    EventTypeEntry('stock.returned_to_quarantine', 'returned goods enter quarantine', 'yes'),
    EventTypeEntry('sku.frozen', "a rule freezes a SKU's intake or allocation", 'either'),
    EventTypeEntry('sku.unfrozen', 'a SKU freeze is lifted', 'either'),
    EventTypeEntry('after_sale.requested', 'an after-sale is requested (GraphQL, channel or tracking page)', 'yes'),
    EventTypeEntry('after_sale.approved', 'it is approved', 'yes'),
    EventTypeEntry('after_sale.rejected', 'it is rejected', 'yes'),
    EventTypeEntry('after_sale.awaiting_return', 'the goods are awaited', 'yes'),
    EventTypeEntry('after_sale.return_shipped', 'the buyer sent the goods back', 'yes'),
    EventTypeEntry('after_sale.received', 'the goods came back into quarantine', 'yes'),
    EventTypeEntry('after_sale.inspected', 'the returned goods are inspected', 'yes'),
    EventTypeEntry('after_sale.refunded', 'the refund is made', 'yes'),
    EventTypeEntry('after_sale.refund_recorded', 'a refund made elsewhere is recorded', 'yes'),
    EventTypeEntry('after_sale.exchanged', 'the replacement order is created', 'yes'),
    EventTypeEntry('after_sale.closed', 'the after-sale is closed', 'yes'),
    EventTypeEntry('after_sale.pushed', 'the decision is pushed to the channel', 'yes'),
    EventTypeEntry('after_sale.push_skipped', 'nothing had to be pushed to the channel', 'yes'),
    EventTypeEntry('after_sale.push_failed', 'pushing the decision to the channel gave up', 'yes'),
    EventTypeEntry('after_sale.policy_set', 'the merchant changes the after-sale policy', 'no'),
    EventTypeEntry('alert.raised', 'an alert is raised (`after.kind` says which)', 'either'),
    EventTypeEntry('alert.updated', 'an open alert changes while its problem lasts', 'either'),
    EventTypeEntry('alert.reopened', 'a resolved alert comes back', 'either'),
    EventTypeEntry('alert.cleared', 'an alert resolves itself because its condition cleared', 'either'),
    EventTypeEntry('alert.acknowledged', 'a person acknowledges it', 'either'),
    EventTypeEntry('alert.assigned', 'it is assigned', 'either'),
    EventTypeEntry('alert.snoozed', 'it is snoozed', 'either'),
    EventTypeEntry('alert.snooze_ended', 'its snooze ends', 'either'),
    EventTypeEntry('alert.resolved', 'a person resolves it', 'either'),
    EventTypeEntry('intake.applied', 'a channel payload changed an existing order', 'yes'),
    EventTypeEntry('intake.stale', 'a channel payload older than what is known was ignored', 'yes'),
    EventTypeEntry('intake.conflict', "a channel payload conflicts with the order's state", 'yes'),
    EventTypeEntry('intake.reevaluated', 'a held-back channel update was applied later', 'yes'),
    EventTypeEntry('intake.tracking_applied', 'a carrier push was applied to the order', 'yes'),
    EventTypeEntry('intake.quarantined', 'an inbound payload could not be read and waits in the quarantine', 'no'),
    EventTypeEntry('intake.replayed', 'a quarantined payload is replayed', 'either'),
    EventTypeEntry('intake.discarded', 'a quarantined payload is discarded', 'no'),
    EventTypeEntry('status_mapping.changed', "a channel's status mapping is edited", 'no'),
    EventTypeEntry('channel.registered', 'a channel is registered', 'no'),
    EventTypeEntry('channel.updated', "a channel's settings change", 'no'),
    EventTypeEntry('carrier_account.saved', 'a carrier or tracking-provider account is saved', 'no'),
    EventTypeEntry('catalog.item_created', 'a catalogue item is created', 'no'),
    EventTypeEntry('catalog.item_updated', 'a catalogue item changes', 'no'),
    EventTypeEntry('catalog.alias_set', 'a channel SKU alias is set', 'no'),
    EventTypeEntry('catalog.alias_removed', 'a channel SKU alias is removed', 'no'),
    EventTypeEntry('warehouse.created', 'a warehouse is created', 'no'),
    EventTypeEntry('warehouse.updated', 'a warehouse changes', 'no'),
    EventTypeEntry('warehouse.paused', 'a warehouse is paused for allocation', 'no'),
    EventTypeEntry('warehouse.resumed', 'a warehouse is resumed', 'no'),
    EventTypeEntry('warehouse.breaker_opened', 'ERP and WMS stock drift apart: allocation from the warehouse pauses', 'no'),
    EventTypeEntry('warehouse.breaker_closed', 'the drift is back under the threshold', 'no'),
    EventTypeEntry('warehouse.breaker_reset', 'a person resets the drift breaker', 'no'),
    EventTypeEntry('allocation.policy_set', 'the allocation policy changes', 'no'),
    EventTypeEntry('system.connection_saved', 'an ERP or WMS connection is saved', 'no'),
    EventTypeEntry('system.warehouse_linked', 'a warehouse is linked to its WMS', 'no'),
    EventTypeEntry('wms.delivery_queued', 'a delivery order is queued for the WMS', 'yes'),
    EventTypeEntry('wms.delivery_pushed', 'the WMS accepted the delivery order', 'yes'),
    EventTypeEntry('wms.delivery_push_failed', 'the WMS refused it or pushing gave up', 'yes'),
    EventTypeEntry('wms.delivery_withdrawn', 'a queued delivery order was withdrawn before it was sent', 'yes'),
    EventTypeEntry('wms.delivery_cancel_queued', 'a cancellation is queued for the WMS', 'yes'),
    EventTypeEntry('wms.delivery_cancelled', 'the WMS cancelled the delivery order', 'yes'),
    EventTypeEntry('wms.delivery_cancel_refused', 'the WMS refused the cancellation (already shipped)', 'yes'),
    EventTypeEntry('wms.delivery_cancel_failed', 'sending the cancellation gave up', 'yes'),
    EventTypeEntry('wms.delivery_confirmed', 'the WMS confirms the shipment (`deliveryorder.confirm`)', 'yes'),
    EventTypeEntry('wms.delivery_partially_confirmed', 'the WMS confirms part of it', 'yes'),
    EventTypeEntry('wms.confirmation_recovered', "a lost WMS confirmation is applied from the WMS's answer", 'yes'),
    EventTypeEntry('wms.repush_requested', 'a person asks to push the delivery order again', 'yes'),
    EventTypeEntry('rule.created', 'a business rule is saved for the first time', 'no'),
    EventTypeEntry('rule.changed', 'a new version of a rule is saved', 'no'),
    EventTypeEntry('rule.enabled', 'a rule is turned on', 'no'),
    EventTypeEntry('rule.disabled', 'a rule is turned off', 'no'),
    EventTypeEntry('rule.fired', "a rule's condition held for an event or on its schedule", 'either'),
    EventTypeEntry('rule.notified', 'a rule notified a group', 'either'),
    EventTypeEntry('rule.webhook', 'a rule called a partner webhook', 'either'),
    EventTypeEntry('notification.route_created', 'a notification route is created', 'no'),
    EventTypeEntry('notification.route_updated', 'a notification route changes', 'no'),
    EventTypeEntry('notification.route_deleted', 'a notification route is deleted', 'no'),
    EventTypeEntry('reconciliation.finished', "a day's reconciliation run finished", 'no'),
    EventTypeEntry('lineage.exported', 'lineage is exported', 'no'),
    EventTypeEntry('lineage.looked_up', 'an auditor looked lineage up', 'no'),
    EventTypeEntry('lineage.purged', 'lineage past its retention is purged', 'no'),
)

BY_TYPE: dict[str, EventTypeEntry] = {entry.type: entry for entry in CATALOGUE}


def enum_name(event_type: str) -> str:
    """The GraphQL enum value of a type: ``order.status_changed`` → ``ORDER_STATUS_CHANGED``."""
    return event_type.replace(".", "_").upper()


def describe(event_type: str) -> str | None:
    """When a type fires, or None for a type the catalogue does not know (an old row, a test's type)."""
    entry = BY_TYPE.get(event_type)
    return entry.fires if entry else None
