"""Inbound webhook endpoints: sales channels and tracking providers.

    POST /hooks/{tenant}/{channel}              a channel's native order payload
    POST /hooks/{tenant}/carrier/{provider}     kdniao | kuaidi100 | aftership tracking pushes
    POST /hooks/{tenant}/wms/{warehouse}        a WMS's callbacks for one warehouse (by our warehouse code):
                                                Qimen deliveryorder.confirm / stockchange.report, or a REST WMS's

Answers are JSON with a clear ``reason`` (carriers and WMSs get their own
reply format). A bad signature is answered 401 and only counted; anything else
that cannot be applied is kept in the quarantine (see ``domain.inbound.pipeline``).
The wire formats come from ``adapters.formats``; the domain applies.
Tenants, channels and carrier accounts are cached per worker for
``hook_cache_seconds`` (a change made through this worker is seen at once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.formats import FORMATS
from adapters.systems import SYSTEMS
from api.settings import Settings
from domain.inbound.pipeline import Answer
from domain.intake import sources as intake_sources
from domain.federation.wms_callbacks import receive_wms_callback
from domain.intake.receive import receive_channel
from domain.tracking.receive import receive_carrier
from models import CarrierAccount, Channel, Tenant

log = logging.getLogger("ordergraph.hooks")

HOOK_DELIVERIES = Counter(
    "ordergraph_hook_deliveries_total", "Inbound webhook deliveries by kind, source kind and outcome",
    ["kind", "source", "outcome"],
)
HOOK_SIGNATURE_FAILURES = Counter(
    "ordergraph_hook_signature_failures_total", "Inbound webhooks refused for a missing or wrong signature",
    ["kind", "source"],
)

T = TypeVar("T")


class TtlCache:
    """Positive lookups only, keyed with the source generation so local changes show at once."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[Any, ...], tuple[float, int, Any]] = {}

    async def get(self, key: tuple[Any, ...], load: Callable[[], Awaitable[T | None]]) -> T | None:
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit and now - hit[0] < self.ttl and hit[1] == intake_sources.generation:
            return hit[2]
        value = await load()
        if value is not None and self.ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (now, intake_sources.generation, value)
        return value


class Hooks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = TtlCache(settings.hook_cache_seconds)

    def routes(self) -> list[Route]:
        return [
            Route("/{tenant}/carrier/{provider}", self.carrier, methods=["POST"]),
            Route("/{tenant}/wms/{warehouse}", self.wms, methods=["POST"]),
            Route("/{tenant}/{channel}", self.channel, methods=["POST"]),
        ]

    async def _tenant_id(self, slug: str) -> int | None:
        async def load() -> int | None:
            return await Tenant.filter(slug=slug).first().values_list("id", flat=True)  # type: ignore[return-value]

        return await self.cache.get(("tenant", slug), load)

    async def _body(self, request: Request) -> bytes | Response:
        declared = request.headers.get("content-length")
        limit = self.settings.hook_max_bytes
        if declared and declared.isdigit() and int(declared) > limit:
            return _error(413, "too_large", f"the body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return _error(413, "too_large", f"the body is larger than {limit} bytes")
        return b"".join(chunks)

    async def _tenant_and_body(self, request: Request, source: str) -> tuple[int, bytes] | Response:
        """The addressed tenant and the bounded body, or the refusal (unknown tenant, body too large)."""
        slug = request.path_params["tenant"]
        tenant_id = await self._tenant_id(slug)
        if tenant_id is None:
            HOOK_DELIVERIES.labels(source, "unknown", "unknown_tenant").inc()
            return _error(404, "unknown_tenant", f"no tenant {slug!r}")
        body = await self._body(request)
        return body if isinstance(body, Response) else (tenant_id, body)

    async def channel(self, request: Request) -> Response:
        code = request.path_params["channel"]
        received = await self._tenant_and_body(request, "channel")
        if isinstance(received, Response):
            return received
        tenant_id, body = received

        async def load() -> Channel | None:
            return await Channel.filter(tenant_id=tenant_id, code=code).first()

        channel = await self.cache.get(("channel", tenant_id, code), load)
        answer = await receive_channel(
            tenant_id, code, channel, body, request.headers, formats=FORMATS,
            tolerance=self.settings.webhook_tolerance_seconds, mapping_max_age=self.settings.hook_cache_seconds,
        )
        return self._respond("channel", channel.kind if channel else "unknown", answer)

    async def carrier(self, request: Request) -> Response:
        provider = request.path_params["provider"]
        received = await self._tenant_and_body(request, "carrier")
        if isinstance(received, Response):
            return received
        tenant_id, body = received

        async def load() -> CarrierAccount | None:
            return await CarrierAccount.filter(tenant_id=tenant_id, provider=provider).first()

        account = await self.cache.get(("carrier", tenant_id, provider), load)
        answer = await receive_carrier(tenant_id, provider, account, body, request.headers, formats=FORMATS,
                                       mapping_max_age=self.settings.hook_cache_seconds)
        label = provider if provider in intake_sources.CARRIER_PROVIDERS else "unknown"
        return self._respond("carrier", label, answer)

    async def wms(self, request: Request) -> Response:
        received = await self._tenant_and_body(request, "wms")
        if isinstance(received, Response):
            return received
        tenant_id, body = received
        answer = await receive_wms_callback(tenant_id, request.path_params["warehouse"], body, request.headers,
                                            request.query_params, systems=SYSTEMS)
        return self._respond("wms", "wms", answer)

    @staticmethod
    def _respond(kind: str, source: str, answer: Answer) -> Response:
        if answer.outcome == "unauthorized":
            HOOK_SIGNATURE_FAILURES.labels(kind, source).inc()
        HOOK_DELIVERIES.labels(kind, source, answer.outcome).inc()
        if answer.http_status >= 400:
            log.info("hook %s/%s refused: %s %s", kind, source, answer.http_status, answer.outcome)
        if answer.raw is not None:
            return Response(answer.raw, status_code=answer.http_status, media_type=answer.content_type)
        return JSONResponse(answer.body, status_code=answer.http_status)


def _error(status: int, code: str, reason: str) -> JSONResponse:
    return JSONResponse({"status": "refused", "error": code, "reason": reason}, status_code=status)
