"""A real server (uvicorn in a subprocess, temp SQLite) and Debian's Chromium driven by Playwright.

The test process opens the same SQLite file to play the carrier (``record_tracking``);
the server's outbox dispatcher polls the file, so those events reach the page live.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from api.database import tortoise_config
from tests.conftest import IN_CI, run_sync
from tests.served import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
DOCS = Path(__file__).parents[2] / "docs"
PHONE_VIEWPORT = {"width": 390, "height": 844}


@dataclass
class Site:
    base: str
    database_url: str
    log: Path
    ids: dict[str, int]
    tenant_id: int

    def number(self, state: str) -> str:
        return f"OG{self.ids[state]:09d}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def codes(self) -> list[str]:
        return re.findall(r"dev sms \(no gateway configured\): code (\d{6})", self.log_text())

    def next_code(self, seen: int, timeout: float = 10.0) -> str:
        """The first code logged after ``seen`` codes (the text goes out in the background)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            codes = self.codes()
            if len(codes) > seen:
                return codes[seen]
            time.sleep(0.05)
        raise AssertionError("the server logged no new code")


def _require_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    if IN_CI:
        pytest.fail(f"{CHROMIUM} is missing (CI=true: browser tests must run; scripts/ensure-chromium installs it)")
    pytest.skip(f"{CHROMIUM} is missing")


async def _seed(database_url: str) -> tuple[int, dict[str, int]]:
    from api.seed import seed_tracking_showcase
    from domain.catalog import setup as catalog
    from domain.tenants.accounts import create_tenant

    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
    try:
        await Tortoise.generate_schemas()
        tenant = await create_tenant("demo", "清茗茶叶 Qingming Tea")
        await catalog.create_warehouse(tenant.id, "SH", "上海青浦仓", province="上海", city="上海")
        return tenant.id, await seed_tracking_showcase(tenant.id)
    finally:
        await Tortoise.close_connections()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite://{folder / 'track.sqlite3'}"
    tenant_id, ids = run_sync(_seed(database_url))
    log = folder / "server.log"
    try:
        with uvicorn_server(database_url, log) as base:
            yield Site(base, database_url, log, ids, tenant_id)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTIFACTS / "browser-server.log")


@contextmanager
def uvicorn_server(database_url: str, log: Path) -> Iterator[str]:
    """``api.main`` under uvicorn on a free port, the demo tenant's tracking page on, its log into ``log``."""
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "PORT": str(port), "LOG_LEVEL": "INFO",
        "ORDERGRAPH_TRACKING_TENANT": "demo", "ORDERGRAPH_MAINTENANCE_SECONDS": "0",
    }
    env.pop("REDIS_URL", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:app_from_env", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/track", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture
async def carrier_db(site: Site) -> AsyncIterator[None]:
    """The test side's own connection to the server's database (to play carrier and check results)."""
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(site.database_url), _enable_global_fallback=True)
    yield
    await Tortoise.close_connections()


@pytest.fixture
async def browser(site: Site) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def phone(browser: Any, *, locale: str = "zh-CN", javascript: bool = True) -> Any:
    """A fresh phone-sized browser context (its own cookies)."""
    return await browser.new_context(
        viewport=PHONE_VIEWPORT, device_scale_factor=2, locale=locale, is_mobile=True, has_touch=True,
        java_script_enabled=javascript, extra_http_headers={"accept-language": f"{locale},{locale[:2]};q=0.9"},
    )


async def shot(page: Any, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path
