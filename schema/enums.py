"""GraphQL enums, straight from the domain vocabulary so they can never drift."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import statuses
from domain.allocation import pick_queue
from domain.stock.ledger import MovementKind as DomainMovementKind
from domain.stock.reservations import ReservationKind as DomainReservationKind
from domain.stock.reservations import ReservationStatus as DomainReservationStatus
from schema.enum_values import describe_values

OrderStatus = describe_values(strawberry.enum(statuses.OrderStatus, description="Fulfilment status. SHIPPED = handed to a carrier with a tracking number."), {
    "PENDING_PAYMENT": "Placed, not paid yet: nothing is reserved or shipped.",
    "DEPOSIT_PAID": "A presale order whose deposit is paid; the balance is still due (stock is held as PRESALE).",
    "PAID": "Paid in full and waiting to be allocated to a warehouse.",
    "ALLOCATED": "Stock is reserved in one or more warehouses; waiting in the pick queue.",
    "PICKING": "A picker has claimed the order in the warehouse.",
    "PACKED": "Packed and waiting for the carrier.",
    "PARTIALLY_SHIPPED": "Some parcels are handed to a carrier with a tracking number, others are not yet.",
    "SHIPPED": "Every parcel is handed to a carrier with a tracking number (not yet picked up or delivered).",
    "DELIVERED": "The carrier's tracking reports every parcel delivered.",
    "COMPLETED": "Finished: the channel reports the trade closed (e.g. the buyer confirmed receipt). Final.",
    "ON_HOLD": "Stopped for the reasons in `holdReasons`; release the hold to continue.",
    "CANCELLED": "Cancelled before shipping; its reservations are released. Final.",
})
ShipmentStatus = describe_values(strawberry.enum(statuses.ShipmentStatus, description="Unified carrier tracking status."), {
    "LABEL_CREATED": "A waybill exists; the carrier has not scanned the parcel yet.",
    "PICKED_UP": "The carrier collected the parcel.",
    "IN_TRANSIT": "Moving through the carrier's network.",
    "CUSTOMS": "Held in customs clearance.",
    "OUT_FOR_DELIVERY": "With the courier for delivery today.",
    "AT_PICKUP_POINT": "Waiting at a pickup point or parcel locker for the receiver.",
    "DELIVERED": "The carrier reports it delivered (final).",
    "ATTEMPT_FAILED": "A delivery attempt failed; the carrier will retry or return it.",
    "EXCEPTION": "The carrier reports a problem (lost, damaged, refused, address issue).",
    "RETURNING": "On its way back to the sender.",
    "RETURNED": "Back with the sender (final).",
    "EXPIRED": "The tracking provider gave up on the parcel (no scans for days); final.",
})
PaymentStatus = describe_values(strawberry.enum(statuses.PaymentStatus, description="Where a payment stands."), {
    "PENDING": "Expected, no money has arrived yet.",
    "AUTHORIZED": "The funds are authorised (held on the buyer's account), not captured yet; the order may be fulfilled.",
    "PAID": "The money arrived.",
    "PARTIALLY_REFUNDED": "Paid, then part of it was refunded.",
    "REFUNDED": "Paid, then refunded in full.",
    "VOIDED": "Cancelled before any money moved (or failed); counts as nothing.",
})
MovementKind = describe_values(strawberry.enum(DomainMovementKind, description="Why a stock level changed."), {
    "OPENING_STOCK": "The first count of a (warehouse, SKU) when the merchant started on OrderGraph.",
    "RECEIPT": "Goods received into the warehouse (on hand up).",
    "ADJUSTMENT": "A correction of on hand (e.g. the WMS reported a different level).",
    "COUNT_SYNC": "On hand set to a stock count's result.",
    "RESERVE": "Units reserved for an order (reserved up).",
    "RELEASE": "An order's reservation given back (reserved down), e.g. on cancel or reallocation.",
    "SHIP": "Units left with a parcel (on hand and reserved down).",
    "RETURN_TO_QUARANTINE": "Returned units put in quarantine to await inspection.",
    "QUARANTINE_ACCEPT": "Inspected returned units accepted back into on hand.",
    "QUARANTINE_SCRAP": "Inspected returned units scrapped (they leave quarantine, not back to on hand).",
})
ReservationStatus = describe_values(strawberry.enum(DomainReservationStatus, description="Whether a reservation still holds its units."), {
    "ACTIVE": "Holding its units for the order line.",
    "RELEASED": "Given back to available stock (cancel, reallocation, expiry); see `closeReason`.",
    "CONSUMED": "Used up: the units shipped.",
})
ReservationKind = describe_values(strawberry.enum(DomainReservationKind, description="PRESALE: held for a deposit order until its balance deadline."), {
    "ORDER": "An ordinary hold for a paid order's line; it goes to the pick queue.",
    "PRESALE": "Held for a deposit order until its balance deadline (`expiresAt`); released if the balance is not paid.",
})
PriorityTier = describe_values(strawberry.enum(Enum("PriorityTier", {name: name for name in pick_queue.TIERS}), description="Pick priority: 4-hour and 24-hour urgent tiers, OEM direct, standard."), {  # type: ignore[misc]
    name: f"{tier.label.capitalize()}: picked in rank {tier.rank} (lower first), ship-by {tier.promise.total_seconds() / 3600:g} hours after placing."
    for name, tier in pick_queue.TIERS.items()})


@strawberry.enum(description="Which time orders are sorted by.")
class OrderSortField(Enum):
    CREATED_AT = strawberry.enum_value("CREATED_AT", description="When OrderGraph received the order.")
    UPDATED_AT = strawberry.enum_value("UPDATED_AT", description="When OrderGraph last changed the order.")
    PLACED_AT = strawberry.enum_value("PLACED_AT", description="When the buyer placed the order on the channel.")


@strawberry.enum(description="Sort order.")
class SortDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Oldest first.")
    DESC = strawberry.enum_value("DESC", description="Newest first.")


@strawberry.enum(description="Why a mutation was refused; nothing was changed.")
class ErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value("NOT_FOUND", description="No such object in your tenant (or one you may not see).")
    VALIDATION = strawberry.enum_value("VALIDATION", description="An input value is wrong; `field` names it.")
    DUPLICATE = strawberry.enum_value("DUPLICATE", description="It already exists (e.g. a channel order id seen before).")
    FORBIDDEN = strawberry.enum_value("FORBIDDEN", description="Your role may not do this.")
    ILLEGAL_TRANSITION = strawberry.enum_value("ILLEGAL_TRANSITION", description="The state machine does not allow this move from the current status; see `fromStatus` and `toStatus`.")
    INVALID = strawberry.enum_value("INVALID", description="The request cannot be applied as it stands (a general refusal).")
    INSUFFICIENT_STOCK = strawberry.enum_value("INSUFFICIENT_STOCK", description="Not enough available units (on hand minus reserved); nothing was reserved.")
    CONFLICT = strawberry.enum_value("CONFLICT", description="The object is in a state that forbids this change (e.g. a shipped line, a claimed pick).")
