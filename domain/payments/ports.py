"""The port a payment gateway's adapter implements: check its keys, verify and read a notice, shape the reply.

An adapter (``adapters.payments.wechatpay``, ``adapters.payments.alipay``)
knows one gateway's wire format and signature; the domain only sees a
:class:`GatewayNotice` or a :class:`NoticeRefused`. The caller (``api/``)
passes the adapters in, so the domain never imports them.

    gateway = gateways["wechatpay"]
    notice = gateway.read_notice(account_config, body, headers, now=now, tolerance=300)
    content_type, reply = gateway.reply(200, "")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class GatewayNotice:
    """A verified notice, normalised: what the gateway says happened to which payment.

    ``notice_id`` is the gateway's id for this notification (WeChat ``id``,
    Alipay ``notify_id``); ``reference`` the merchant's order number the payment
    was made for (``out_trade_no``); ``transaction_id`` the gateway's own
    payment id (WeChat ``transaction_id``, Alipay ``trade_no``). ``amount`` is
    the order amount the gateway charged, in currency units. ``paid`` says the
    status is a completed payment (WeChat ``SUCCESS``, Alipay ``TRADE_SUCCESS``
    / ``TRADE_FINISHED``); ``status`` keeps the gateway's own word. ``kind`` is
    ``payment`` or ``refund`` (refund notices are after-sales' business).
    """

    gateway: str
    notice_id: str
    reference: str
    transaction_id: str
    amount: Decimal | None
    currency: str
    status: str
    paid: bool
    paid_at: datetime | None = None
    kind: str = "payment"
    details: Mapping[str, Any] = field(default_factory=dict)


class NoticeRefused(Exception):
    """The notice cannot be trusted or read; nothing is applied.

    ``http_status`` is what to answer (401 for a signature that does not
    verify, a stale timestamp or an unknown key; 400 for a body that cannot be
    read or decrypted). ``notice_id`` is the id the body claims, when it could
    be read (kept for the record, never trusted).
    """

    def __init__(self, reason: str, *, http_status: int = 401, notice_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status
        self.notice_id = notice_id


class PaymentGateway(Protocol):
    """One gateway's notification format. Stateless; the tenant's keys come in as ``config``."""

    name: str

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The config to store (keys parsed and normalised); ``ValueError`` saying what is missing or wrong."""
        ...

    def describe(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """What may be shown of a config: identities, certificate serials and expiry, which secrets are set."""
        ...

    def read_notice(self, config: Mapping[str, Any], body: bytes, headers: Mapping[str, str], *,
                    now: datetime, tolerance: int) -> GatewayNotice:
        """Verify and parse one notification; :class:`NoticeRefused` when it cannot be trusted or read."""
        ...

    def reply(self, http_status: int, message: str) -> tuple[str, bytes]:
        """The (content type, body) the gateway expects for this answer (a success or a refusal)."""
        ...
