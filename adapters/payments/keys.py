"""Reading the gateways' public keys and certificates, and checking an RSA-SHA256 signature with them.

Gateways hand merchants their keys in different shapes: WeChat Pay a PEM
X.509 platform certificate (or, newer, a PEM public key with an id), Alipay
its public key as PEM or as the bare base64 of the DER ``SubjectPublicKeyInfo``.

    key = public_key("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA…")
    verify_sha256_rsa(key, b"message", "base64-signature")      # True / False
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

PublicKey = rsa.RSAPublicKey


def public_key(text: str) -> PublicKey:
    """An RSA public key from PEM or bare base64 DER; ``ValueError`` when it is neither (or not RSA)."""
    cleaned = (text or "").strip()
    try:
        if cleaned.startswith("-----BEGIN"):
            key = load_pem_public_key(cleaned.encode("ascii"))
        else:
            key = load_der_public_key(base64.b64decode("".join(cleaned.split()), validate=True))
    except (ValueError, TypeError, binascii.Error, UnicodeError) as exc:
        raise ValueError("not a public key in PEM or base64 DER") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the public key is not an RSA key")
    return key


def certificate(text: str) -> x509.Certificate:
    """A PEM X.509 certificate holding an RSA key; ``ValueError`` otherwise."""
    try:
        cert = x509.load_pem_x509_certificate((text or "").strip().encode("ascii"))
    except (ValueError, UnicodeError) as exc:
        raise ValueError("not a PEM X.509 certificate") from exc
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not an RSA key")
    return cert


def serial_hex(cert: x509.Certificate) -> str:
    """The serial number as WeChat Pay names it in ``Wechatpay-Serial``: upper-case hex."""
    return format(cert.serial_number, "X")


def valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now.astimezone(UTC) <= cert.not_valid_after_utc


def verify_sha256_rsa(key: PublicKey, message: bytes, signature_b64: str) -> bool:
    """SHA256withRSA (PKCS#1 v1.5) of ``message`` under ``key`` is the base64 ``signature_b64``."""
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
