"""The tracking site's state: tenants and their brands, sessions, limits, the SMS sender, request context.

The route table is ``public_tracking.routes``; the pages are ``public_tracking.handlers``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.tracking.customer_view import Scope
from domain.tracking.links import derive_key, mac
from models import Tenant
from public_tracking.i18n import LANG_COOKIE, pick_lang
from public_tracking.ratelimit import Limiter, limiter_for
from public_tracking.render import Brand, Renderer, View, brand_of, secure_headers
from public_tracking.session import COOKIE_PATH, Sessions

log = logging.getLogger("ordergraph.tracking")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
TENANT_CACHE_SECONDS = 30.0


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

