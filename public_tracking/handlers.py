"""The tracking page's endpoints: thin, they parse, check limits and call ``domain.tracking.customer``.

Abuse limits (fixed windows, see ``ratelimit``):
- every look-up attempt (order route and code checks): 30 per IP per 10 minutes;
- failed order look-ups: 5 per order reference per 15 minutes, then only the
  SMS-code route works for that reference (the same for unknown references,
  so a lock says nothing about existence);
- codes sent: 10 per IP per hour, 1 per phone per minute, 5 per phone per hour;
- order actions (confirm receipt, rate): 30 per IP per 10 minutes; return
  requests (``public_tracking.returns``): 10 per IP per hour.

The result of an action (thanks, or why it did not go through) is shown
inside the order's card, next to where the customer tapped, not only at the
top of the page.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from domain.errors import DomainError, ValidationFailed
from domain.tracking import customer as tracking
from domain.tracking.customer_view import OrderView, Scope, mask_contact, orders_for
from domain.tracking.links import read_token
from models.order import order_no, parse_order_no
from public_tracking.live import card_stream, scope_order_ids
from public_tracking.ratelimit import hashed
from public_tracking.render import secure_headers
from public_tracking.site import Ctx, TrackingSite

log = logging.getLogger("ordergraph.tracking")

LOOKUPS_PER_IP = (30, 600)
ORDER_FAILURES = (5, 900)
CODES_PER_IP = (10, 3600)
CODES_PER_PHONE_MINUTE = (1, 60)
CODES_PER_PHONE_HOUR = (5, 3600)
STREAMS_PER_IP = (120, 600)
ACTIONS_PER_IP = (30, 600)
_STATIC_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".webp": "image/webp"}


def not_found() -> Response:
    response = PlainTextResponse("not found", status_code=404)
    secure_headers(response)
    return response


async def unavailable(request: Request) -> Response:
    """The page when it is switched off (production without a tracking secret)."""
    response = PlainTextResponse("order tracking is not available right now", status_code=503)
    secure_headers(response)
    return response


async def _sleep_until(start: float, floor: float) -> None:
    left = floor - (time.monotonic() - start)
    if left > 0:
        await asyncio.sleep(left)


def _lookup_page(site: TrackingSite, request: Request, ctx: Ctx, *, mode: str = "order", status: int = 200, **context: object) -> Response:
    if mode != "order" and not site.otp_enabled:
        mode = "order"
    response = site.renderer.page("lookup.html", ctx.view, status=status, mode=mode, live_url=None, **context)
    return site.finish(request, ctx, response)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _posted(
    site: TrackingSite, request: Request, mode: str, ip_limit: tuple[str, tuple[int, int]] | None = None
) -> tuple[Ctx, dict[str, str]] | Response:
    """The site and the posted form, or the answer refusing them: unknown site, cross-site post or stale page, per-IP limit."""
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    form = await _form(request)
    if not site.sessions.csrf_ok(request, form.get("csrf", "")):
        return _lookup_page(site, request, ctx, mode=mode, status=403, message=ctx.view.t("csrf_failed"))
    if ip_limit is not None:
        refused = await _ip_limited(site, request, ctx, *ip_limit, mode)
        if refused is not None:
            return refused
    return ctx, form


async def _ip_limited(site: TrackingSite, request: Request, ctx: Ctx, bucket: str, rule: tuple[int, int], mode: str) -> Response | None:
    verdict = await site.limiter.hit(f"{bucket}:{ctx.brand.tenant_id}:{hashed(site.client_ip(request))}", *rule)
    if verdict.allowed:
        return None
    log.info("tracking %s limit reached (tenant %s)", bucket, ctx.brand.slug)
    response = _lookup_page(site, request, ctx, mode=mode, status=429, message=ctx.view.t("ip_limited"))
    response.headers["retry-after"] = str(verdict.retry_after)
    return response


def _back(ctx: Ctx, value: str | None, number: str | None = None) -> str:
    """Where to return after a POST: the list or one order page, nothing else (no open redirects)."""
    if number and value == f"{ctx.base}/{number}":
        return value
    return ctx.base


@dataclass(frozen=True, slots=True)
class Flash:
    """An action's result, shown inside the card it was about."""

    number: str
    text: str
    tone: str


