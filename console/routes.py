"""The console's route table, everything under ``/console``.

    GET  /console                    -> the board
    GET  /console/sign-in, POST /console/sign-in, POST /console/sign-out
    GET  /console/board, POST /console/board/act
    GET  /console/orders?q=…, GET /console/orders/OG000000042
    GET  /console/status-maps?table=…, POST /console/status-maps
    GET  /console/report, GET /console/report.pdf?days=7
    GET  /console/board/live         server-sent "board changed" events
    GET  /console/webhooks?endpoint=…, POST /console/webhooks/replay
    GET  /console/rules?rule=…, POST /console/rules/act
    GET  /console/stock?sku=…&warehouse=…&low=1
    GET  /console/channels
    GET  /console/policy?channel=…, POST /console/policy
    GET  /console/later/{name}       capabilities not in the console yet
    GET  /console/static/{name}      the stylesheet (self-hosted)
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount, Route

from console import board, channels, live, maps, orders, pages, policy, report, rules, stock, webhooks
from console.client import GraphQLClient
from console.site import BASE, Console

MAX_FORM_BYTES = 16 * 1024


def console_routes(settings: Any, schema: Any, bus: Any) -> list[BaseRoute]:
    """``/console`` and everything under it, executing GraphQL in-process against ``schema``."""
    console = Console(settings, GraphQLClient(schema, bus=bus, max_page_size=settings.max_page_size))
    table: list[tuple[str, Any, str]] = [
        ("/", pages.home, "GET"),
        ("/sign-in", pages.sign_in_page, "GET"),
        ("/sign-in", pages.sign_in, "POST"),
        ("/sign-out", pages.sign_out, "POST"),
        ("/board", board.board, "GET"),
        ("/board/act", board.act, "POST"),
        ("/orders", orders.search, "GET"),
        ("/orders/{number}", orders.detail, "GET"),
        ("/orders/{number}/repair", orders.repair, "POST"),
        ("/status-maps", maps.maps, "GET"),
        ("/status-maps", maps.save, "POST"),
        ("/board/live", live.board_live, "GET"),
        ("/report", report.report, "GET"),
        ("/report.pdf", report.report_pdf, "GET"),
        ("/webhooks", webhooks.webhooks, "GET"),
        ("/webhooks/replay", webhooks.replay, "POST"),
        ("/rules", rules.rules, "GET"),
        ("/rules/act", rules.act, "POST"),
        ("/stock", stock.stock, "GET"),
        ("/channels", channels.channels, "GET"),
        ("/policy", policy.policy, "GET"),
        ("/policy", policy.save, "POST"),
        ("/later/{name}", pages.later, "GET"),
        ("/static/{name}", pages.static, "GET"),
    ]
    inner = [Route(path, partial(endpoint, console), methods=[method],
                   max_body_size=MAX_FORM_BYTES if method == "POST" else None) for path, endpoint, method in table]
    return [Route(BASE, partial(pages.home, console), methods=["GET"]),
            Mount(BASE, routes=inner, middleware=[Middleware(GZipMiddleware, minimum_size=600)])]
