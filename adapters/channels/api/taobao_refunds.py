"""Taobao / Tmall refund decisions through TOP: ``taobao.rp.refunds.agree`` and ``taobao.refund.refuse``.

    api = refund_client(channel.config["api"])            # the shop's TOP account, as the pull API's
    await api.approve_refund("158823456789012345", Decimal("100.00"))
    await api.reject_refund("158823456789012345", "the seal was broken by the buyer")

``taobao.rp.refunds.agree`` (同意退款) takes ``refund_infos``:
``refund_id|amount|version|phase`` per refund, comma-separated, the amount in
fen; ``version`` (the refund's last modification as a timestamp) and
``phase`` (``onsale``/``aftersale``) are required for Tmall refunds only,
and this client sends the first two parts (a Taobao shop's form). It answers
``{"rp_refunds_agree_response": {"succ": true, "msg_code": "OP_SUCC",
"results": …}}``; ``succ`` false (``OP_FAILURE_UE``) is a refusal with the
platform's message. ``taobao.refund.refuse`` (卖家拒绝退款) takes
``refund_id`` and ``refuse_message`` (2-200 characters) and answers
``{"refund_refuse_response": {...}}``. Both are form POSTs to the TOP router
signed like every TOP call; errors come back as ``error_response`` and are
read as :func:`adapters.channels.api.taobao.refusal` reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.channels.api.taobao import TaobaoApi, client
from domain.inbound.channel_api import ApiRefused

AGREE_METHOD = "taobao.rp.refunds.agree"
REFUSE_METHOD = "taobao.refund.refuse"


def refund_client(config: Mapping[str, Any]) -> TaobaoRefundApi:
    """The shop's refund API from its ``config["api"]``; :class:`ApiRefused` naming a missing key."""
    return TaobaoRefundApi(client(config).target)


def fen(amount: Decimal) -> int:
    """Yuan to fen exactly (TOP's refund amounts are whole fen)."""
    value = amount * 100
    if value != value.to_integral_value():
        raise ApiRefused(f"taobao refunds are whole fen, got {amount}", code="BAD_AMOUNT")
    return int(value)


class TaobaoRefundApi(TaobaoApi):
    """The port ``domain.after_sales.ports.ChannelAfterSaleApi`` for one Taobao or Tmall shop."""

    async def approve_refund(self, external_refund_id: str, amount: Decimal) -> None:
        if not external_refund_id.isdigit():
            raise ApiRefused("a Taobao refund id is a number", code="BAD_REFUND_ID")
        answer, _ = await self._call(AGREE_METHOD, {"refund_infos": f"{external_refund_id}|{fen(amount)}"})
        body = answer.get("rp_refunds_agree_response") if isinstance(answer, dict) else None
        if not isinstance(body, dict):
            raise ApiRefused("unexpected answer to taobao.rp.refunds.agree", code="BAD_RESPONSE")
        if body.get("succ") is not True and body.get("msg_code") != "OP_SUCC":
            message = str(body.get("message") or body.get("msg_code") or "refused")[:200]
            raise ApiRefused(f"taobao refused the refund: {message}", code=str(body.get("msg_code") or "REFUSED"))

    async def reject_refund(self, external_refund_id: str, reason: str) -> None:
        if not external_refund_id.isdigit():
            raise ApiRefused("a Taobao refund id is a number", code="BAD_REFUND_ID")
        message = (reason.strip() or "refused by the seller")[:200]
        if len(message) < 2:
            message = f"{message}."
        answer, _ = await self._call(REFUSE_METHOD, {"refund_id": external_refund_id, "refuse_message": message})
        if not isinstance(answer, dict) or "refund_refuse_response" not in answer:
            raise ApiRefused("unexpected answer to taobao.refund.refuse", code="BAD_RESPONSE")
