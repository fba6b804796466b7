"""WeChat Pay API v3 notifications (支付结果通知 / 退款结果通知): verify, decrypt, read.

The gateway POSTs JSON with four headers:

- ``Wechatpay-Serial``: which key signed (the platform certificate's serial in
  upper-case hex, or a WeChat Pay public key id ``PUB_KEY_ID_…``);
- ``Wechatpay-Timestamp`` (unix seconds) and ``Wechatpay-Nonce``;
- ``Wechatpay-Signature``: base64 SHA256withRSA (PKCS#1 v1.5) over
  ``timestamp + "\\n" + nonce + "\\n" + body + "\\n"``, the body byte for byte.

The body names the event (``id``, ``create_time``, ``event_type``
``TRANSACTION.SUCCESS`` or ``REFUND.*``, ``resource_type`` ``encrypt-resource``)
and carries ``resource``: ``algorithm`` ``AEAD_AES_256_GCM``, base64
``ciphertext`` (the tag is its last 16 bytes), ``nonce`` (12 characters) and
``associated_data``, decrypted with the merchant's 32-byte API v3 key. The
plaintext is the transaction: ``mchid``, ``out_trade_no``, ``transaction_id``,
``trade_state`` (``SUCCESS`` …), ``success_time`` (RFC 3339), ``amount``
``{total, payer_total, currency}`` in fen.

The answer: HTTP 200 with an empty body when received; 4xx/5xx with
``{"code": "FAIL", "message": …}`` otherwise (the gateway then retries).
A notice whose timestamp is more than ``tolerance`` seconds off is refused (replays).

Config (sealed per tenant): ``api_v3_key`` (32 characters), ``platform_certificate``
(PEM, or a list of PEMs while certificates rotate) and/or ``public_key_id`` +
``public_key`` (PEM), optionally ``mchid`` (notices for another merchant are refused).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters import wire
from adapters.payments import keys
from domain.inbound.normalized import PayloadError
from domain.payments.ports import GatewayNotice, NoticeRefused

NAME = "wechatpay"
ALGORITHM = "AEAD_AES_256_GCM"
PAID_STATES = frozenset({"SUCCESS"})
_HEADERS = ("wechatpay-serial", "wechatpay-signature", "wechatpay-timestamp", "wechatpay-nonce")


def _certificates(config: Mapping[str, Any]) -> list[str]:
    value = config.get("platform_certificate") or []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def _fen(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise NoticeRefused(f"resource.{field} is not a whole number of fen", http_status=400)
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise NoticeRefused(f"resource.{field} is not an RFC 3339 time", http_status=400) from None
    if parsed.tzinfo is None:
        raise NoticeRefused(f"resource.{field} has no UTC offset", http_status=400)
    return parsed.astimezone(UTC)


class WeChatPayV3:
    name = NAME

    # ------------------------------------------------------------------ keys

    def check_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        api_v3_key = str(config.get("api_v3_key") or "")
        if len(api_v3_key.encode("utf-8")) != 32:
            raise ValueError("api_v3_key must be the 32-character API v3 key")
        cleaned: dict[str, Any] = {"api_v3_key": api_v3_key}
        certificates = _certificates(config)
        for pem in certificates:
            keys.certificate(pem)
        if certificates:
            cleaned["platform_certificate"] = certificates if len(certificates) > 1 else certificates[0]
        if config.get("public_key") or config.get("public_key_id"):
            if not config.get("public_key_id") or not config.get("public_key"):
                raise ValueError("a WeChat Pay public key needs both public_key and public_key_id")
            keys.public_key(str(config["public_key"]))
            cleaned["public_key_id"] = str(config["public_key_id"]).strip()
            cleaned["public_key"] = str(config["public_key"]).strip()
        if not certificates and "public_key" not in cleaned:
            raise ValueError("give the platform_certificate (PEM) or public_key_id and public_key")
        if config.get("mchid"):
            cleaned["mchid"] = str(config["mchid"]).strip()
        return cleaned

    def describe(self, config: Mapping[str, Any]) -> dict[str, Any]:
        shown: dict[str, Any] = {"mchid": config.get("mchid", ""), "api_v3_key_set": bool(config.get("api_v3_key"))}
        certs = []
        for pem in _certificates(config):
            try:
                cert = keys.certificate(pem)
            except ValueError:
                continue
            certs.append({"serial": keys.serial_hex(cert), "not_after": cert.not_valid_after_utc.isoformat()})
        shown["certificates"] = certs
        if config.get("public_key_id"):
            shown["public_key_id"] = config["public_key_id"]
        return shown

    def _key_for(self, config: Mapping[str, Any], serial: str, now: datetime) -> keys.PublicKey:
        if serial and serial == config.get("public_key_id"):
            return keys.public_key(str(config["public_key"]))
        wanted = int(serial, 16) if serial and len(serial) <= 64 and all(c in "0123456789abcdefABCDEF" for c in serial) else None
        for pem in _certificates(config):
            cert = keys.certificate(pem)
            if wanted is not None and cert.serial_number == wanted:  # hex, leading zeros or not
                if not keys.valid_at(cert, now):
                    raise NoticeRefused(f"platform certificate {serial} is not valid now", http_status=401)
                return cert.public_key()  # type: ignore[return-value]
        raise NoticeRefused(f"no platform certificate or public key with serial {serial[:64]!r}", http_status=401)

    # ------------------------------------------------------------------ notices

    def read_notice(self, config: Mapping[str, Any], body: bytes, headers: Mapping[str, str], *,
                    now: datetime, tolerance: int) -> GatewayNotice:
        lowered = {key.lower(): value for key, value in headers.items()}
        missing = [name for name in _HEADERS if not lowered.get(name)]
        if missing:
            raise NoticeRefused(f"missing header {', '.join(missing)}", http_status=401)
        serial, signature = lowered["wechatpay-serial"].strip(), lowered["wechatpay-signature"].strip()
        timestamp, nonce = lowered["wechatpay-timestamp"].strip(), lowered["wechatpay-nonce"].strip()
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise NoticeRefused("Wechatpay-Timestamp is not unix seconds", http_status=401)
        if abs(now.timestamp() - int(timestamp)) > tolerance:
            raise NoticeRefused(f"Wechatpay-Timestamp is more than {tolerance} s off: a stale or replayed notice",
                                http_status=401)
        key = self._key_for(config, serial, now)
        message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
        if not keys.verify_sha256_rsa(key, message, signature):
            raise NoticeRefused("Wechatpay-Signature does not verify", http_status=401)
        return self._parse(config, body)

    def _parse(self, config: Mapping[str, Any], body: bytes) -> GatewayNotice:
        try:
            envelope = wire.load_json(body)
        except PayloadError as error:
            raise NoticeRefused(f"body: {error.reason}", http_status=400) from None
        if not isinstance(envelope, dict) or not isinstance(envelope.get("resource"), dict):
            raise NoticeRefused("body has no resource object", http_status=400)
        notice_id = str(envelope.get("id") or "")
        event_type = str(envelope.get("event_type") or "")
        if not notice_id:
            raise NoticeRefused("body has no id", http_status=400)
        resource = self._decrypt(config, envelope["resource"], notice_id)
        refund = event_type.startswith("REFUND.")
        amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
        mchid = str(resource.get("mchid") or resource.get("sp_mchid") or "")
        if config.get("mchid") and mchid and mchid != config["mchid"]:
            raise NoticeRefused(f"notice for merchant {mchid}, not this account's", http_status=400,
                                notice_id=notice_id)
        state = str(resource.get("refund_status" if refund else "trade_state") or "")
        total = amount.get("refund" if refund else "total")
        return GatewayNotice(
            gateway=NAME,
            notice_id=notice_id[:64],
            reference=str(resource.get("out_trade_no") or "")[:64],
            transaction_id=str(resource.get("transaction_id") or "")[:64],
            amount=_fen(total, "amount.total") if total is not None else None,
            currency=str(amount.get("currency") or "CNY")[:3].upper(),
            status=state[:24],
            paid=not refund and state in PAID_STATES,
            paid_at=_time(resource.get("success_time"), "success_time"),
            kind="refund" if refund else "payment",
            details={"event_type": event_type, "payer_total": amount.get("payer_total"),
                     "refund_id": resource.get("refund_id"), "out_refund_no": resource.get("out_refund_no")},
        )

    def _decrypt(self, config: Mapping[str, Any], resource: Mapping[str, Any], notice_id: str) -> dict[str, Any]:
        if resource.get("algorithm") != ALGORITHM:
            raise NoticeRefused(f"resource.algorithm is not {ALGORITHM}", http_status=400, notice_id=notice_id)
        try:
            ciphertext = base64.b64decode(str(resource.get("ciphertext") or ""), validate=True)
            nonce = str(resource.get("nonce") or "").encode("utf-8")
            associated = str(resource.get("associated_data") or "").encode("utf-8")
            plain = AESGCM(str(config["api_v3_key"]).encode("utf-8")).decrypt(nonce, ciphertext, associated)
        except (binascii.Error, ValueError, InvalidTag, KeyError):
            raise NoticeRefused("resource does not decrypt with this account's API v3 key", http_status=400,
                                notice_id=notice_id) from None
        try:
            data = wire.load_json(plain)
        except PayloadError:
            raise NoticeRefused("decrypted resource is not JSON", http_status=400, notice_id=notice_id) from None
        if not isinstance(data, dict):
            raise NoticeRefused("decrypted resource is not an object", http_status=400, notice_id=notice_id)
        return data

    # ------------------------------------------------------------------ answers

    def reply(self, http_status: int, message: str) -> tuple[str, bytes]:
        if 200 <= http_status < 300:
            return "text/plain", b""
        return "application/json", json.dumps({"code": "FAIL", "message": message[:64] or "FAIL"},
                                              ensure_ascii=False).encode("utf-8")