async def _show_orders(
    site: TrackingSite, request: Request, ctx: Ctx, scope: Scope, *, only: int | None = None, status: int = 200,
    message: str | None = None, tone: str = "ok", focus: str | None = None,
) -> Response:
    views = await orders_for(scope, only=only)
    if only is not None and not views:
        return site.redirect(request, ctx, f"{ctx.base}?order={order_no(only)}")
    flash = None
    about = request.query_params.get("o")
    if message and about and any(view.number == about for view in views):
        flash, message = Flash(about, message, tone), None
    after = max((v.last_event_id for v in views), default=0)
    back = f"{ctx.base}/{order_no(only)}" if only is not None else ctx.base
    live_url = f"{ctx.base}/-/live?after={after}" + ("&one=1" if only is not None else "")
    has_more = only is not None and (len(scope.order_ids) > 1 or bool(scope.customer_ids))
    response = site.renderer.page(
        "orders.html", ctx.view, status=status, orders=views, single=only is not None, focus=focus, back=back,
        live_url=live_url, message=message, tone=tone, has_more=has_more, flash=flash,
    )
    return site.finish(request, ctx, response)


def _result_message(ctx: Ctx, request: Request) -> tuple[str | None, str]:
    done = request.query_params.get("done")
    if done in ("confirmed", "rated"):
        return ctx.view.t(done), "ok"
    if done == "return":
        return ctx.view.t("return_sent"), "ok"
    error = request.query_params.get("error")
    if error == "action":
        return ctx.view.t("action_failed"), "err"
    if error == "limited":
        return ctx.view.t("ip_limited"), "err"
    return None, "ok"


# pages -------------------------------------------------------------------------


async def home(site: TrackingSite, request: Request) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    via = request.query_params.get("via")
    scope = site.scope(request, ctx)
    if scope and not via and not request.query_params.get("new"):
        message, tone = _result_message(ctx, request)
        return await _show_orders(site, request, ctx, scope, message=message, tone=tone, focus=request.query_params.get("o"))
    prefill = request.query_params.get("order", "")[:64]
    return _lookup_page(site, request, ctx, mode="sms" if via == "sms" else "order", order=prefill)


async def order_page(site: TrackingSite, request: Request) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    number = request.path_params["number"]
    scope = site.scope(request, ctx)
    if scope is None:
        return site.redirect(request, ctx, f"{ctx.base}?order={number}")
    message, tone = _result_message(ctx, request)
    return await _show_orders(site, request, ctx, scope, only=parse_order_no(number), message=message, tone=tone)


async def link(site: TrackingSite, request: Request) -> Response:
    grant = read_token(site.secret, request.path_params["token"])
    brand = await site.brand_for(grant.tenant_id) if grant else None
    ctx = await site.context(request, brand)
    if ctx is None:
        return not_found()
    if grant is None or brand is None:
        return _lookup_page(site, request, ctx, status=410, message=ctx.view.t("link_invalid"), tone="warn")
    current = site.sessions.read(request, brand.tenant_id)
    scope = Scope(brand.tenant_id, order_ids=frozenset({grant.order_id}))
    merged = current.merged(scope) if current else scope
    views = await orders_for(scope)
    if not views:
        return _lookup_page(site, request, ctx, status=410, message=ctx.view.t("link_invalid"), tone="warn")
    if current is None or grant.order_id not in current.order_ids:
        await tracking.record_lookup(scope, [grant.order_id], "link")
    response = await _show_orders(site, request, ctx, merged, only=grant.order_id)
    site.sessions.write(request, response, merged)
    return response


async def static(site: TrackingSite, request: Request) -> Response:
    name = request.path_params["name"]
    suffix = name[name.rfind(".") :] if "." in name else ""
    folder = resources.files("public_tracking").joinpath("static")
    if suffix not in _STATIC_TYPES or "/" in name or name.startswith(".") or not folder.joinpath(name).is_file():
        return not_found()
    response = Response(folder.joinpath(name).read_bytes(), media_type=_STATIC_TYPES[suffix])
    response.headers["cache-control"] = "public, max-age=86400"
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# look-ups ----------------------------------------------------------------------


