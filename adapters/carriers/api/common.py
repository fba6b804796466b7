"""What the tracking provider clients share: reading the account config, one round trip, the carrier's code.

    target = account("kuaidi100", config, DEFAULT_URL, required=("key", "customer"))
    response = await request(target, "POST", "/poll", data=form)   # any HTTP answer below 500 but 429
    code = company_code("kuaidi100", "SF")                        # "shunfeng", or ApiRefused UNSUPPORTED_CARRIER

Transport trouble is :class:`ApiUnavailable`, HTTP 429 is :class:`Throttled`
(``Retry-After`` honoured) and 5xx is :class:`ApiUnavailable`; other answers
come back as they are, since each provider says yes or no in its own body.
The HTTP clients are the channel pull APIs' (:mod:`adapters.channels.api.http`):
one per (gateway, timeout) and event loop, closed by its ``aclose``.
Messages hold neither URLs' queries nor bodies nor credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from adapters import wire
from adapters.carriers.api.codes import company
from adapters.channels.api import http
from domain.inbound.normalized import PayloadError
from domain.inbound.tracking_api import NOT_CONFIGURED, UNSUPPORTED_CARRIER, ApiRefused, ApiUnavailable, Throttled

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where one account's provider API is, and the account's settings (credentials included: never printed)."""

    provider: str
    base_url: str
    timeout: float
    settings: Mapping[str, str]

    def __repr__(self) -> str:
        return f"Target(provider={self.provider!r}, base_url={self.base_url!r})"

    def __getitem__(self, key: str) -> str:
        return self.settings.get(key, "")


def account(provider: str, config: Mapping[str, Any], default_url: str, *, required: tuple[str, ...],
            defaults: Mapping[str, str] | None = None) -> Target:
    """Read an account's ``config``; :class:`ApiRefused` (``NOT_CONFIGURED``) names the first missing key."""
    settings = {key: value.strip() for key, value in (defaults or {}).items() if isinstance(value, str)}
    settings.update({key: str(value).strip() for key, value in config.items()
                     if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip()})
    for key in required:
        if not settings.get(key):
            raise ApiRefused(f"{provider}: carrier account config.{key} is missing", code=NOT_CONFIGURED)
    base_url = (settings.get("base_url") or default_url).rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise ApiRefused(f"{provider}: config.base_url must be an http(s) URL", code=NOT_CONFIGURED)
    timeout = config.get("timeout_seconds", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT:
        raise ApiRefused(f"{provider}: config.timeout_seconds must be a number in (0, {MAX_TIMEOUT:g}]",
                         code=NOT_CONFIGURED)
    return Target(provider, base_url, float(timeout), settings)


def company_code(provider: str, carrier: str) -> str:
    """The provider's code for the carrier; :class:`ApiRefused` (``UNSUPPORTED_CARRIER``) when it has none."""
    code = company(provider, carrier)
    if not code:
        raise ApiRefused(f"{provider} has no company code for carrier {carrier!r}", code=UNSUPPORTED_CARRIER)
    return code


async def request(target: Target, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call; see the module doc for what is raised and what is returned."""
    client = http.CLIENTS.get(target.base_url, target.timeout)
    try:
        response = await client.request(method, path, **kwargs)
    except httpx.PoolTimeout:  # no free connection for a whole timeout: the pool may be broken, start afresh
        http.CLIENTS.discard(target.base_url, target.timeout)
        raise ApiUnavailable(f"{target.provider}: no connection free within {target.timeout:g} s", code="TIMEOUT") from None
    except httpx.TimeoutException:
        raise ApiUnavailable(f"{target.provider}: no answer within {target.timeout:g} s", code="TIMEOUT") from None
    except httpx.HTTPError as error:
        raise ApiUnavailable(f"{target.provider}: could not reach the API ({type(error).__name__})",
                             code="UNREACHABLE") from None
    if response.status_code == 429:
        raise Throttled(f"{target.provider} asked us to slow down (HTTP 429)",
                        retry_after=http.retry_after(response.headers), code="HTTP_429")
    if response.status_code >= 500:
        raise ApiUnavailable(f"{target.provider} answered HTTP {response.status_code}",
                             code=f"HTTP_{response.status_code}")
    return response


def json_answer(target: Target, response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; anything else is :class:`ApiUnavailable` (a gateway page, a truncated body)."""
    try:
        body = wire.load_json(response.content)
    except PayloadError:
        body = None
    if not isinstance(body, dict):
        raise ApiUnavailable(f"{target.provider}'s answer (HTTP {response.status_code}) is not a JSON object",
                             code="BAD_RESPONSE")
    return body


def short(value: object, limit: int = 200) -> str:
    """A provider's message, bounded, for an error text."""
    return str(value or "")[:limit]
