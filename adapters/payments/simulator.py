"""A stand-in for the gateways' side: sign and encrypt notices exactly as WeChat Pay v3 and Alipay do.

For tests and demos, with keys made on the spot (``GatewayKeys.generate()``):
the notices go to ``POST /hooks/{tenant}/pay/{gateway}`` over real HTTP.

    keys = GatewayKeys.generate()
    body, headers = wechat_notice(keys, {"out_trade_no": "OG1", "transaction_id": "42000…", "trade_state": "SUCCESS",
                                         "amount": {"total": 11800, "currency": "CNY"}}, notice_id="EV-1")
    form = alipay_notice(keys, {"notify_id": "n1", "out_trade_no": "OG1", "trade_no": "2026…",
                                "trade_status": "TRADE_SUCCESS", "total_amount": "118.00"})
    keys.wechat_config() / keys.alipay_config()       # what the merchant saves with savePaymentGateway
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from adapters.payments.alipay import signed_text
from adapters.wire import CHINA_TZ as CHINA


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def self_signed(key: rsa.RSAPrivateKey, *, serial: int | None = None, days: int = 365,
                common_name: str = "Tenpay.com Root CA test platform") -> x509.Certificate:
    """A platform certificate like WeChat Pay's, signed by its own key."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=days))
            .sign(key, hashes.SHA256()))


@dataclass
class GatewayKeys:
    """The gateways' private keys (theirs, never the merchant's) and the merchant's API v3 key."""

    wechat_key: rsa.RSAPrivateKey
    wechat_cert: x509.Certificate
    api_v3_key: str
    alipay_key: rsa.RSAPrivateKey
    mchid: str = "1900000109"
    app_id: str = "2021000000000001"

    @classmethod
    def generate(cls) -> GatewayKeys:
        wechat = _rsa()
        return cls(wechat_key=wechat, wechat_cert=self_signed(wechat), api_v3_key=secrets.token_hex(16),
                   alipay_key=_rsa())

    @property
    def serial(self) -> str:
        return format(self.wechat_cert.serial_number, "X")

    def wechat_config(self) -> dict[str, Any]:
        pem = self.wechat_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
        return {"mchid": self.mchid, "api_v3_key": self.api_v3_key, "platform_certificate": pem}

    def alipay_config(self, *, bare: bool = True) -> dict[str, Any]:
        """Alipay's public key as the open platform shows it (bare base64) or as PEM."""
        pem = _public_pem(self.alipay_key)
        key = "".join(line for line in pem.splitlines() if "-----" not in line) if bare else pem
        return {"app_id": self.app_id, "alipay_public_key": key}


def encrypt_resource(api_v3_key: str, plain: dict[str, Any], *, associated_data: str = "transaction") -> dict[str, Any]:
    """``resource`` as WeChat Pay sends it: AEAD_AES_256_GCM under the API v3 key, 12-character nonce."""
    nonce = secrets.token_hex(6)
    data = json.dumps(plain, ensure_ascii=False).encode("utf-8")
    ciphertext = AESGCM(api_v3_key.encode("utf-8")).encrypt(nonce.encode("ascii"), data, associated_data.encode())
    return {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(ciphertext).decode("ascii"), "associated_data": associated_data,
            "nonce": nonce}


def wechat_sign(key: rsa.RSAPrivateKey, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def wechat_notice(keys: GatewayKeys, transaction: dict[str, Any], *, notice_id: str | None = None,
                  event_type: str = "TRANSACTION.SUCCESS", timestamp: int | None = None,
                  api_v3_key: str | None = None, signing_key: rsa.RSAPrivateKey | None = None) -> tuple[bytes, dict[str, str]]:
    """A signed payment notice (body, headers); the overrides make the wrong ones tests need."""
    transaction = {"mchid": keys.mchid, "appid": "wxd678efh567hg6787", "trade_type": "JSAPI",
                   "success_time": datetime.now(CHINA).isoformat(timespec="seconds"), **transaction}
    envelope = {"id": notice_id or f"EV-{secrets.token_hex(8)}", "create_time": datetime.now(UTC).isoformat(timespec="seconds"),
                "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
                "resource": encrypt_resource(api_v3_key or keys.api_v3_key, transaction)}
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = base64.b32encode(os.urandom(20)).decode("ascii")
    headers = {"Wechatpay-Serial": keys.serial, "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
               "Wechatpay-Signature": wechat_sign(signing_key or keys.wechat_key, stamp, nonce, body),
               "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048", "Content-Type": "application/json"}
    return body, headers


def alipay_notice(keys: GatewayKeys, params: dict[str, str], *, signing_key: rsa.RSAPrivateKey | None = None) -> bytes:
    """A signed async notify, form-encoded as Alipay posts it."""
    now = datetime.now(UTC) + timedelta(hours=8)
    full = {"notify_time": now.strftime("%Y-%m-%d %H:%M:%S"), "notify_type": "trade_status_sync",
            "app_id": keys.app_id, "charset": "utf-8", "version": "1.0",
            "gmt_payment": now.strftime("%Y-%m-%d %H:%M:%S"), **params}
    text = signed_text(full).encode(full["charset"])
    full["sign"] = base64.b64encode((signing_key or keys.alipay_key).sign(text, padding.PKCS1v15(), hashes.SHA256())).decode()
    full["sign_type"] = "RSA2"
    return urlencode(full).encode("ascii")
