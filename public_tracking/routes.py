"""The tracking site's route table.

Addresses: the tenant named by ``ORDERGRAPH_TRACKING_TENANT`` lives at
``/track``, every other at ``/track/{slug}``. Under either base:

    GET  /                      look-up forms, or the visitor's orders once a session exists
    GET  /OG000000042           one order (session must cover it)
    POST /-/lookup              order number + last 4 digits of the phone
    POST /-/otp, /-/otp/verify  phone number, then the code texted to it
    POST /-/logout
    GET  /-/live                server-sent events: the visitor's cards as they change
    POST /OG000000042/confirm   confirm receipt
    POST /OG000000042/rate      1-5 stars and a comment
    GET  /OG000000042/return    the return form (``public_tracking.returns``)
    POST /OG000000042/return    the return request: multipart, photos up to 2 MB each

plus ``GET /track/t/{token}`` (signed link, any tenant) and
``GET /track/-/static/{file}``. Paths with ``-`` cannot clash with a tenant
slug (slugs start with a letter or digit), order numbers are ``OG`` and nine
digits (slugs are lower case) and ``t`` is too short to be a slug.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount, Route

from public_tracking import handlers, returns
from public_tracking.site import TrackingSite

MAX_FORM_BYTES = 16 * 1024


class OrderNumberConvertor(Convertor[str]):
    regex = "OG[0-9]{9}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ogno", OrderNumberConvertor())


def tracking_routes(site: TrackingSite) -> list[BaseRoute]:
    """``/track`` and everything under it, each endpoint bound to ``site``."""
    gzip = [Middleware(GZipMiddleware, minimum_size=600)]
    h = handlers
    pages: list[tuple[str, Any, list[str]]] = [
        ("/-/lookup", h.lookup, ["POST"]),
        ("/-/otp", h.otp_send, ["POST"]),
        ("/-/otp/verify", h.otp_verify, ["POST"]),
        ("/-/logout", h.logout, ["POST"]),
        ("/-/live", h.live, ["GET"]),
        ("/{number:ogno}", h.order_page, ["GET"]),
        ("/{number:ogno}/confirm", h.confirm, ["POST"]),
        ("/{number:ogno}/rate", h.rate, ["POST"]),
        ("/{number:ogno}/return", returns.return_form, ["GET"]),
        ("/{number:ogno}/return", returns.return_submit, ["POST"]),
    ]
    if site.disabled:
        return [Route("/track", h.unavailable), Mount("/track", routes=[Route("/{rest:path}", h.unavailable, methods=["GET", "POST"])])]
    inner: list[BaseRoute] = [
        Route("/", partial(h.home, site), methods=["GET"]),
        Route("/t/{token}", partial(h.link, site), methods=["GET"]),
        Route("/-/static/{name}", partial(h.static, site), methods=["GET"]),
    ]
    for prefix in ("", "/{tenant}"):
        for path, endpoint, methods in pages:
            # the return upload counts its own bytes (returns.MAX_UPLOAD_BYTES) so that it can refuse in words
            size = MAX_FORM_BYTES if "POST" in methods and endpoint is not returns.return_submit else None
            inner.append(Route(prefix + path, partial(endpoint, site), methods=methods, max_body_size=size))
    inner.append(Route("/{tenant}", partial(h.home, site), methods=["GET"]))
    return [
        Route("/track", partial(h.home, site), methods=["GET"], middleware=gzip),
        Mount("/track", routes=inner, middleware=gzip),
    ]