async def lookup(site: TrackingSite, request: Request) -> Response:
    posted = await _posted(site, request, "order", ("lookup-ip", LOOKUPS_PER_IP))
    if isinstance(posted, Response):
        return posted
    ctx, form = posted
    typed = form.get("order", "")[:64]
    try:
        reference = tracking.clean_reference(typed)
        last4 = tracking.clean_last4(form.get("last4", ""))
    except ValidationFailed as error:
        return _lookup_page(site, request, ctx, status=422, message=ctx.view.t("bad_input"), field=error.field, order=typed)
    failures_key = f"order-fail:{ctx.brand.tenant_id}:{hashed(await tracking.attempt_key(ctx.brand.tenant_id, reference))}"
    if await site.limiter.count(failures_key) >= ORDER_FAILURES[0]:
        return _lookup_page(site, request, ctx, mode="sms", status=429, message=ctx.view.t("order_locked"), tone="warn")
    started = time.monotonic()
    scope = await tracking.find_by_order(ctx.brand.tenant_id, reference, last4)
    if scope is None:
        await site.limiter.hit(failures_key, *ORDER_FAILURES)
        await _sleep_until(started, site.fail_floor)
        return _lookup_page(site, request, ctx, status=404, message=ctx.view.t("no_match"), order=typed)
    await tracking.record_lookup(scope, sorted(scope.order_ids), "order")
    current = site.sessions.read(request, ctx.brand.tenant_id)
    merged = current.merged(scope) if current else scope
    number = order_no(min(scope.order_ids))
    response = site.redirect(request, ctx, f"{ctx.base}?o={number}#card-{number}")
    site.sessions.write(request, response, merged)
    return response


async def otp_send(site: TrackingSite, request: Request) -> Response:
    posted = await _posted(site, request, "sms", ("code-ip", CODES_PER_IP))
    if isinstance(posted, Response):
        return posted
    ctx, form = posted
    if not site.otp_enabled:
        return _lookup_page(site, request, ctx, status=404)
    try:
        phone = tracking.clean_phone(form.get("phone", "")[:32])
    except ValidationFailed:
        return _lookup_page(site, request, ctx, mode="sms", status=422, message=ctx.view.t("bad_input"), field="phone")
    key = f"{ctx.brand.tenant_id}:{hashed(phone)}"
    for bucket, rule in (("code-phone-m", CODES_PER_PHONE_MINUTE), ("code-phone-h", CODES_PER_PHONE_HOUR)):
        verdict = await site.limiter.hit(f"{bucket}:{key}", *rule)
        if not verdict.allowed:
            response = _lookup_page(site, request, ctx, mode="sms", status=429, message=ctx.view.t("code_wait"), tone="warn")
            response.headers["retry-after"] = str(verdict.retry_after)
            return response
    started = await tracking.start_otp(site.secret, ctx.brand.tenant_id, phone)
    if started.known:  # a number with no orders gets no text, and an answer that looks the same
        site.in_background(_send_code(site, started.phone, started.code, ctx.brand.name, ctx.lang))
    masked = mask_contact(phone)
    return _lookup_page(
        site, request, ctx, mode="code", challenge=site.seal_challenge(started.challenge_id),
        message=ctx.view.t("code_sent", phone=masked), tone="ok",
    )


async def _send_code(site: TrackingSite, phone: str, code: str, brand: str, lang: str) -> None:
    try:
        await site.sms.send_code(phone, code, brand=brand, lang=lang)
    except Exception as exc:  # the customer can ask for another code; never log the phone
        log.warning("sending a tracking code failed: %s", type(exc).__name__)


