"""Signed cookies: who may see which orders (no database needed to check), and CSRF tokens.

The session cookie carries only ids (customers, orders) and an expiry, signed
with a key derived for that purpose; nothing personal, not even a phone hash.
CSRF uses a random cookie and a per-response masked form token (the mask
changes every page, so compressed pages do not leak it, BREACH-style).
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import time

from starlette.requests import Request
from starlette.responses import Response

from domain.tracking.customer_view import Scope
from domain.tracking.links import derive_key, mac

SESSION_DAYS = 7
CSRF_COOKIE = "og_csrf"
COOKIE_PATH = "/track"
MAX_CUSTOMERS = 10
MAX_ORDERS = 40


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secure_cookies(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


class Sessions:
    def __init__(self, secret: str, *, days: int = SESSION_DAYS) -> None:
        self.key = derive_key(secret, "session")
        self.csrf_key = derive_key(secret, "csrf")
        self.lifetime = days * 86400

    @staticmethod
    def cookie_name(tenant_id: int) -> str:
        return f"og_trk_{tenant_id}"

    def read(self, request: Request, tenant_id: int) -> Scope | None:
        raw = request.cookies.get(self.cookie_name(tenant_id), "")
        payload, _, signature = raw.partition(".")
        if not payload or len(raw) > 2000:
            return None
        if not hmac.compare_digest(signature, mac(self.key, f"{tenant_id}|{payload}", 32)):
            return None
        try:
            data = json.loads(_unb64(payload))
            if data["e"] < time.time():
                return None
            return Scope(tenant_id, frozenset(int(c) for c in data["c"]), frozenset(int(o) for o in data["o"]))
        except (ValueError, KeyError, TypeError):
            return None

    def write(self, request: Request, response: Response, scope: Scope) -> None:
        data = {
            "c": sorted(scope.customer_ids)[-MAX_CUSTOMERS:],
            "o": sorted(scope.order_ids)[-MAX_ORDERS:],
            "e": int(time.time()) + self.lifetime,
        }
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        value = f"{payload}.{mac(self.key, f'{scope.tenant_id}|{payload}', 32)}"
        response.set_cookie(
            self.cookie_name(scope.tenant_id), value, max_age=self.lifetime, path=COOKIE_PATH,
            httponly=True, samesite="lax", secure=secure_cookies(request),
        )

    def clear(self, response: Response, tenant_id: int) -> None:
        response.delete_cookie(self.cookie_name(tenant_id), path=COOKIE_PATH)

    # CSRF -------------------------------------------------------------------

    def csrf_seed(self, request: Request) -> tuple[str, bool]:
        """This visitor's CSRF cookie value, and whether it is new (then the response must set it)."""
        value = request.cookies.get(CSRF_COOKIE, "")
        if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
            return value, False
        return secrets.token_urlsafe(18), True

    def set_csrf_cookie(self, request: Request, response: Response, seed: str) -> None:
        response.set_cookie(CSRF_COOKIE, seed, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure_cookies(request))

    def csrf_token(self, seed: str) -> str:
        """A fresh masking of the token bound to ``seed``."""
        real = hmac.new(self.csrf_key, seed.encode(), "sha256").digest()[:18]
        pad = secrets.token_bytes(18)
        return _b64(pad + bytes(a ^ b for a, b in zip(pad, real, strict=True)))

    def csrf_ok(self, request: Request, token: str) -> bool:
        """The form token matches this visitor's cookie, and the request did not come from another site."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            return False
        seed = request.cookies.get(CSRF_COOKIE, "")
        try:
            raw = _unb64(token)
        except (ValueError, TypeError):
            return False
        if not seed or len(raw) != 36:
            return False
        real = bytes(a ^ b for a, b in zip(raw[:18], raw[18:], strict=True))
        return hmac.compare_digest(real, hmac.new(self.csrf_key, seed.encode(), "sha256").digest()[:18])
