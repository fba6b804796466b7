"""The tracking site: its route table and the small amount of state it keeps.

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

plus ``GET /track/t/{token}`` (signed link, any tenant) and
``GET /track/-/static/{file}``. Paths with ``-`` cannot clash with a tenant
slug (slugs start with a letter or digit), order numbers are ``OG`` and nine
digits (slugs are lower case) and ``t`` is too short to be a slug.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from functools import partial
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from domain.tracking_links import derive_key, mac
from domain.tracking_view import Scope
from models import Tenant
from public_tracking import handlers
from public_tracking.i18n import LANG_COOKIE, pick_lang
from public_tracking.ratelimit import Limiter, limiter_for
from public_tracking.render import Brand, Renderer, View, brand_of, secure_headers
from public_tracking.session import COOKIE_PATH, Sessions

log = logging.getLogger("ordergraph.tracking")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
TENANT_CACHE_SECONDS = 30.0
MAX_FORM_BYTES = 16 * 1024


class OrderNumberConvertor(Convertor[str]):
    regex = "OG[0-9]{9}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("ogno", OrderNumberConvertor())


@dataclass
class Ctx:
    """One request's tenant, base path, language and CSRF seed, and the view templates get."""

    brand: Brand
    base: str
    lang: str
    remember_lang: bool
    csrf_seed: str
    new_seed: bool
    view: View


class TrackingSite:
    def __init__(self, settings: Any, *, sms: Any, limiter: Limiter | None = None) -> None:
        #: In production a missing (development) secret turns the page off rather than sign with a public key.
        self.disabled = settings.production and (settings.tracking_secret.startswith("dev-only") or len(settings.tracking_secret) < 16)
        if self.disabled:
            log.warning("tracking page disabled: set ORDERGRAPH_TRACKING_SECRET (16+ characters) in production")
        self.settings = settings
        self.secret: str = settings.tracking_secret
        self.default_slug: str = settings.tracking_tenant
        self.sessions = Sessions(self.secret)
        self.renderer = Renderer(self.sessions)
        self.limiter: Limiter = limiter or limiter_for(settings.redis_url)
        self.sms = sms
        self.otp_enabled = bool(settings.sms_gateway_url) or not settings.production
        self.fail_floor = settings.tracking_fail_floor_ms / 1000
        self.link_days: int = settings.tracking_link_days
        self._challenge_key = derive_key(self.secret, "challenge")
        self._tenants: dict[str | int, tuple[Brand | None, float]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # routing ------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
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
        ]
        if self.disabled:
            return [Route("/track", h.unavailable), Mount("/track", routes=[Route("/{rest:path}", h.unavailable, methods=["GET", "POST"])])]
        inner: list[BaseRoute] = [
            Route("/", partial(h.home, self), methods=["GET"]),
            Route("/t/{token}", partial(h.link, self), methods=["GET"]),
            Route("/-/static/{name}", partial(h.static, self), methods=["GET"]),
        ]
        for prefix in ("", "/{tenant}"):
            for path, endpoint, methods in pages:
                size = MAX_FORM_BYTES if "POST" in methods else None
                inner.append(Route(prefix + path, partial(endpoint, self), methods=methods, max_body_size=size))
        inner.append(Route("/{tenant}", partial(h.home, self), methods=["GET"]))
        return [
            Route("/track", partial(h.home, self), methods=["GET"], middleware=gzip),
            Mount("/track", routes=inner, middleware=gzip),
        ]

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.limiter.aclose()
        await self.sms.aclose()

    # per request --------------------------------------------------------------

    async def brand_for(self, key: str | int) -> Brand | None:
        """The tenant by slug or id, cached briefly (branding changes show within half a minute)."""
        cached = self._tenants.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        if isinstance(key, str) and not _SLUG.match(key):
            return None
        tenant = await (Tenant.filter(slug=key) if isinstance(key, str) else Tenant.filter(id=key)).first()
        brand = brand_of(tenant) if tenant else None
        if len(self._tenants) > 1000:
            self._tenants.clear()
        self._tenants[key] = (brand, time.monotonic() + TENANT_CACHE_SECONDS)
        return brand

    def base_of(self, brand: Brand) -> str:
        return "/track" if brand.slug == self.default_slug else f"/track/{brand.slug}"

    async def context(self, request: Request, brand: Brand | None = None) -> Ctx | None:
        if brand is None:
            brand = await self.brand_for(request.path_params.get("tenant") or self.default_slug)
            if brand is None:
                return None
        lang, remember = pick_lang(request)
        seed, new_seed = self.sessions.csrf_seed(request)
        base = self.base_of(brand)
        return Ctx(brand, base, lang, remember, seed, new_seed, self.renderer.view(request, brand, base, lang, seed))

    def finish(self, request: Request, ctx: Ctx, response: Response) -> Response:
        """Cookies every response may need: the remembered language and the CSRF seed."""
        if ctx.remember_lang:
            response.set_cookie(LANG_COOKIE, ctx.lang, max_age=365 * 86400, path=COOKIE_PATH, samesite="lax")
        if ctx.new_seed:
            self.sessions.set_csrf_cookie(request, response, ctx.csrf_seed)
        return response

    def redirect(self, request: Request, ctx: Ctx, url: str) -> Response:
        response = RedirectResponse(url, status_code=303)
        secure_headers(response)
        return self.finish(request, ctx, response)

    def scope(self, request: Request, ctx: Ctx) -> Scope | None:
        scope = self.sessions.read(request, ctx.brand.tenant_id)
        return None if scope is None or scope.empty else scope

    @staticmethod
    def client_ip(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def seal_challenge(self, challenge_id: int) -> str:
        return f"{challenge_id}.{mac(self._challenge_key, str(challenge_id))}"

    def open_challenge(self, sealed: str) -> int | None:
        number, _, signature = sealed.partition(".")
        if number.isdigit() and len(number) < 12 and signature == mac(self._challenge_key, number):
            return int(number)
        return None

    def in_background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

