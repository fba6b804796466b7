"""The ASGI application.

    app = create_app(Settings.from_env())     # uvicorn api.app:app

Routes: ``/`` (landing page, ``api.landing``), ``/graphql`` (POST, WebSocket; GET in a browser: GraphiQL,
``api.ide``, files under ``/static/graphiql``), ``/healthz``, ``/metrics``, ``/exports/reconciliation/{id}.{csv|xlsx}``,
``/hooks/{tenant}/{channel}`` and ``/hooks/{tenant}/carrier/{provider}`` (see ``api.hooks``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute

from adapters import notify, system_http
from adapters.channels import decryption
from adapters.channels.api import http as channel_api_http
from adapters.sms import sms_sender
from adapters.systems import SYSTEMS
from api import backlog_metrics, database
from api.auth import KeyCache
from api.federation_tasks import DriftWatch, refresh_failure_gauge
from api.wms_sweep_tasks import WmsSweepWatch
from api.graphql_app import GraphQLApp
from api.hooks import Hooks
from api.http_metrics import HttpMetrics
from api.graphql_body import GraphQLBodyGuard
from api.idempotency import IdempotencyMiddleware
from api.ws_direct import DirectSocketScope
from api.ide import ide_mount
from api.landing import landing
from api.intake_tasks import IntakeMaintenance
from api.live import build_live, url_policy
from api.logging import configure_logging
from api.notify_tasks import notification_jobs
from api.payment_hooks import PaymentHooks
from api.alert_tasks import SnoozeWatch
from api.after_sale_tasks import AfterSalePushWatch
from api.rules_tasks import rule_jobs
from api.audit_tasks import audit_jobs, audit_routes
from api.exports import export_routes
from domain.lineage import jobs as lineage_jobs
from api.reconcile_tasks import ReconcileWatch
from api.reconcile_tasks import enabled as reconcile_enabled
from api.poll_tasks import PollWatch, refresh_poll_gauges
from api.tracking_tasks import TrackingWatch
from api.unavailable import DATABASE_UNAVAILABLE_HANDLERS
from api.settings import Settings
from public_tracking import TrackingSite, tracking_routes
from console.routes import console_routes
from resolvers.federation_loaders import Runtime, cache_for
from schema import build_schema

log = logging.getLogger("ordergraph")



async def healthz(request: Request) -> Response:
    try:
        await database.ping()
    except Exception as exc:  # any failure to reach the database is "unhealthy"
        log.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def metrics(request: Request) -> Response:
    await backlog_metrics.refresh()
    await refresh_failure_gauge()
    await refresh_poll_gauges()
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _start_when_database_answers(live: Any, maintenance: Any) -> None:
    delay = 0.5
    while True:
        await asyncio.sleep(delay)
        try:
            await database.ping()
        except Exception:
            delay = min(delay * 2, 30.0)
            continue
        await live.start()
        maintenance.start()
        return


def create_app(settings: Settings, *, manage_database: bool = True) -> Starlette:
    """Build the app. ``manage_database=False`` when the caller (a test) already connected."""
    configure_logging(settings)
    settings.apply_secrets()
    live = build_live(settings)
    bus = live.bus
    schema = build_schema(
        production=settings.production,
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_query_bytes=settings.max_query_bytes,
        max_cost=settings.max_cost,
    )
    graphql = GraphQLApp(
        schema,
        bus=bus,
        keys=KeyCache(settings.key_cache_seconds),
        production=settings.production,
        max_subscriptions=settings.max_subscriptions_per_connection,
        max_page_size=settings.max_page_size,
        persisted_only=settings.persisted_only,
    )

    maintenance = IntakeMaintenance(settings)
    federation = Runtime(systems=SYSTEMS, cache=cache_for(settings.redis_url, settings.database_url),
                         cache_seconds=settings.federation_cache_seconds,
                         budget_seconds=settings.federation_budget_seconds)
    if settings.drift_check_seconds > 0:
        live.leadership.jobs.append(DriftWatch(settings, SYSTEMS).run)  # only the leader compares ERP and WMS stock
    if settings.wms_sweep_seconds > 0:
        live.leadership.jobs.append(WmsSweepWatch(settings, SYSTEMS).run)  # and asks WMSs about lost confirmations
    if settings.poll_seconds > 0:
        live.leadership.jobs.append(PollWatch(settings).run)  # only the leader reads the platforms' pull APIs
    if settings.tracking_round_seconds > 0:
        live.leadership.jobs.append(TrackingWatch(settings).run)  # and subscribes parcels at the tracking providers
    if settings.notify_enabled:
        live.leadership.jobs.extend(notification_jobs(settings))  # and turns alerts into WeCom/DingTalk/email messages
    if settings.rules_enabled:
        live.leadership.jobs.extend(rule_jobs(settings))  # and runs the business rules
    if settings.alert_wake_seconds > 0:
        live.leadership.jobs.append(SnoozeWatch(settings).run)  # and puts snoozed alerts back when their time comes
    if settings.after_sale_push_seconds > 0:
        live.leadership.jobs.append(AfterSalePushWatch(settings).run)  # and pushes refund decisions to the channels
    if reconcile_enabled(settings):
        live.leadership.jobs.append(ReconcileWatch(settings, SYSTEMS).run)  # and reconciles yesterday once a day
    if settings.audit_enabled:
        live.leadership.jobs.extend(audit_jobs(settings))  # and seals the lineage into the signed Merkle log
    tracking = TrackingSite(settings, sms=sms_sender(settings.sms_gateway_url, settings.sms_gateway_token))
    guarded_graphql = GraphQLBodyGuard(
        IdempotencyMiddleware(graphql, keys=graphql.keys, ttl_hours=settings.idempotency_ttl_hours,
                              lock_seconds=settings.idempotency_lock_seconds),
        max_bytes=settings.max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await database.init_db(settings.database_url)
        deferred: asyncio.Task[None] | None = None
        try:
            await database.ping()
            await live.start()
            maintenance.start()
            await lineage_jobs.fail_interrupted()  # lineage exports a restart cut short: failed, not "running"
        except Exception as exc:  # the database is down: serve /healthz (503) and start once it answers
            log.warning("database unreachable at start-up (%s); live delivery starts when it answers", type(exc).__name__)
            deferred = asyncio.create_task(_start_when_database_answers(live, maintenance))
        try:
            yield
        finally:
            if deferred is not None:
                deferred.cancel()
            await maintenance.stop()
            await tracking.aclose()
            await decryption.aclose()
            await federation.cache.aclose()
            await system_http.aclose()
            await notify.aclose()
            await channel_api_http.aclose()
            await live.stop()
            if manage_database:
                await database.close_db()

    app = Starlette(
        routes=[
            Route("/graphql", guarded_graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/", landing),
            Route("/healthz", healthz),
            *([] if settings.production else [ide_mount()]),  # GraphiQL's vendored files (api/static/graphiql)
            Route("/metrics", metrics),
            *audit_routes(),
            *export_routes(graphql.keys),
            *PaymentHooks(settings).routes(),  # before the /hooks mount, which answers every path under it
            Mount("/hooks", routes=Hooks(settings).routes()),
            *tracking_routes(tracking),
            *console_routes(settings, schema, bus),
        ],
        middleware=[Middleware(DirectSocketScope), Middleware(HttpMetrics)],
        exception_handlers=DATABASE_UNAVAILABLE_HANDLERS,
        lifespan=lifespan,
    )
    app.state.bus = bus
    app.state.graphql = graphql  # its persisted-query cache (api.persisted) is read by tests and benches
    app.state.live = live
    app.state.dispatcher = live.local_feed
    app.state.webhook_policy = url_policy(settings)
    app.state.settings = settings
    app.state.tracking = tracking
    app.state.federation = federation
    return app
