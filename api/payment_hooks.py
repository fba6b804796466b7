"""Payment gateways' notifications: ``POST /hooks/{tenant}/pay/{gateway}`` (``wechatpay`` | ``alipay``).

The gateway is answered in its own format (WeChat Pay v3: 200 with an empty
body, or 4xx ``{"code": "FAIL", "message": …}``; Alipay: ``success`` /
``fail``); see ``domain.payments.receive`` for what is kept and applied, and
``adapters.payments`` for the wire formats. The route sits before the
``/hooks`` mount in ``api.app`` (a mount answers every path under it).
"""

from __future__ import annotations

import logging

from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.payments import GATEWAYS
from api.settings import Settings
from domain.payments.receive import receive_notice
from models import Tenant

log = logging.getLogger("ordergraph.hooks")

PAYMENT_NOTICES = Counter("ordergraph_payment_notices_total", "Payment gateway notices by gateway and outcome",
                          ["gateway", "outcome"])


class PaymentHooks:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def routes(self) -> list[Route]:
        return [Route("/hooks/{tenant}/pay/{gateway}", self.notice, methods=["POST"])]

    async def notice(self, request: Request) -> Response:
        name = request.path_params["gateway"]
        label = name if name in GATEWAYS else "unknown"
        tenant_id = await Tenant.filter(slug=request.path_params["tenant"]).first().values_list("id", flat=True)
        if tenant_id is None:
            PAYMENT_NOTICES.labels(label, "unknown_tenant").inc()
            return JSONResponse({"code": "FAIL", "message": "no such tenant"}, status_code=404)
        body = await self._body(request)
        if body is None:
            PAYMENT_NOTICES.labels(label, "too_large").inc()
            return JSONResponse({"code": "FAIL", "message": "body too large"}, status_code=413)
        answer = await receive_notice(int(tenant_id), name, body, request.headers, gateways=GATEWAYS,  # type: ignore[arg-type]
                                      tolerance=self.settings.webhook_tolerance_seconds)
        PAYMENT_NOTICES.labels(label, answer.outcome).inc()
        if answer.http_status >= 400:
            log.info("payment notice %s refused: %s %s", label, answer.http_status, answer.outcome)
        return Response(answer.body, status_code=answer.http_status, media_type=answer.content_type)

    async def _body(self, request: Request) -> bytes | None:
        """The body, or ``None`` past ``hook_max_bytes``."""
        limit = self.settings.hook_max_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)
