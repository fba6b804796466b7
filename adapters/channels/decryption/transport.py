"""Reaching a platform's open API: the channel's account settings, one client per target, errors as refusals.

Account settings live in the channel's ``config["api"]``::

    {"app_key": "...", "app_secret": "...", "session": "..."}        # Taobao (TOP session key)
    {"app_key": "...", "app_secret": "...", "access_token": "..."}   # Pinduoduo (client_id/secret), Douyin

plus, optionally, ``base_url`` (the gateway's scheme and host; a simulator
in development), ``sign_method`` and ``timeout_seconds`` (5). A missing
key is refused naming it. Every network failure becomes a
:class:`~domain.contacts.DecryptRefused` whose message holds no URL (Douyin
and Pinduoduo carry the access token in it) and no personal data.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from adapters import wire
from domain.contacts.ports import DecryptRefused
from domain.inbound.normalized import PayloadError

DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Account:
    """One shop's credentials with one platform, and where its gateway is."""

    app_key: str
    app_secret: str
    token: str
    base_url: str
    sign_method: str
    timeout: float

    def __repr__(self) -> str:  # never the secret or the token
        return f"Account(app_key={self.app_key!r}, base_url={self.base_url!r})"


def account(platform: str, config: Mapping[str, Any], *, token_key: str, default_url: str,
            sign_methods: tuple[str, ...]) -> Account:
    """Read ``config["api"]`` for ``platform``; refuse (``NOT_CONFIGURED``) naming the first bad key."""
    def text(key: str) -> str:
        value = config.get(key)
        return value.strip() if isinstance(value, str) else ""

    for key in ("app_key", "app_secret", token_key):
        if not text(key):
            raise DecryptRefused(platform, "NOT_CONFIGURED", f"channel config api.{key} is missing",
                                 field=f"config.api.{key}")
    sign_method = text("sign_method") or sign_methods[0]
    if sign_method not in sign_methods:
        raise DecryptRefused(platform, "NOT_CONFIGURED", f"api.sign_method is one of {', '.join(sign_methods)}",
                             field="config.api.sign_method")
    base_url = (text("base_url") or default_url).rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise DecryptRefused(platform, "NOT_CONFIGURED", "api.base_url must be an http(s) URL", field="config.api.base_url")
    timeout = config.get("timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise DecryptRefused(platform, "NOT_CONFIGURED", f"api.timeout_seconds must be a number in (0, {MAX_TIMEOUT:g}]",
                             field="config.api.timeout_seconds")
    return Account(text("app_key"), text("app_secret"), text(token_key), base_url, sign_method, float(timeout))


class Clients:
    """One ``httpx.AsyncClient`` per (gateway, timeout), kept per event loop (a client cannot outlive its loop)."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, float], httpx.AsyncClient]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, base_url: str, timeout: float) -> httpx.AsyncClient:
        clients = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        key = (base_url, timeout)
        client = clients.get(key)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                base_url=base_url,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
                # keep every connection alive: a poller at concurrency 16 would otherwise reconnect on each call
                limits=httpx.Limits(max_connections=20, max_keepalive_connections=20),
                follow_redirects=False,
                headers={"user-agent": "OrderGraph/0.1"},
            )
            clients[key] = client
        return client

    def discard(self, base_url: str, timeout: float) -> None:
        """Forget this loop's client for the gateway, so the next call gets a fresh one — after a pool timeout:
        httpcore 1.0.9 can leave a pool's slots taken for ever by a cancelled request (encode/httpcore#1093)."""
        client = self._by_loop.get(asyncio.get_running_loop(), {}).pop((base_url, timeout), None)
        if client is not None:
            closing = asyncio.get_running_loop().create_task(client.aclose())
            closing.add_done_callback(lambda task: task.cancelled() or task.exception())

    async def aclose(self) -> None:
        """Close this loop's clients (at shutdown, or at the end of a test)."""
        clients = self._by_loop.pop(asyncio.get_running_loop(), {})
        await asyncio.gather(*(client.aclose() for client in clients.values()))


async def post_json(clients: Clients, platform: str, target: Account, path: str, **request: Any) -> Any:
    """POST to ``target.base_url + path`` and decode the JSON answer exactly; transport trouble is a refusal."""
    client = clients.get(target.base_url, target.timeout)
    try:
        response = await client.post(path, **request)
    except httpx.TimeoutException:
        raise DecryptRefused(platform, "TIMEOUT", f"no answer within {target.timeout:g} s", retryable=True) from None
    except httpx.HTTPError as error:
        raise DecryptRefused(platform, "UNREACHABLE", f"could not reach the gateway ({type(error).__name__})",
                             retryable=True) from None
    if response.status_code != 200:
        raise DecryptRefused(platform, f"HTTP_{response.status_code}", "the gateway answered with an HTTP error",
                             retryable=response.status_code >= 500)
    try:
        return wire.load_json(response.content)
    except PayloadError:
        raise DecryptRefused(platform, "BAD_RESPONSE", "the answer is not JSON") from None


def bad_answer(platform: str, error: PayloadError) -> DecryptRefused:
    """A refusal for an answer that does not have the documented shape: the path only, never the value."""
    return DecryptRefused(platform, "BAD_RESPONSE", f"unexpected answer at {error.field or '$'}")
