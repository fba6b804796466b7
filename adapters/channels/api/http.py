"""One round trip to a platform's open API, with every failure turned into the port's errors.

    target = account("pinduoduo", config, token_key="access_token", default_url=DEFAULT_URL,
                     sign_methods=("md5",))
    answer = await call(target, "POST", "/api/router", data=form)      # decoded JSON
    # 429 -> Throttled(retry_after from Retry-After), timeout/5xx -> ApiUnavailable,
    # 4xx -> ApiRefused, not JSON -> ApiUnavailable

Messages never hold the URL's query (tokens travel there) or the body.
Clients are shared per (gateway, timeout) and event loop, as the receiver
decryption clients are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from adapters import wire
from adapters.channels.decryption.transport import Account, Clients
from domain.contacts.ports import DecryptRefused
from domain.inbound.normalized import PayloadError
from domain.inbound.channel_api import ApiRefused, ApiUnavailable, Throttled
from adapters.channels.decryption import transport

#: The HTTP clients every pull API shares: one per gateway (and event loop).
CLIENTS = Clients()
#: The longest wait a platform may ask for before we give the window up to the next run.
MAX_RETRY_AFTER = 120.0


def account(platform: str, config: Mapping[str, Any], *, token_key: str, default_url: str,
            sign_methods: tuple[str, ...]) -> Account:
    """The shop's account from ``config`` (the channel's ``config["api"]``); :class:`ApiRefused` naming a bad key."""
    try:
        return transport.account(platform, config, token_key=token_key, default_url=default_url,
                                 sign_methods=sign_methods)
    except DecryptRefused as error:
        raise ApiRefused(f"{platform}: {error.message}", code="NOT_CONFIGURED") from None


def retry_after(headers: Mapping[str, str], default: float = 1.0) -> float:
    """Seconds from a ``Retry-After`` header (seconds only; dates are rare from APIs), bounded."""
    value = headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        seconds = default
    return min(max(seconds, 0.1), MAX_RETRY_AFTER)


async def send(target: Account, method: str, path: str, **request: Any) -> httpx.Response:
    """The raw answer of a 2xx call; throttling, transport and HTTP errors raised as the port's errors."""
    client = CLIENTS.get(target.base_url, target.timeout)
    try:
        response = await client.request(method, path, **request)
    except httpx.TimeoutException:
        raise ApiUnavailable(f"no answer within {target.timeout:g} s", code="TIMEOUT") from None
    except httpx.HTTPError as error:
        raise ApiUnavailable(f"could not reach the platform ({type(error).__name__})", code="UNREACHABLE") from None
    status = response.status_code
    if status == 429:
        raise Throttled("the platform asked us to slow down (HTTP 429)", retry_after=retry_after(response.headers),
                        code="HTTP_429")
    if status >= 500:
        raise ApiUnavailable(f"the platform answered HTTP {status}", code=f"HTTP_{status}")
    if status >= 400:
        raise ApiRefused(f"the platform answered HTTP {status}", code=f"HTTP_{status}")
    return response


async def call(target: Account, method: str, path: str, **request: Any) -> Any:
    """:func:`send`, then the body decoded exactly as JSON (big ids stay ints)."""
    response = await send(target, method, path, **request)
    try:
        return wire.load_json(response.content)
    except PayloadError:
        raise ApiUnavailable("the platform's answer is not JSON", code="BAD_RESPONSE") from None


async def aclose() -> None:
    """Close this loop's clients (application shutdown, the end of a test)."""
    await CLIENTS.aclose()
