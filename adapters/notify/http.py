"""The one HTTP client the group robots share, and reading their ``{"errcode", "errmsg"}`` answers.

    response = await post_json(url, body)          # NotifyFailed(retryable=True) on timeouts, refusals and 5xx
    errcode, errmsg = answer_of(response)          # NotifyFailed(retryable=False) when the body is not theirs
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from domain.notifications.ports import NotifyFailed

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
_client: httpx.AsyncClient | None = None
_loop: asyncio.AbstractEventLoop | None = None


def client() -> httpx.AsyncClient:
    """The shared client of this event loop (a new loop, as in each test, gets its own)."""
    global _client, _loop
    loop = asyncio.get_running_loop()
    if _client is None or _client.is_closed or _loop is not loop:
        _loop = loop
        _client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False,
                                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                                    headers={"user-agent": "OrderGraph-Notify/1"})
    return _client


async def aclose() -> None:
    global _client
    if _client is not None and _loop is asyncio.get_running_loop():
        await _client.aclose()
    _client = None


async def post_json(url: str, body: dict[str, Any], *, where: str) -> httpx.Response:
    """POST ``body``; a failure to get a 2xx answer is a retryable ``NotifyFailed`` naming ``where`` (no secrets)."""
    try:
        response = await client().post(url, content=json.dumps(body, ensure_ascii=False).encode(),
                                        headers={"content-type": "application/json; charset=utf-8"})
    except httpx.TimeoutException:
        raise NotifyFailed(f"{where}: timed out", retryable=True) from None
    except httpx.HTTPError as error:
        raise NotifyFailed(f"{where}: {type(error).__name__}", retryable=True) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise NotifyFailed(f"{where}: HTTP {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise NotifyFailed(f"{where}: HTTP {response.status_code}", retryable=False)
    return response


def answer_of(response: httpx.Response, *, where: str) -> tuple[int, str]:
    """``(errcode, errmsg)`` of a robot's answer."""
    try:
        data = response.json()
    except ValueError:
        raise NotifyFailed(f"{where}: the answer is not JSON", retryable=True) from None
    if not isinstance(data, dict) or not isinstance(data.get("errcode"), int):
        raise NotifyFailed(f"{where}: the answer has no errcode", retryable=True)
    return data["errcode"], str(data.get("errmsg") or "")[:200]


def utf8_cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, on a character boundary, marked with an ellipsis."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"
