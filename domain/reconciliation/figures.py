"""What each source says about one order of the day: the channel, the gateway, the ERP and the WMS.

``None`` means the source has nothing to say that can be compared: the gateway
confirmed none of the order's payments (platform-settled orders never get a
gateway notice), the ERP was not asked (none connected, or unreachable this
run), the order is not expected in the WMS (not shipped yet, or shipped from a
warehouse no WMS runs). Zero is a figure: the ERP has no invoice, the WMS
shipped nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

#: Sources, as totals, notes and diff rows name them.
CHANNEL, GATEWAY, ERP, WMS = "channel", "gateway", "erp", "wms"


@dataclass(slots=True)
class OrderFigures:
    order_id: int
    number: str                          # OG000000042
    status: str
    currency: str
    channel_quantity: int                # units ordered (the order's lines)
    channel_amount: Decimal              # paid (total_amount) less the refunds recorded against it
    refunded: Decimal = Decimal(0)       # the refunds recorded, as a positive amount
    gateway_amount: Decimal | None = None
    erp_quantity: int | None = None
    erp_amount: Decimal | None = None
    erp_invoiced: bool = False           # the ERP has at least one invoice for the order
    shipped: bool = False                # we shipped it in full: the WMS must say so too
    wms_quantity: int | None = None
    notes: dict[str, str] = field(default_factory=dict)   # source -> why its figure is what it is
