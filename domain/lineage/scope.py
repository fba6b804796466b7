"""Which lineage rows an export covers: one order, or a date range by business or recorded time.

    scope = await order_scope(actor, "OG000000042")
    scope = await range_scope(actor, date(2026, 11, 30), date(2026, 11, 30), by="placed")

Dates are days in the tenant's time zone (``Tenant.time_zone``), both ends
included. ``by="placed"`` takes every event of the orders *placed* in those
days (the business day an auditor means by "orders of a day"); ``by="recorded"``
takes every event (order, stock, configuration) *recorded* in those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.actor import Actor, Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.order_numbers import order_number, parse_order_number
from models import Order, Tenant

#: Roles that may export lineage and build evidence packs.
EXPORT_ROLES = frozenset({Role.ADMIN, Role.AUDITOR})
BY_CHOICES = ("placed", "recorded")


@dataclass(frozen=True, slots=True)
class Scope:
    tenant_id: int
    zone: ZoneInfo
    order_id: int | None = None
    start: datetime | None = None      # UTC, inclusive
    end: datetime | None = None        # UTC, exclusive
    by: str = "recorded"

    def filters(self) -> dict[str, Any]:
        """Tortoise filters on ``OrderEvent`` for this scope."""
        if self.order_id is not None:
            return {"tenant_id": self.tenant_id, "order_id": self.order_id}
        if self.by == "placed":
            return {"tenant_id": self.tenant_id, "order__placed_at__gte": self.start, "order__placed_at__lt": self.end}
        return {"tenant_id": self.tenant_id, "created_at__gte": self.start, "created_at__lt": self.end}

    def params(self) -> dict[str, Any]:
        """What the scope was, for the manifest and the ``lineage.exported`` event."""
        if self.order_id is not None:
            return {"order": order_number(self.order_id)}
        return {"from": self.start.isoformat() if self.start else None, "to": self.end.isoformat() if self.end else None,
                "by": self.by, "time_zone": self.zone.key}


def check_role(actor: Actor) -> None:
    if actor.role not in EXPORT_ROLES:
        raise Forbidden("only auditors and admins export lineage", field="role")


async def tenant_zone(tenant_id: int) -> ZoneInfo:
    tenant = await Tenant.filter(id=tenant_id).first()
    if tenant is None:
        raise NotFound("no such tenant", field="tenant")
    try:
        return ZoneInfo(tenant.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


async def order_scope(actor: Actor, number: str | int) -> Scope:
    check_role(actor)
    order_id = number if isinstance(number, int) else parse_order_number(number)
    if not await Order.exists(id=order_id, tenant_id=actor.tenant_id):
        raise NotFound(f"no order {order_number(order_id)}", field="order")
    return Scope(tenant_id=actor.tenant_id, zone=await tenant_zone(actor.tenant_id), order_id=order_id)


async def range_scope(actor: Actor, first: date, last: date, by: str = "placed") -> Scope:
    check_role(actor)
    if by not in BY_CHOICES:
        raise ValidationFailed("by is placed or recorded", field="by")
    if last < first:
        raise ValidationFailed("the range ends before it starts", field="to")
    if (last - first).days > 366:
        raise ValidationFailed("export at most a year at a time", field="to")
    zone = await tenant_zone(actor.tenant_id)
    try:
        start = datetime.combine(first, time(0), zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(UTC)
    except OverflowError:  # 0001-01-01 or 9999-12-31 in the tenant's zone: no UTC instant for it
        raise ValidationFailed("the day is out of range", field="from") from None
    return Scope(tenant_id=actor.tenant_id, zone=zone, start=start, end=end, by=by)
