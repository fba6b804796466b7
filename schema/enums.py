"""GraphQL enums, straight from the domain vocabulary so they can never drift."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain import statuses

OrderStatus = strawberry.enum(statuses.OrderStatus, description="Fulfilment status. SHIPPED = handed to a carrier with a tracking number.")
ShipmentStatus = strawberry.enum(statuses.ShipmentStatus, description="Unified carrier tracking status.")
PaymentStatus = strawberry.enum(statuses.PaymentStatus)


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
