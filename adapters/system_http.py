"""HTTP to a merchant's ERP or WMS: explicit timeouts, retries for idempotent calls, one breaker per system, evidence.

    client = SystemClient("wms", "https://wms.example.com/router/qimen/service", key="t7:qimen-sh", timeout=5)
    response = await client.send("inventory.query", "POST", body=xml, headers=..., idempotent=True,
                                 trace=trace, redact=redact_xml)

- one ``httpx.AsyncClient`` per base URL, shared by every call to it;
- a call marked ``idempotent`` (queries, and pushes the other side de-duplicates
  by our code) is retried on timeouts, connection errors and 5xx, with
  exponential backoff and jitter; others are sent once;
- one circuit breaker per ``key`` (tenant and connection, via ``purgatory``):
  after ``BREAKER_THRESHOLD`` consecutive failures calls fail at once for
  ``BREAKER_TTL`` seconds, then one probe decides;
- every attempt leaves a redacted :class:`~domain.federation.ports.Exchange`
  in ``trace``, and a call that cannot get an answer raises
  :class:`~domain.federation.ports.SystemUnavailable`.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from domain.federation.ports import Exchange, SystemUnavailable
from domain.masking import mask_address, mask_name, mask_phone

BREAKER_THRESHOLD = 5
BREAKER_TTL = 30.0
#: Bodies kept as evidence are cut here: evidence, not an archive.
MAX_EVIDENCE = 8000

_clients: dict[str, httpx.AsyncClient] = {}
_breakers = AsyncCircuitBreakerFactory(default_threshold=BREAKER_THRESHOLD, default_ttl=BREAKER_TTL)


class _ServerError(Exception):
    """A 5xx answer: counts against the breaker and may be retried."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def client_for(base_url: str, timeout: float) -> httpx.AsyncClient:
    client = _clients.get(base_url)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
                                   limits=httpx.Limits(max_connections=20))
        _clients[base_url] = client
    return client


async def aclose() -> None:
    """Close every shared client (at shutdown)."""
    for client in list(_clients.values()):
        await client.aclose()
    _clients.clear()


def _cut(text: str) -> str:
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE] + f"… [{len(text)} characters]"


class SystemClient:
    """Calls to one outside system (see the module docstring)."""

    def __init__(self, system: str, base_url: str, *, key: str, timeout: float = 5.0, retries: int = 2,
                 backoff: float = 0.2) -> None:
        self.system = system
        self.base_url = base_url
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    async def send(self, operation: str, method: str, path: str = "", *, body: bytes | None = None,
                   headers: Mapping[str, str] | None = None, params: Mapping[str, str] | None = None,
                   idempotent: bool, trace: list[Exchange],
                   redact: Callable[[str], str] = lambda text: text,
                   shown_url: str | None = None) -> httpx.Response:
        """The answer (2xx-4xx) or ``SystemUnavailable``; ``shown_url`` replaces a URL that carries secrets."""
        attempts = 1 + (self.retries if idempotent else 0)
        full_url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}" if path else self.base_url
        url_for_evidence = shown_url or full_url
        request_text = redact(body.decode("utf-8", "replace")) if body else ""
        last_error = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1) * (0.5 + random.random()))
            started = time.perf_counter()
            try:
                breaker = await _breakers.get_breaker(self.key)
                async with breaker:
                    response = await client_for(self.base_url, self.timeout).request(
                        method, path or self.base_url, content=body, headers=headers, params=params)
                    if response.status_code >= 500:
                        raise _ServerError(response)
            except OpenedState:
                last_error = f"circuit open: {self.system} failed {BREAKER_THRESHOLD} times in a row; "\
                             f"calls resume after {BREAKER_TTL:.0f} s"
                trace.append(self._exchange(operation, method, url_for_evidence, request_text, None, "",
                                            "unreachable", started, last_error))
                break
            except _ServerError as error:
                last_error = f"HTTP {error.response.status_code}"
                trace.append(self._exchange(operation, method, url_for_evidence, request_text,
                                            error.response.status_code, redact(error.response.text), "error",
                                            started, last_error))
                continue
            except httpx.TimeoutException:
                last_error = f"no answer within {self.timeout:g} s"
                trace.append(self._exchange(operation, method, url_for_evidence, request_text, None, "", "timeout",
                                            started, last_error))
                continue
            except httpx.TransportError as error:
                last_error = f"cannot reach {self.system}: {type(error).__name__}"
                trace.append(self._exchange(operation, method, url_for_evidence, request_text, None, "",
                                            "unreachable", started, last_error))
                continue
            trace.append(self._exchange(operation, method, url_for_evidence, request_text, response.status_code,
                                        redact(response.text), "ok" if response.status_code < 400 else "error",
                                        started, "" if response.status_code < 400 else f"HTTP {response.status_code}"))
            return response
        raise SystemUnavailable(f"{self.system} {operation}: {last_error}", code="UNAVAILABLE")

    def _exchange(self, operation: str, method: str, url: str, request: str, status: int | None, response: str,
                  outcome: str, started: float, error: str) -> Exchange:
        return Exchange(system=self.system, operation=operation, method=method, url=url[:500],
                        request_body=_cut(request), status_code=status, response_body=_cut(response),
                        outcome=outcome, elapsed_ms=round((time.perf_counter() - started) * 1000, 2), error=error[:500])


# ------------------------------------------------------------------ redaction

#: What a value is, by the name of the field that holds it (lower-cased, without _ or -).
_PERSONAL = {
    "name": mask_name, "receivername": mask_name, "contactname": mask_name, "consignee": mask_name,
    "mobile": mask_phone, "phone": mask_phone, "tel": mask_phone, "receivermobile": mask_phone,
    "receiverphone": mask_phone, "contacttel": mask_phone, "fmobile": mask_phone,
    "detailaddress": mask_address, "address": mask_address, "receiveraddress": mask_address,
    "faddress": mask_address, "street": mask_address,
}
_SECRET = {"sign", "secret", "appsecret", "password", "accesstoken", "token", "session", "acctid", "lcid"}


def _kind(key: str) -> str:
    return re.sub(r"[_\-]", "", key.lower())


def redact_value(key: str, value: Any) -> Any:
    kind = _kind(key)
    if kind in _SECRET:
        return "***"
    masker = _PERSONAL.get(kind)
    if masker is not None and isinstance(value, str):
        return masker(value)
    return value


def redact_json(text: str) -> str:
    """A JSON body with personal values masked and secrets starred, walking every object; non-JSON comes back as is."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    except RecursionError:
        return "[body nested too deeply to show]"

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(redact_value(key, value)) if not isinstance(value, (dict, list)) else walk(value)
                    for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    try:
        return json.dumps(walk(data), ensure_ascii=False)
    except RecursionError:
        return "[body nested too deeply to show]"


def redact_xml(text: str) -> str:
    """An XML body with the text of personal and secret elements masked (``<mobile>138****1234</mobile>``)."""
    def element(match: re.Match[str]) -> str:
        tag, inner = match.group(1), match.group(2)
        return f"<{tag}>{redact_value(tag, inner)}</{tag}>"

    return re.sub(r"<([A-Za-z_][\w\-]*)>([^<]*)</\1>", element, text)
