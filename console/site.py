"""The console's state and what every request needs: the signed-in person, the language, CSRF, rendering.

Sessions are an HttpOnly, SameSite=Lax cookie (Secure over https) holding a
random token whose hash is the ``ConsoleSession`` row. Every POST form
carries a CSRF token: the session's own once signed in, and before that (the
sign-in form) a double-submit cookie. Pages are rendered from Jinja
templates; the stylesheet and the board's small live-update script are served from
``static/`` (no CDN).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from console import accounts, i18n
from console.client import GraphQLClient, Result
from domain.actor import Actor
from models import ConsoleSession

BASE = "/console"
SESSION_COOKIE = "og_console"
LOGIN_CSRF_COOKIE = "og_console_csrf"
#: Capabilities the console does not have yet: shown in the navigation as such.
LATER: tuple[str, ...] = ()
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; "
       "form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def secure_request(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


@dataclass
class View:
    """What templates may use: words, times, the person, a CSRF token, links."""

    lang: str
    path: str
    query: dict[str, str]
    csrf: str
    user: Any = None
    section: str = ""
    later: tuple[str, ...] = LATER
    base: str = BASE
    extra: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str, **values: object) -> str:
        return i18n.t(self.lang, key, **values)

    def time(self, value: Any, seconds: bool = False) -> str:
        return i18n.local_time(value, seconds=seconds)

    @property
    def lang_url(self) -> str:
        return f"{self.path}?{urlencode({**self.query, 'lang': self.t('switch_lang')})}"


class Console:
    def __init__(self, settings: Any, client: GraphQLClient) -> None:
        self.settings = settings
        self.client = client
        self.templates = Environment(loader=PackageLoader("console", "templates"), autoescape=select_autoescape(),
                                     trim_blocks=True, lstrip_blocks=True)

    # who is asking -------------------------------------------------------------

    async def session(self, request: Request) -> ConsoleSession | None:
        return await accounts.session_for(request.cookies.get(SESSION_COOKIE))

    def actor(self, session: ConsoleSession) -> Actor:
        return accounts.actor_of(session.user)

    async def gql(self, request: Request, session: ConsoleSession, document: str, variables: dict[str, Any] | None = None,
                  *, payload: str | None = None) -> Result:
        return await self.client.run(self.actor(session), request, document, variables, payload=payload)

    async def rows(self, request: Request, session: ConsoleSession, spec: tuple[str, str]) -> tuple[list[dict[str, Any]], Result]:
        return await self.client.rows(self.actor(session), request, spec)

    def view(self, request: Request, session: ConsoleSession | None, section: str = "", csrf: str = "") -> View:
        lang, _ = i18n.pick_lang(request)
        query = {k: v for k, v in request.query_params.items() if k not in ("lang", "done")}
        path = request.url.path
        if request.method == "POST":  # a page drawn in answer to a form: its language link goes to the page's GET
            path = path.removesuffix("/act").removesuffix("/replay").removesuffix("/repair")
        return View(lang, path, query, session.csrf_token if session else csrf,
                    session.user if session else None, section)

    @staticmethod
    def csrf_ok(request: Request, session: ConsoleSession | None, token: str) -> bool:
        """The form's token is the session's (or, before sign-in, the double-submit cookie's); same-site only."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            return False
        origin = request.headers.get("origin")
        if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host", ""):
            return False
        expected = session.csrf_token if session else request.cookies.get(LOGIN_CSRF_COOKIE, "")
        return bool(expected) and bool(token) and hmac.compare_digest(expected.encode(), token.encode())

    # answers ---------------------------------------------------------------------

    def page(self, request: Request, template: str, view: View, *, status: int = 200, **context: Any) -> Response:
        html = self.templates.get_template(template).render(v=view, **context)
        return self.finish(request, HTMLResponse(html, status_code=status))

    def finish(self, request: Request, response: Response) -> Response:
        response.headers["content-security-policy"] = CSP
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "same-origin"
        response.headers["cache-control"] = "no-store"
        lang, remember = i18n.pick_lang(request)
        if remember:
            response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, path=BASE, samesite="lax",
                                secure=secure_request(request))
        return response

    def redirect(self, request: Request, url: str) -> Response:
        return self.finish(request, RedirectResponse(url, status_code=303))

    def to_sign_in(self, request: Request, *, expired: bool = False) -> Response:
        response = self.redirect(request, f"{BASE}/sign-in" + ("?expired=1" if expired else ""))
        if expired:
            response.delete_cookie(SESSION_COOKIE, path=BASE)
        return response

    def refused(self, request: Request, session: ConsoleSession | None) -> Response:
        view = self.view(request, session)
        return self.page(request, "message.html", view, status=403, message=view.t("csrf_failed"), tone="err")

    def set_session(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(SESSION_COOKIE, token, max_age=accounts.SESSION_HOURS * 3600, path=BASE, httponly=True,
                            samesite="lax", secure=secure_request(request))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=BASE)

    def login_csrf(self, request: Request) -> tuple[str, bool]:
        value = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if 20 <= len(value) <= 64:
            return value, False
        return secrets.token_urlsafe(24), True

    def set_login_csrf(self, request: Request, response: Response, value: str) -> None:
        response.set_cookie(LOGIN_CSRF_COOKIE, value, path=BASE, httponly=True, samesite="lax",
                            secure=secure_request(request))

    @staticmethod
    def static(name: str) -> bytes | None:
        folder = resources.files("console").joinpath("static")
        if "/" in name or name.startswith(".") or not folder.joinpath(name).is_file():
            return None
        return folder.joinpath(name).read_bytes()
