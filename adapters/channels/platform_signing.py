"""How Taobao (TOP), Pinduoduo and Douyin shop sign open-API requests; clients and the simulator share it.

* TOP: every system and business parameter except ``sign`` (empty ones
  skipped), sorted by name, concatenated as ``name + value``. ``sign_method``
  ``md5``: MD5(secret + text + secret); ``hmac``: HMAC-MD5(secret, text);
  ``hmac-sha256``: HMAC-SHA256(secret, text). Uppercase hex.
* Pinduoduo: the same concatenation; MD5(client_secret + text + client_secret), uppercase hex.
* Douyin shop: secret + ``app_key{k}method{m}param_json{json}timestamp{t}v{v}`` + secret,
  then HMAC-SHA256 keyed with the secret (``sign_method=hmac-sha256``) or MD5
  (``md5``); lowercase hex. ``param_json`` is the business parameters as
  compact JSON with sorted keys, signed byte for byte as sent.

    >>> pdd_sign({"type": "pdd.time.get", "client_id": "c", "timestamp": "1"}, "s")
    '333752C57A9B7A81162C78E488D2F876'
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from adapters import wire

TOP_SIGN_METHODS = ("md5", "hmac", "hmac-sha256")
DOUYIN_SIGN_METHODS = ("hmac-sha256", "md5")
DOUYIN_VERSION = "2"


def _concatenated(params: Mapping[str, str]) -> str:
    return "".join(f"{name}{value}" for name, value in sorted(params.items()) if name != "sign" and value not in ("", None))


def top_sign(params: Mapping[str, str], secret: str, sign_method: str) -> str:
    """The ``sign`` of a TOP request whose parameters (system and business) are ``params``."""
    text = _concatenated(params)
    if sign_method == "md5":
        digest = hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"sign_method is one of {', '.join(TOP_SIGN_METHODS)}")
    return digest.upper()


def top_timestamp(now: datetime) -> str:
    """TOP's ``timestamp``: ``yyyy-MM-dd HH:mm:ss`` in China time (the gateway allows 10 minutes of skew)."""
    return now.astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def pdd_sign(params: Mapping[str, str], client_secret: str) -> str:
    """The ``sign`` of a Pinduoduo request whose parameters (common and business) are ``params``."""
    return hashlib.md5(f"{client_secret}{_concatenated(params)}{client_secret}".encode()).hexdigest().upper()


def douyin_param_json(params: Mapping[str, object]) -> str:
    """Business parameters as Douyin signs them: compact JSON, keys sorted, non-ASCII kept."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def douyin_sign(*, app_key: str, app_secret: str, method: str, param_json: str, timestamp: str,
                v: str = DOUYIN_VERSION, sign_method: str = "hmac-sha256") -> str:
    """The ``sign`` of a Douyin shop open-API call."""
    pattern = f"{app_secret}app_key{app_key}method{method}param_json{param_json}timestamp{timestamp}v{v}{app_secret}"
    if sign_method == "hmac-sha256":
        return hmac.new(app_secret.encode(), pattern.encode(), hashlib.sha256).hexdigest()
    if sign_method == "md5":
        return hashlib.md5(pattern.encode()).hexdigest()
    raise ValueError(f"sign_method is one of {', '.join(DOUYIN_SIGN_METHODS)}")


def same(expected: str, received: str) -> bool:
    """Constant-time comparison of two signatures (case as the platform writes it)."""
    return hmac.compare_digest(expected.encode(), received.encode())
