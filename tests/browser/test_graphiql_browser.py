"""GraphiQL and the landing page in a real Chromium that may reach nothing but the server.

Every request to another origin is aborted (route interception) and recorded; the test fails if any
was attempted, and if any request or WebSocket the page made left the server's origin.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from domain.actor import Role
from domain.tenants.accounts import create_api_key
from models import Order
from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.browser


class Offline:
    """Aborts and records every request that leaves ``origin``; records every URL the page asked for."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.blocked: list[str] = []
        self.seen: list[str] = []

    async def attach(self, context: Any) -> None:
        await context.route("**/*", self._route)
        context.on("request", lambda request: self.seen.append(request.url))
        context.on("page", lambda page: page.on("websocket", lambda socket: self.seen.append(socket.url)))

    async def _route(self, route: Any) -> None:
        if self._ours(route.request.url):
            await route.continue_()
        else:
            self.blocked.append(route.request.url)
            await route.abort()

    def _ours(self, url: str) -> bool:
        parts, base = urlsplit(url), urlsplit(self.origin)
        return parts.scheme in {"http", "ws"} and parts.netloc == base.netloc

    def assert_stayed_home(self) -> None:
        assert self.blocked == [], f"the page asked other origins: {self.blocked}"
        away = [url for url in self.seen if not url.startswith("data:") and not self._ours(url)]
        assert away == [], f"requests left {self.origin}: {away}"


async def _editor_text(page: Any, selector: str, text: str) -> None:
    """Replace a CodeMirror editor's text the way a person pastes it (no auto-closed brackets)."""
    await page.locator(f"{selector} .CodeMirror").first.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def _type_query(page: Any, text: str) -> None:
    """Paste a query, then wait until GraphiQL has taken it in (it stores the query and works out the
    operation after a short debounce; a click before that would still send the old operation name)."""
    await _editor_text(page, ".graphiql-query-editor", text)
    await page.wait_for_function("text => localStorage.getItem('graphiql:query') === text", arg=text)


async def test_graphiql_runs_a_query_and_a_subscription_with_no_outside_request(site: Site, browser, carrier_db):  # noqa: ANN001
    _, key = await create_api_key("demo", Role.ADMIN, owner="browser-test")
    newest = await Order.filter(tenant_id=site.tenant_id).order_by("-id").first()
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    offline = Offline(site.base)
    await offline.attach(context)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    await page.goto(f"{site.base}/graphql")
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    headers = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
    await expect(headers).to_contain_text("Bearer <your key>")  # the Headers tab is open and pre-filled

    await _editor_text(page, ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
                       json.dumps({"Authorization": f"Bearer {key}"}))
    await _type_query(page, "{ viewer { role } orders(first: 1) { edges { node { number } } } }")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    response = page.locator(".graphiql-response")
    await expect(response).to_contain_text('"role": "admin"', timeout=10_000)
    await expect(response).to_contain_text(f"OG{newest.id:09d}")
    await shot(page, "graphiql-query")

    await _type_query(page, "subscription { orderEvents(after: 0) { eventId type } }")
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()
    await expect(response).to_contain_text('"orderEvents"', timeout=10_000)  # replayed over graphql-transport-ws
    await expect(response).to_contain_text('"eventId": ')
    assert f"{site.base.replace('http', 'ws')}/graphql" in offline.seen, "the subscription did not use the WebSocket"
    await page.get_by_role("button", name="Stop query (Ctrl-Enter)").click()

    assert errors == [], errors
    offline.assert_stayed_home()
    await context.close()


async def test_landing_page_links_work_offline_and_show_the_demo_look_up(site: Site, browser):  # noqa: ANN001
    context = await browser.new_context(locale="en-GB", extra_http_headers={"accept-language": "en-GB,en;q=0.9"})
    offline = Offline(site.base)
    await offline.attach(context)
    page = await context.new_page()
    await page.goto(f"{site.base}/")
    await expect(page.get_by_role("heading", name="OrderGraph order hub")).to_be_visible()
    await expect(page.get_by_text(f"demo look-up: order {site.number('in_transit')}, phone digits 5678")).to_be_visible()
    await page.get_by_role("link", name="/track").click()
    await expect(page).to_have_url(f"{site.base}/track")
    await page.go_back()
    await page.get_by_role("link", name="/graphql").click()
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)
    offline.assert_stayed_home()
    await context.close()
