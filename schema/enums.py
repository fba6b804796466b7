"""GraphQL enums, straight from the domain vocabulary so they can never drift."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import statuses
from domain.allocation import pick_queue
from domain.stock.ledger import MovementKind as DomainMovementKind
from domain.stock.reservations import ReservationKind as DomainReservationKind
from domain.stock.reservations import ReservationStatus as DomainReservationStatus

OrderStatus = strawberry.enum(statuses.OrderStatus, description="Fulfilment status. SHIPPED = handed to a carrier with a tracking number.")
ShipmentStatus = strawberry.enum(statuses.ShipmentStatus, description="Unified carrier tracking status.")
PaymentStatus = strawberry.enum(statuses.PaymentStatus)
MovementKind = strawberry.enum(DomainMovementKind, description="Why a stock level changed.")
ReservationStatus = strawberry.enum(DomainReservationStatus)
ReservationKind = strawberry.enum(DomainReservationKind, description="PRESALE: held for a deposit order until its balance deadline.")
PriorityTier = strawberry.enum(Enum("PriorityTier", {name: name for name in pick_queue.TIERS}), description="Pick priority: 4-hour and 24-hour urgent tiers, OEM direct, standard.")  # type: ignore[misc]


@strawberry.enum
class OrderSortField(Enum):
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    PLACED_AT = "PLACED_AT"


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.enum
class ErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION"
    DUPLICATE = "DUPLICATE"
    FORBIDDEN = "FORBIDDEN"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    INVALID = "INVALID"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    CONFLICT = "CONFLICT"