async def otp_verify(site: TrackingSite, request: Request) -> Response:
    posted = await _posted(site, request, "sms", ("lookup-ip", LOOKUPS_PER_IP))
    if isinstance(posted, Response):
        return posted
    ctx, form = posted
    sealed = form.get("challenge", "")
    challenge_id = site.open_challenge(sealed)
    if challenge_id is None:
        return _lookup_page(site, request, ctx, mode="sms", status=410, message=ctx.view.t("code_expired"), tone="warn")
    result = await tracking.verify_otp(site.secret, ctx.brand.tenant_id, challenge_id, form.get("code", "")[:12])
    if result.scope is None:
        if result.expired:
            return _lookup_page(site, request, ctx, mode="sms", status=410, message=ctx.view.t("code_expired"), tone="warn")
        return _lookup_page(
            site, request, ctx, mode="code", status=422, challenge=sealed, message=ctx.view.t("code_wrong", left=result.attempts_left)
        )
    current = site.sessions.read(request, ctx.brand.tenant_id)
    merged = current.merged(result.scope) if current else result.scope
    ids = sorted(await scope_order_ids(result.scope), reverse=True)
    await tracking.record_lookup(result.scope, ids, "otp")
    response = site.redirect(request, ctx, ctx.base)
    site.sessions.write(request, response, merged)
    return response


async def logout(site: TrackingSite, request: Request) -> Response:
    posted = await _posted(site, request, "order")
    if isinstance(posted, Response):
        return posted
    ctx, _ = posted
    response = site.redirect(request, ctx, ctx.base)
    site.sessions.clear(response, ctx.brand.tenant_id)
    return response


# order actions -----------------------------------------------------------------


async def _order_action(site: TrackingSite, request: Request, action: str) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    number = request.path_params["number"]
    form = await _form(request)
    back = _back(ctx, form.get("back"), number)
    joiner = "&" if "?" in back else "?"
    if not site.sessions.csrf_ok(request, form.get("csrf", "")):
        return site.redirect(request, ctx, f"{back}{joiner}error=action#card-{number}")
    scope = site.scope(request, ctx)
    order_id = parse_order_no(number)
    if scope is None or order_id is None:
        return site.redirect(request, ctx, f"{ctx.base}?order={number}")
    verdict = await site.limiter.hit(f"action-ip:{ctx.brand.tenant_id}:{hashed(site.client_ip(request))}", *ACTIONS_PER_IP)
    if not verdict.allowed:
        return site.redirect(request, ctx, f"{back}{joiner}error=limited&o={number}#card-{number}")
    try:
        if action == "confirm":
            await tracking.confirm_receipt(scope, order_id)
            done = "confirmed"
        else:
            rating = int(form.get("rating", "0") or 0) if form.get("rating", "").isdigit() else 0
            await tracking.rate_order(scope, order_id, rating, form.get("comment", ""))
            done = "rated"
    except DomainError as error:
        log.info("tracking %s refused for an order of tenant %s: %s", action, ctx.brand.slug, error.code)
        return site.redirect(request, ctx, f"{back}{joiner}error=action&o={number}#card-{number}")
    return site.redirect(request, ctx, f"{back}{joiner}done={done}&o={number}#card-{number}")


async def confirm(site: TrackingSite, request: Request) -> Response:
    return await _order_action(site, request, "confirm")


async def rate(site: TrackingSite, request: Request) -> Response:
    return await _order_action(site, request, "rate")


# live ----------------------------------------------------------------------------


async def live(site: TrackingSite, request: Request) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    scope = site.scope(request, ctx)
    if scope is None:
        return Response(status_code=401)
    verdict = await site.limiter.hit(f"live-ip:{ctx.brand.tenant_id}:{hashed(site.client_ip(request))}", *STREAMS_PER_IP)
    if not verdict.allowed:
        return Response(status_code=429, headers={"retry-after": str(verdict.retry_after)})
    after = max(_int(request.query_params.get("after")), _int(request.headers.get("last-event-id")))
    one = request.query_params.get("one") == "1"

    def render(order: OrderView) -> str:
        back = f"{ctx.base}/{order.number}" if one else ctx.base
        return site.renderer.card(ctx.view, order, open=one, back=back)

    def say(order: OrderView) -> str:
        return ctx.view.t("updated_live", order=order.number, status=ctx.view.headline(order))

    body = card_stream(request.app.state.bus, scope, after, render, say, disconnected=request.is_disconnected)
    response = StreamingResponse(
        body, media_type="text/event-stream", headers={"cache-control": "no-store", "x-accel-buffering": "no"}
    )
    return site.finish(request, ctx, response)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 19 else 0
