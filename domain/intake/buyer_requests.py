"""What the buyer asked the platform for (cancel, refund): the order is held and a person alerted until it is settled.

The hold and the alert follow the channel: both are lifted by the first
update that no longer carries the request (the buyer withdrew it, or the
platform cancelled or refunded the order). A request for an order already
shipped cannot hold it; the alert then says to intercept the parcel.
"""

from __future__ import annotations

from typing import Any

from domain.alerts.raising import clear_alerts, raise_alert
from domain.inbound.normalized import BUYER_CANCEL, BUYER_REFUND, InboundOrder
from domain.order_machine import HOLDABLE
from domain.statuses import OrderStatus

KIND = "intake.buyer_request"
HOLD_REASONS = {BUYER_CANCEL: "buyer asked to cancel", BUYER_REFUND: "buyer asked for a refund"}
_OTHER = "buyer asked: "


def is_managed(reason: str) -> bool:
    """A hold reason this module placed (and lifts when the request is gone)."""
    return reason in HOLD_REASONS.values() or reason.startswith(_OTHER)


def requests_of(inbound: InboundOrder) -> list[str]:
    """The requests, each once, in a stable order; an unknown word is kept as the platform sent it."""
    return sorted({request.strip() for request in inbound.buyer_requests if request.strip()})


def hold_reasons(inbound: InboundOrder) -> list[str]:
    return [HOLD_REASONS.get(request, f"{_OTHER}{request}"[:200]) for request in requests_of(inbound)]


def alert_for(inbound: InboundOrder, status: OrderStatus) -> tuple[str, str, str, dict[str, Any]] | None:
    """(kind, severity, message, details) for an open request on an order in ``status`` (its status before any hold)."""
    requests = requests_of(inbound)
    if not requests or status == OrderStatus.CANCELLED:
        return None
    asked = " and ".join(HOLD_REASONS.get(request, f"{_OTHER}{request}") for request in requests)
    if status in HOLDABLE or status == OrderStatus.ON_HOLD:
        severity, advice = "warning", "held until the platform settles it; do not ship meanwhile"
    else:
        severity, advice = "critical", f"the order is already {status}: intercept the parcel or arrange the return"
    details = {"buyer_requests": requests, "status_code": inbound.status_code, "extra_codes": dict(inbound.extra_codes)}
    return KIND, severity, f"the {asked} on the platform: {advice}", details


async def sync_alert(actor_name: str, actor_source: str, tenant_id: int, order_id: int, inbound: InboundOrder,
                     status: OrderStatus) -> str | None:
    """Raise the request's alert, or clear it once the update no longer carries one; returns what changed."""
    alert = alert_for(inbound, status)
    if alert is None:
        cleared = await clear_alerts(tenant_id=tenant_id, order_id=order_id, kind=KIND, actor=actor_name)
        return "buyer request settled" if cleared else None
    kind, severity, message, details = alert
    await raise_alert(tenant_id=tenant_id, order_id=order_id, kind=kind, severity=severity, message=message,
                      details=details, actor=actor_name, source=actor_source)
    return None
