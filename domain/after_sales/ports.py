"""What the after-sale domain needs from a sales channel: telling it our decision on the buyer's refund.

    api = apis.for_channel(channel.kind, channel.config.get("api") or {})   # None: the channel takes no pushes
    await api.approve_refund("158823456789012345", Decimal("100.00"))
    await api.reject_refund("158823456789012345", "the seal is broken")

Implementations live in ``adapters.channels.api`` (Taobao:
``taobao.rp.refunds.agree`` / ``taobao.refund.refuse``) and raise the pull
API's errors (``domain.inbound.channel_api``): ``Throttled`` and
``ApiUnavailable`` are retried later, ``ApiRefused`` is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol


class ChannelAfterSaleApi(Protocol):
    """One shop's after-sale API."""

    async def approve_refund(self, external_refund_id: str, amount: Decimal) -> None:
        """Agree to refund ``amount`` of the channel's refund ``external_refund_id``."""
        ...

    async def reject_refund(self, external_refund_id: str, reason: str) -> None:
        """Refuse the channel's refund ``external_refund_id``, telling the buyer ``reason``."""
        ...


class ChannelAfterSaleApis(Protocol):
    """Builds a shop's after-sale API from its channel kind and account settings (``None``: not supported)."""

    def for_channel(self, kind: str, config: Mapping[str, Any]) -> ChannelAfterSaleApi | None:
        ...
