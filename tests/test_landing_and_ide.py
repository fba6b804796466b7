"""``GET /`` (the landing page), the GraphiQL page at ``GET /graphql`` and its vendored files, and the demo banner."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Route

from api.app import create_app
from api.landing import DOCS, banner_lines
from api.seed import SHOWCASE_PHONE, seed_tracking_showcase
from models.order import order_no
from tests.conftest import World, settings_for

ROOT = Path(__file__).parents[1]
LINKS = ("/graphql", "/track", "/healthz", "/metrics")


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def acme_app(db: str, world: World) -> AsyncIterator[Any]:
    """The app with the ``world`` tenant (acme) at /track, as ``make run`` has the demo tenant."""
    application = create_app(settings_for(db, tracking_tenant="acme"), manage_database=False)
    async with application.router.lifespan_context(application):
        yield application


def _hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]*)"', html))


def _without_console(app: Any) -> None:
    """As a build without the console: drop whatever route answers /console."""
    scope = {"type": "http", "method": "GET", "path": "/console", "root_path": ""}
    app.router.routes[:] = [route for route in app.router.routes if route.matches(scope)[0] == Match.NONE]


async def test_landing_links_everything_and_says_the_console_is_coming(acme_app):
    _without_console(acme_app)
    async with _client(acme_app) as client:
        page = await client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert set(LINKS) <= _hrefs(page.text)
    assert "/console" not in _hrefs(page.text) and "/console</span> Operations console (coming)" in page.text
    assert all(f"<code>{path}</code>" in page.text for path in DOCS)
    assert "demo look-up" not in page.text  # acme holds no demo seed
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # self-contained: nothing from elsewhere
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_landing_speaks_chinese_by_default_and_english_when_asked(acme_app):
    _without_console(acme_app)
    async with _client(acme_app) as client:
        chinese = await client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
        asked = await client.get("/?lang=en", headers={"accept-language": "zh-CN"})
    assert '<html lang="zh-CN">' in chinese.text and "顾客物流查询页" in chinese.text and "即将推出" in chinese.text
    assert '<html lang="en">' in asked.text and "Customer tracking page" in asked.text


async def test_landing_shows_the_demo_look_up_once_the_showcase_is_seeded(acme_app, world):
    ids = await seed_tracking_showcase(world.tenant.id)
    async with _client(acme_app) as client:
        page = await client.get("/", headers={"accept-language": "en"})
    assert f"demo look-up: order {order_no(ids['in_transit'])}, phone digits {SHOWCASE_PHONE[-4:]}" in page.text
    assert SHOWCASE_PHONE not in page.text


async def test_landing_links_the_console_once_the_app_serves_it(acme_app):
    _without_console(acme_app)
    acme_app.router.routes.append(Route("/console", lambda request: PlainTextResponse("console")))
    async with _client(acme_app) as client:
        page = await client.get("/", headers={"accept-language": "en"})
    assert "/console" in _hrefs(page.text) and "(coming)" not in page.text


async def test_graphiql_page_boots_from_our_own_files_only(acme_app):
    async with _client(acme_app) as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert not [url for url in sources if "//" in url], sources  # no CDN, no other host
        assets = [url for url in sources if url.startswith("/static/graphiql/")]
        assert {Path(url.split("?")[0]).name for url in assets} >= {
            "graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js",
            "graphql-ws.min.js", "boot.js"}
        for url in assets:
            served = await client.get(url)
            assert served.status_code == 200 and served.content, url
    assert "Bearer &lt;your key&gt;" in page.text  # the Headers tab starts with the placeholder
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_production_serves_no_graphiql_files(db):
    app = create_app(settings_for(db, env="production"), manage_database=False)
    async with _client(app) as client:
        assert (await client.get("/static/graphiql/graphiql.min.js")).status_code == 404
        landing = await client.get("/", headers={"accept-language": "en"})
    assert "GraphiQL is off in production" in landing.text and 'href="/graphql"' not in landing.text


def test_vendored_files_are_listed_with_their_licences():
    folder = ROOT / "api" / "static" / "graphiql"
    readme, licences = (folder / "README.md").read_text(), (folder / "LICENSE").read_text()
    for file in folder.iterdir():
        if file.suffix in {".js", ".css"}:
            assert file.name in readme, f"{file.name} is not described in api/static/graphiql/README.md"
    assert licences.count("MIT License") >= 3 and "graphql-ws" in licences


def test_documents_the_landing_page_names_exist():
    assert [path for path in DOCS if not (ROOT / path).is_file()] == []


def test_demo_banner_names_the_landing_page_urls_and_the_look_up():
    text = banner_lines("http://127.0.0.1:8000", ("OG000000001", "5678"))
    for path in ("/", *LINKS, "/console"):
        assert f"http://127.0.0.1:8000{path}" in text
    assert "demo look-up: order OG000000001, phone digits 5678" in text
    assert "demo look-up" not in banner_lines("http://127.0.0.1:8000", None)
