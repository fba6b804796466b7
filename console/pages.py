"""Signing in and out, the "not available yet" pages and static files; ``signed_in`` guards every other page.

    @signed_in
    async def board(console, request, session): ...
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from console import accounts
from console.site import BASE, LATER, SESSION_COOKIE, Console
from models import ConsoleSession

log = logging.getLogger("ordergraph.console")
MAX_FIELD = 1000
Page = Callable[[Console, Request, ConsoleSession], Awaitable[Response]]
_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".js": "text/javascript; charset=utf-8"}


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


def signed_in(page: Page) -> Callable[[Console, Request], Awaitable[Response]]:
    """Run ``page`` for a live session; else back to sign-in (saying so when a session has just expired)."""

    @wraps(page)
    async def guarded(console: Console, request: Request) -> Response:
        session = await console.session(request)
        if session is None:
            return console.to_sign_in(request, expired=bool(request.cookies.get(SESSION_COOKIE)))
        return await page(console, request, session)

    return guarded


def posted(page: Callable[[Console, Request, ConsoleSession, dict[str, str]], Awaitable[Response]]) -> Page:
    """A POST page: its form, refused with 403 unless the session's CSRF token came with it."""

    @wraps(page)
    async def checked(console: Console, request: Request, session: ConsoleSession) -> Response:
        form = await form_of(request)
        if not console.csrf_ok(request, session, form.get("csrf", "")):
            return console.refused(request, session)
        return await page(console, request, session, form)

    return checked


async def home(console: Console, request: Request) -> Response:
    return console.redirect(request, f"{BASE}/board")


async def sign_in_page(console: Console, request: Request, *, status: int = 200, message: str = "",
                       email: str = "") -> Response:
    if status == 200 and await console.session(request) is not None:
        return console.redirect(request, f"{BASE}/board")
    csrf, new = console.login_csrf(request)
    view = console.view(request, None, "sign-in", csrf)
    if not message and request.query_params.get("expired"):
        message = view.t("session_expired")
    if not message and request.query_params.get("bye"):
        message = view.t("signed_out")
    tone = "err" if status >= 400 else "ok" if request.query_params.get("bye") else "warn"
    response = console.page(request, "sign_in.html", view, status=status, message=message, email=email, tone=tone)
    if new:
        console.set_login_csrf(request, response, csrf)
    return response


async def sign_in(console: Console, request: Request) -> Response:
    form = await form_of(request)
    if not console.csrf_ok(request, None, form.get("csrf", "")):
        return console.refused(request, None)
    view = console.view(request, None)
    email = form.get("email", "")[:254]
    outcome = await accounts.sign_in(email, form.get("password", ""))
    if outcome.user is None:
        log.info("console sign-in refused%s", " (locked)" if outcome.locked else "")  # never the email or password
        text = view.t("locked") if outcome.locked else view.t("bad_credentials")
        return await sign_in_page(console, request, status=429 if outcome.locked else 401, message=text, email=email)
    token, _ = await accounts.open_session(outcome.user)
    response = console.redirect(request, f"{BASE}/board")
    console.set_session(request, response, token)
    return response


@signed_in
@posted
async def sign_out(console: Console, request: Request, session: ConsoleSession, form: dict[str, str]) -> Response:
    await accounts.close_session(request.cookies.get(SESSION_COOKIE))
    response = console.redirect(request, f"{BASE}/sign-in?bye=1")
    response.delete_cookie(SESSION_COOKIE, path=BASE)
    return response


@signed_in
async def later(console: Console, request: Request, session: ConsoleSession) -> Response:
    name = request.path_params["name"]
    if name not in LATER:
        return console.finish(request, PlainTextResponse("not found", status_code=404))
    view = console.view(request, session, name)
    return console.page(request, "later.html", view, title=view.t(f"nav_{name}"))


async def static(console: Console, request: Request) -> Response:
    name: str = request.path_params["name"]
    suffix = name[name.rfind("."):] if "." in name else ""
    body = console.static(name) if suffix in _STATIC_TYPES else None
    if body is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(body, media_type=_STATIC_TYPES[suffix],
                    headers={"cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"})


def problem_status(code: str) -> int:
    return {"FORBIDDEN": 403, "NOT_FOUND": 404, "UNAUTHENTICATED": 401}.get(code, 422)

