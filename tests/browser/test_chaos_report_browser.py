"""The saved chaos report opened from disk in a real Chromium, at phone and desktop width.

No server: the page is a file (``file://``) and must need nothing else: any request
to anywhere but that file fails the test. Screenshots go to
``tests/artifacts/chaos-report-*.png`` (whole pages) and ``chaos-report.png`` (the desktop
page from the verdict down to the fault timeline); with ``REFRESH_SCREENSHOT=1`` that
one also to ``docs/chaos-report.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect

from chaos.report import save
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, DOCS, PHONE_VIEWPORT, _require_chromium, shot
from tests.test_chaos_report import failing_run

pytestmark = pytest.mark.browser
SIZES: dict[str, dict[str, Any]] = {
    "phone": {"viewport": PHONE_VIEWPORT, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
}


async def _read(browser: Any, url: str, size: str) -> None:
    """Open the report at one size, check what a reader sees, and take its screenshots."""
    context = await browser.new_context(**SIZES[size])
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = await context.new_page()
    await page.goto(url)
    await expect(page.get_by_role("heading", name="A simulated day: FAILED")).to_be_visible()
    charts = page.locator("svg.chart")
    await expect(charts).to_have_count(4)  # agreement per dimension, throughput, latency, fault timeline
    for i in range(4):
        await charts.nth(i).scroll_into_view_if_needed()
        await expect(charts.nth(i)).to_be_visible()
        box = await charts.nth(i).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 40, (size, i, box)
    await expect(page.locator("table.wrong tr")).to_have_count(27)  # a header and all 26 disagreeing orders
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), size  # no sideways page
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, f"chaos-report-{size}", full_page=True)
    if size == "desktop":
        timeline = await charts.nth(3).bounding_box()
        height = timeline["y"] + timeline["height"] + 4  # type: ignore[index]
        await page.screenshot(path=str(ARTIFACTS / "chaos-report.png"), full_page=True,
                              clip={"x": 0, "y": 0, "width": 1280, "height": height})
    await context.close()
    assert requested == [url], requested  # the page itself, nothing else: no CDN, font or script


async def test_the_saved_report_reads_offline_on_a_phone_and_a_desktop(tmp_path: Path) -> None:
    _require_chromium()
    page, _ = save(failing_run(), tmp_path / "chaos-report.html")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await _read(browser, page.as_uri(), "phone")
            await _read(browser, page.as_uri(), "desktop")
        finally:
            await browser.close()
    if os.environ.get("REFRESH_SCREENSHOT"):  # `REFRESH_SCREENSHOT=1 make test` renews the README's picture
        DOCS.mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / "chaos-report.png", DOCS / "chaos-report.png")
