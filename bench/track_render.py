"""Server render time and first-view weight of the customer tracking page.

    .venv/bin/python bench/track_render.py [--requests 300]

In-process (the Starlette app through httpx's ASGI transport, so routing,
session checks, queries, templates and gzip are all counted), on a throw-away
SQLite file seeded with the full demo (200 orders on four channels, with
lineage and carrier scans, plus the showcase customer's three orders).
Prints one JSON object per figure per line:

    {"name": "orders_page_p50", "value": 9.1, "unit": "ms"}

Figures: the look-up result (all of a customer's orders as cards, timelines
included) and one order's timeline page, p50/p99 over ``--requests`` requests
after a warm-up; the look-up POST itself (with its lineage write); the first
view's size (the HTML, CSS and script are one response; images excluded) on
the wire (gzip) and uncompressed; and the result page's wire size.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from tortoise import Tortoise

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app  # noqa: E402
from api.database import tortoise_config  # noqa: E402
from api.seed import SHOWCASE_PHONE, seed_demo  # noqa: E402
from api.settings import Settings  # noqa: E402
from models import Customer, Order  # noqa: E402
from models.order import order_no  # noqa: E402


def emit(name: str, value: float, unit: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 2), "unit": unit}), flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(http: httpx.AsyncClient, path: str, n: int) -> list[float]:
    for _ in range(20):
        assert (await http.get(path)).status_code == 200
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await http.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return samples


async def main(requests: int) -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{folder}/bench.sqlite3"
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await Tortoise.generate_schemas()
        await seed_demo("demo")
        customer = await Customer.get(phone=SHOWCASE_PHONE)
        first = await Order.filter(customer_id=customer.id).order_by("id").first()
        app = create_app(Settings(database_url=url, tracking_fail_floor_ms=0, maintenance_interval_seconds=0), manage_database=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"accept-language": "zh-CN", "accept-encoding": "gzip"}
            async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as http:
                first_view = await http.get("/track")
                raw = first_view.content
                emit("first_view_wire_kb", len(gzip.compress(raw, 6)) / 1024, "KB")
                emit("first_view_html_kb", len(raw) / 1024, "KB")
                emit("first_view_requests", 1, "count")
                token = re.search(r'name="csrf" value="([^"]+)"', first_view.text).group(1)
                lookups = []
                for _ in range(30):
                    http.cookies.delete(f"og_trk_{customer.tenant_id}")  # type: ignore[attr-defined]
                    started = time.perf_counter()
                    answer = await http.post("/track/-/lookup", data={"csrf": token, "order": order_no(first.id), "last4": SHOWCASE_PHONE[-4:]})
                    lookups.append((time.perf_counter() - started) * 1000)
                    assert answer.status_code == 303, answer.text[:300]
                emit("lookup_post_p50", statistics.median(lookups), "ms")
                page = await http.get("/track")
                assert page.text.count('<article class="card"') == 3
                emit("orders_page_wire_kb", len(gzip.compress(page.content, 6)) / 1024, "KB")
                emit("orders_page_html_kb", len(page.content) / 1024, "KB")
                samples = await timed(http, "/track", requests)
                emit("orders_page_p50", statistics.median(samples), "ms")
                emit("orders_page_p99", percentile(samples, 0.99), "ms")
                samples = await timed(http, f"/track/{order_no(first.id)}", requests)
                emit("order_timeline_p50", statistics.median(samples), "ms")
                emit("order_timeline_p99", percentile(samples, 0.99), "ms")
        await Tortoise.close_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
