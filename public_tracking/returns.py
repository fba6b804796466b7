"""The return form: a verified customer asks to return, refund or exchange goods that arrived.

    GET  /track/OG000000042/return      the form (lines and quantities, kind, reason, up to 5 photos)
    POST /track/OG000000042/return      multipart; on success back to the order, the request on its timeline

Same session and CSRF protection as the page's other actions, and a per-IP
limit. The upload is bounded before it is read (``Content-Length``) and while
it is read (a counting ``receive``), each photo is read to at most 2 MB + 1
byte, and every refusal re-renders the form with one clear sentence: nothing
is saved until ``open_after_sale`` commits the whole request in one
transaction. The form's script and style are inlined on this page only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from domain.after_sales import photos as photo_rules
from domain.after_sales.requests import open_after_sale
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.tracking import returns
from domain.tracking.customer_view import OrderView
from models.order import parse_order_no
from public_tracking.handlers import not_found
from public_tracking.ratelimit import hashed
from public_tracking.site import Ctx, TrackingSite

log = logging.getLogger("ordergraph.tracking")

RETURNS_PER_IP = (10, 3600)
#: The whole multipart body: five photos at the limit, and room for the fields.
MAX_UPLOAD_BYTES = photo_rules.MAX_PHOTOS * photo_rules.MAX_BYTES + 256 * 1024
#: Files the parser will take before we count them ourselves (more is refused as a bad upload).
MAX_PARSED_FILES = 20
MAX_FIELDS = 300
_NAME = 60
#: Domain refusals by field -> the sentence the form shows.
_FIELD_WORDS = {
    "kind": "return_kind_needed",
    "reason": "return_reason_needed",
    "note": "return_note_needed",
    "lines": "return_no_lines",
    "quantity": "return_qty",
    "lineId": "return_qty",
    "photos": "return_bad_upload",
    "amount": "return_amount",
}


class _TooLarge(Exception):
    """The body went past ``MAX_UPLOAD_BYTES`` while being read."""


@dataclass
class Posted:
    """What the customer chose, echoed back into the form when it is refused."""

    kind: str = "return_refund"
    reason: str = ""
    note: str = ""
    quantities: dict[int, int] = field(default_factory=dict)


def _counting(request: Request, limit: int) -> Request:
    """The same request, whose body reading stops with ``_TooLarge`` past ``limit`` bytes."""
    seen = 0
    receive = request.receive

    async def counted() -> Any:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
        return message

    return Request(request.scope, counted)


def _page(
    site: TrackingSite, request: Request, ctx: Ctx, view: OrderView | None, *, status: int = 200, message: str | None = None,
    posted: Posted | None = None,
) -> Response:
    posted = posted or Posted()
    if view is not None and not posted.quantities:
        open_lines = [line for line in view.lines if line.returnable > 0]
        if len(open_lines) == 1:  # one thing to return: preselect one of it
            posted.quantities = {open_lines[0].id: 1}
    response = site.renderer.page(
        "return.html", ctx.view, status=status, order=view, message=message, posted=posted, kinds=returns.KINDS,
        reasons=returns.REASONS, live_url=None, returns_css=site.renderer.returns_css, returns_js=site.renderer.returns_js,
        max_photos=photo_rules.MAX_PHOTOS, max_photo_bytes=photo_rules.MAX_BYTES, max_note=returns.MAX_NOTE,
    )
    return site.finish(request, ctx, response)


async def _order_or_answer(
    site: TrackingSite, request: Request, ctx: Ctx
) -> tuple[int, OrderView | None] | Response:
    """The order the path names, if this visitor's session covers it (its view; None when it cannot be returned)."""
    number = request.path_params["number"]
    scope = site.scope(request, ctx)
    order_id = parse_order_no(number)
    if scope is None or order_id is None:
        return site.redirect(request, ctx, f"{ctx.base}?order={number}")
    try:
        return order_id, await returns.returnable_order(scope, order_id)
    except NotFound:
        return site.redirect(request, ctx, f"{ctx.base}?order={number}")
    except Conflict:
        return order_id, None


async def return_form(site: TrackingSite, request: Request) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    found = await _order_or_answer(site, request, ctx)
    if isinstance(found, Response):
        return found
    _, view = found
    if view is None or not view.can_return:
        return _page(site, request, ctx, None, status=409, message=ctx.view.t("return_unavailable"))
    return _page(site, request, ctx, view)


