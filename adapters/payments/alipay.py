"""Alipay asynchronous notifications (异步通知, ``notify_type=trade_status_sync``): verify RSA2, read.

The gateway POSTs ``application/x-www-form-urlencoded`` parameters:
``notify_id``, ``notify_time``, ``app_id``, ``charset``, ``sign_type``,
``sign``, ``out_trade_no`` (the merchant's order number), ``trade_no``
(Alipay's), ``trade_status`` (``WAIT_BUYER_PAY``, ``TRADE_SUCCESS``,
``TRADE_FINISHED``, ``TRADE_CLOSED``), ``total_amount`` (yuan),
``gmt_payment`` (China time), and for a refund ``refund_fee``, ``gmt_refund``,
``out_biz_no``.

Verification (RSA2): every parameter except ``sign`` and ``sign_type``,
URL-decoded, sorted by name, joined as ``name=value`` with ``&``, encoded in
the notice's ``charset``; ``sign`` is the base64 SHA256withRSA (PKCS#1 v1.5)
of that text under Alipay's public key. Only RSA2 is accepted (RSA is SHA-1).

The answer is the plain text ``success``; anything else (we send ``fail``)
makes Alipay retry (8 times over 25 hours).

Config (sealed per tenant): ``alipay_public_key`` (PEM or the bare base64 the
open platform shows), optionally ``app_id`` (notices for another app are refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from adapters import wire
from adapters.payments import keys
from domain.payments.ports import GatewayNotice, NoticeRefused

NAME = "alipay"
PAID_STATES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
UNSIGNED = ("sign", "sign_type")
REFUND_MARKERS = ("gmt_refund", "out_biz_no")


def signed_text(params: Mapping[str, str]) -> str:
    """The text Alipay signs: every parameter but ``sign`` and ``sign_type``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{name}={params[name]}" for name in sorted(params) if name not in UNSIGNED)


def _form(body: bytes) -> dict[str, str]:
    """The parameters, decoded in the charset the notice names (UTF-8 unless it says GBK …)."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise NoticeRefused("body is not a URL-encoded form", http_status=400) from None
    charset = "utf-8"
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):
        if name == "charset" and value.strip():
            charset = value.strip().lower()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        raise NoticeRefused(f"body is not in its charset {charset[:20]!r}", http_status=400) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise NoticeRefused(f"parameter {name[:40]} given more than once", http_status=400)
        form[name] = value
    return form


def _amount(value: str) -> Decimal | None:
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise NoticeRefused("total_amount is not an amount", http_status=400) from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise NoticeRefused("total_amount is not an amount in yuan", http_status=400)
    return amount.quantize(Decimal("0.01"))


def _china_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=wire.CHINA_TZ).astimezone(UTC)
    except ValueError:
        raise NoticeRefused("gmt_payment is not yyyy-MM-dd HH:mm:ss", http_status=400) from None


class Alipay:
    name = NAME

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        key = str(config.get("alipay_public_key") or "")
        if not key:
            raise ValueError("alipay_public_key is required (Alipay's public key, not the app's)")
        keys.public_key(key)
        cleaned: dict[str, Any] = {"alipay_public_key": key.strip()}
        if config.get("app_id"):
            cleaned["app_id"] = str(config["app_id"]).strip()
        return cleaned

    def describe(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {"app_id": config.get("app_id", ""), "alipay_public_key_set": bool(config.get("alipay_public_key"))}

    def read_notice(self, config: Mapping[str, Any], body: bytes, headers: Mapping[str, str], *,
                    now: datetime, tolerance: int) -> GatewayNotice:
        params = _form(body)
        notice_id = params.get("notify_id", "")[:64]
        if params.get("sign_type", "RSA2") != "RSA2":
            raise NoticeRefused(f"sign_type {params.get('sign_type', '')[:10]!r} is not RSA2", notice_id=notice_id)
        if not params.get("sign"):
            raise NoticeRefused("the notice is not signed", notice_id=notice_id)
        charset = params.get("charset", "utf-8") or "utf-8"
        try:
            message = signed_text(params).encode(charset)
        except (LookupError, UnicodeEncodeError):
            raise NoticeRefused("the notice's charset is unknown", http_status=400, notice_id=notice_id) from None
        if not keys.verify_sha256_rsa(keys.public_key(str(config["alipay_public_key"])), message, params["sign"]):
            raise NoticeRefused("sign does not verify with Alipay's public key", notice_id=notice_id)
        if not notice_id:
            raise NoticeRefused("the notice has no notify_id", http_status=400)
        if config.get("app_id") and params.get("app_id") != config["app_id"]:
            raise NoticeRefused(f"notice for app {params.get('app_id', '')[:32]}, not this account's", http_status=400,
                                notice_id=notice_id)
        status = params.get("trade_status", "")
        refund = any(params.get(marker) for marker in REFUND_MARKERS)
        return GatewayNotice(
            gateway=NAME,
            notice_id=notice_id,
            reference=params.get("out_trade_no", "")[:64],
            transaction_id=params.get("trade_no", "")[:64],
            amount=_amount(params.get("refund_fee", "") if refund else params.get("total_amount", "")),
            currency=(params.get("trans_currency") or "CNY")[:3].upper(),
            status=status[:24],
            paid=not refund and status in PAID_STATES,
            paid_at=_china_time(params.get("gmt_payment", "")),
            kind="refund" if refund else "payment",
            details={"notify_type": params.get("notify_type", ""), "receipt_amount": params.get("receipt_amount"),
                     "buyer_pay_amount": params.get("buyer_pay_amount"), "out_biz_no": params.get("out_biz_no")},
        )

    def reply(self, http_status: int, message: str) -> tuple[str, bytes]:
        return "text/plain", b"success" if 200 <= http_status < 300 else b"fail"
