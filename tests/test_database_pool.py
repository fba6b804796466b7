"""A busy server's database work is not queued behind a handful of PostgreSQL connections.

Tortoise's default pool of 5 was the ceiling of a served process at a peak: intake, the webhook sender, the WMS
pusher, the sweeps and the pollers all waited for one of five connections (the pusher got a turn about once a
second on the chaotic day).
"""

from __future__ import annotations

import asyncio

from tortoise import Tortoise, connections

from api.database import POSTGRES_POOL_MAXSIZE, tortoise_config


async def _backends_used_at_once(url: str, statements: int) -> int:
    await Tortoise.init(config=tortoise_config(url))
    try:
        connection = connections.get("default")
        rows = await asyncio.gather(*(connection.execute_query_dict("SELECT pg_backend_pid() AS pid, pg_sleep(0.3)")
                                      for _ in range(statements)))
        return len({row[0]["pid"] for row in rows})
    finally:
        await Tortoise.close_connections()


async def test_twelve_concurrent_statements_each_get_a_connection(postgres_url):
    assert POSTGRES_POOL_MAXSIZE >= 12
    assert await _backends_used_at_once(postgres_url, 12) == 12


async def test_the_url_can_set_the_pool_size(postgres_url):
    assert await _backends_used_at_once(f"{postgres_url}?maxsize=3", 12) == 3