async def return_submit(site: TrackingSite, request: Request) -> Response:
    ctx = await site.context(request)
    if ctx is None:
        return not_found()
    found = await _order_or_answer(site, request, ctx)  # unverified visitors go to the look-up, their upload unread
    if isinstance(found, Response):
        return found
    order_id, view = found
    number = request.path_params["number"]

    def refuse(status: int, key: str, posted: Posted | None = None, **params: object) -> Response:
        text = ctx.view.t(key, **params)
        if status != 429 and view is not None:
            text = f"{text} {ctx.view.t('return_nothing_saved')}"
        return _page(site, request, ctx, view, status=status, message=text, posted=posted)

    verdict = await site.limiter.hit(f"return-ip:{ctx.brand.tenant_id}:{hashed(site.client_ip(request))}", *RETURNS_PER_IP)
    if not verdict.allowed:
        response = refuse(429, "return_limited")
        response.headers["retry-after"] = str(verdict.retry_after)
        return response
    if view is None or not view.can_return:
        return _page(site, request, ctx, None, status=409, message=ctx.view.t("return_unavailable"))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return refuse(413, "return_body_too_big")
    limited = _counting(request, MAX_UPLOAD_BYTES)
    try:
        form = await limited.form(max_files=MAX_PARSED_FILES, max_fields=MAX_FIELDS, max_part_size=64 * 1024)
    except _TooLarge:
        return refuse(413, "return_body_too_big")
    except HTTPException:  # malformed multipart, or more files than we would ever read
        return refuse(400, "return_bad_upload")
    try:
        return await _submit(site, request, ctx, form, order_id, number, refuse)
    finally:
        await form.close()


async def _submit(
    site: TrackingSite, request: Request, ctx: Ctx, form: FormData, order_id: int, number: str,
    refuse: Callable[..., Response],
) -> Response:
    if not site.sessions.csrf_ok(request, _text(form, "csrf")):
        return refuse(403, "csrf_failed")
    posted = Posted(kind=_text(form, "kind")[:20], reason=_text(form, "reason")[:30], note=_text(form, "note")[:returns.MAX_NOTE])
    for key, value in form.multi_items():
        if key.startswith("qty-") and isinstance(value, str):
            line, quantity = key[4:], value.strip() or "0"
            if not (line.isdigit() and len(line) < 12 and quantity.isdigit() and len(quantity) < 6):
                return refuse(422, "return_qty", posted)
            posted.quantities[int(line)] = int(quantity)
    uploads = [item for item in form.getlist("photos") if isinstance(item, UploadFile) and (item.filename or item.size)]
    if len(uploads) > photo_rules.MAX_PHOTOS:
        return refuse(413, "return_too_many", posted)
    photos: list[tuple[str, bytes]] = []
    for upload in uploads:  # checked here only to name the bad one; open_after_sale checks them again
        name = (upload.filename or "photo")[:_NAME]
        data = await upload.read(photo_rules.MAX_BYTES + 1)
        if len(data) > photo_rules.MAX_BYTES:
            return refuse(413, "return_too_big", posted, name=name)
        if photo_rules.sniff(data[:16]) is None:
            return refuse(415, "return_not_image", posted, name=name)
        photos.append((upload.content_type or "", data))
    scope = site.scope(request, ctx)
    assert scope is not None  # checked before the body was read
    try:
        checked = await returns.prepare_return(scope, order_id, posted.kind, posted.quantities, posted.reason, posted.note, photos)
        await _open(checked)
    except DomainError as error:
        log.info("tracking return refused for an order of tenant %s: %s (%s)", ctx.brand.slug, error.code, error.field)
        return refuse(422 if isinstance(error, ValidationFailed | NotFound) else 409, _words_for(error), posted)
    return site.redirect(request, ctx, f"{ctx.base}/{number}?done=return&o={number}#card-{number}")


async def _open(request: returns.ReturnRequest) -> Any:
    """Open the after-sale (``domain.after_sales`` commits it, lines and photos, in one transaction)."""
    return await open_after_sale(
        request.actor, request.order_id, request.kind, request.lines, request.reason, source=returns.SOURCE,
        photos=request.photos,
    )


def _words_for(error: DomainError) -> str:
    """The form's sentence for a refusal: by the field it names (``lines.0.quantity`` -> quantity)."""
    field_name = (error.field or "").split(".")
    for part in (field_name[-1], field_name[0]):
        if part in _FIELD_WORDS:
            return _FIELD_WORDS[part]
    return "return_failed"


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""
