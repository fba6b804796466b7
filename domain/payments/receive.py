"""A gateway's notification through the pipeline: find the keys, verify, keep, apply, answer as it expects.

    answer = await receive_notice(tenant_id, "wechatpay", body, headers, gateways=GATEWAYS, tolerance=300)
    answer.http_status, answer.content_type, answer.body        # 200, "text/plain", b""

1. a gateway OrderGraph has no adapter for → 404, nothing stored;
2. the raw body is kept (``InboundPayload``, kind ``payment``), whatever follows;
3. no account (keys) for the gateway → 404, kept as a ``refused`` notice;
4. the adapter verifies and reads it: a signature that does not verify, an
   unknown key, a stale timestamp → 401; an unreadable or undecryptable body
   → 400; both kept as ``refused`` notices with the reason, nothing applied;
5. ``domain.payments.notices.apply_notice`` applies it; every outcome of an
   authentic notice (applied, duplicate, unmatched, ambiguous, ignored,
   refused as double-counting) is answered as received, since the gateway's
   retries could not change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.inbound import payloads
from domain.payments.accounts import account_config
from domain.payments.notices import apply_notice, refuse_notice
from domain.payments.ports import NoticeRefused, PaymentGateway

PAYLOAD_KIND = "payment"


@dataclass(frozen=True, slots=True)
class NoticeAnswer:
    http_status: int
    content_type: str
    body: bytes
    outcome: str
    notice_pk: int | None = None


def _answer(gateway: PaymentGateway, status: int, message: str, outcome: str, notice_pk: int | None) -> NoticeAnswer:
    content_type, body = gateway.reply(status, message)
    return NoticeAnswer(status, content_type, body, outcome, notice_pk)


async def receive_notice(
    tenant_id: int, gateway_name: str, body: bytes, headers: Mapping[str, str], *,
    gateways: Mapping[str, PaymentGateway], tolerance: int, now: datetime | None = None,
) -> NoticeAnswer:
    """Verify, keep and apply one notification for the tenant (see module doc)."""
    gateway = gateways.get(gateway_name)
    if gateway is None:
        return NoticeAnswer(404, "application/json",
                            b'{"code":"FAIL","message":"no such payment gateway"}', "unknown_gateway")
    _, digest = await payloads.store(tenant_id, PAYLOAD_KIND, gateway_name, body, headers,
                                              headers.get("content-type", ""))
    ref = payloads.ref(digest)
    config = await account_config(tenant_id, gateway_name)
    if config is None:
        kept = await refuse_notice(tenant_id, gateway_name, body, f"no {gateway_name} account: save its keys first",
                                   payload_ref=ref)
        return _answer(gateway, 404, "no account for this gateway", "unknown_account", kept.notice_pk)
    try:
        notice = gateway.read_notice(config, body, headers, now=now or datetime.now(UTC), tolerance=tolerance)
    except NoticeRefused as refused:
        kept = await refuse_notice(tenant_id, gateway_name, body, refused.reason, claimed_id=refused.notice_id,
                                   payload_ref=ref)
        return _answer(gateway, refused.http_status, refused.reason, "refused", kept.notice_pk)
    result = await apply_notice(tenant_id, notice, payload_ref=ref)
    return _answer(gateway, 200, "", result.outcome.value, result.notice_pk)
