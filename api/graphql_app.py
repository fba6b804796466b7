"""The GraphQL endpoint: HTTP POST and WebSocket (``graphql-transport-ws`` only).

HTTP callers without a valid key get 401 before any GraphQL runs. WebSocket
callers authenticate in ``connection_init`` (``{"apiKey": "og_…"}`` or
``{"Authorization": "Bearer og_…"}``); a bad key closes the socket with 4403.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import KeyCache, key_from_connection_params, key_from_headers
from api.ide import ide_page
from api.persisted import PersistedRequests
from api.ws_protocol import LiveTransportWSHandler
from events import reasons
from events.bus import Bus
from events.reasons import request_reason
from models import Tenant
from resolvers.context import Context
from resolvers.loaders import Loaders

log = logging.getLogger("ordergraph.graphql")


async def _unavailable(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        {"errors": [{"message": "the database is unavailable; retry shortly", "extensions": {"code": "UNAVAILABLE"}}]},
        status_code=503,
        headers={"Retry-After": "5"},
    )
    await response(scope, receive, send)


class GraphQLApp(GraphQL):
    graphql_transport_ws_handler_class = LiveTransportWSHandler

    def __init__(self, schema: Any, *, bus: Bus, keys: KeyCache, production: bool, max_subscriptions: int, max_page_size: int,
                 persisted_only: bool = False) -> None:
        super().__init__(
            schema,
            graphql_ide=None if production else "graphiql",
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=max_subscriptions,
        )
        self.bus = bus
        self.keys = keys
        self.max_page_size = max_page_size
        self.production = production
        self.persisted = PersistedRequests(schema._schema, persisted_only=persisted_only)  # api.persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            wants_ide = request.method == "GET" and "text/html" in request.headers.get("accept", "")
            if not (wants_ide and not self.production):
                try:
                    actor = await self.keys.actor_for(key_from_headers(request.headers))
                except Exception as exc:  # the key store (database) is down: say so, do not 500
                    log.warning("API key lookup failed: %s", type(exc).__name__)
                    await _unavailable(scope, receive, send)
                    return
                if actor is None:
                    response = JSONResponse(
                        {"errors": [{"message": "missing or invalid API key", "extensions": {"code": "UNAUTHENTICATED"}}]},
                        status_code=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                    await response(scope, receive, send)
                    return
                scope["ordergraph.actor"] = actor
                if request.method == "POST":  # a persisted query's hash becomes its registered text here
                    prepared = await self.persisted.prepare(scope, receive, actor)
                    if isinstance(prepared, Response):
                        await prepared(scope, receive, send)
                        return
                    receive = prepared
            with request_reason(reasons.from_header(request.headers.get(reasons.HEADER))):
                await super().__call__(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> str:
        """Text frames for WebSocket messages and the body of HTTP answers: ``orjson``, ``json`` for what it refuses."""
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError: an integer wider than 64 bits, a type only json knows
            return super().encode_json(data)  # type: ignore[return-value]

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our own GraphiQL page (vendored assets, no CDN): ``api.ide``."""
        return ide_page(request)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        actor = request.scope.get("ordergraph.actor")
        return Context(actor=actor, request=request, response=response, bus=self.bus, max_page_size=self.max_page_size)

    async def on_ws_connect(self, context: Context) -> dict[str, Any] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        actor = await self.keys.actor_for(key_from_connection_params(params), source="graphql-ws")
        if actor is None or not await _same_tenant(params.get("tenant"), actor.tenant_id):
            raise ConnectionRejectionError()
        context.actor = actor
        context.loaders = Loaders(actor.tenant_id)
        return None


async def _same_tenant(asked: Any, tenant_id: int) -> bool:
    """A client may name the tenant it expects (slug or id); a key of another tenant is then refused."""
    if asked is None:
        return True
    slug = await Tenant.filter(id=tenant_id).first().values_list("slug", flat=True)
    return str(asked) in {slug, str(tenant_id)}
