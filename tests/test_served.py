"""Through a real uvicorn process: the app reaches its database from request handlers,
reports its health honestly, exposes metrics, and the CLI mints working keys."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx

from tests.helpers import paid_order
from tests.served import served


async def test_served_app_answers_graphql_from_the_database(world, db):
    await paid_order(world.actor(), world.channel.id, "SERVED-1")
    with served(db) as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            health = await client.get("/healthz")
            response = await client.post(
                "/graphql",
                json={"query": "query Dashboard { orders(first: 5) { edges { node { externalId status } } } }", "operationName": "Dashboard"},
                headers={"authorization": f"Bearer {world.keys['ops']}"},
            )
            unauthenticated = await client.post("/graphql", json={"query": "{ viewer { role } }"})
            metrics = await client.get("/metrics")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
    assert response.json() == {"data": {"orders": {"edges": [{"node": {"externalId": "SERVED-1", "status": "PAID"}}]}}}
    assert unauthenticated.status_code == 401
    assert 'ordergraph_graphql_operations_total{operation="Dashboard",outcome="ok",type="query"} 1.0' in metrics.text
    assert 'ordergraph_http_requests_total{method="POST",route="/graphql",status="401"} 1.0' in metrics.text
    assert "ordergraph_graphql_operation_seconds_bucket" in metrics.text


def test_health_is_503_and_graphql_is_503_when_the_database_is_unreachable():
    with served("postgres://postgres@127.0.0.1:9/nowhere", wait_healthy=False) as base:
        health = httpx.get(f"{base}/healthz", timeout=10)
        graphql = httpx.post(f"{base}/graphql", json={"query": "{ viewer { role } }"}, headers={"authorization": "Bearer og_x"}, timeout=10)
    assert health.status_code == 503 and health.json()["database"] == "unreachable"
    assert graphql.status_code == 503


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_cli_key_is_the_last_line_and_works(world, db):
    created = await asyncio.to_thread(_cli, "keys", "create", "--tenant", "acme", "--role", "warehouse", "--owner", "test-suite", database_url=db)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("og_")
    refused = await asyncio.to_thread(_cli, "keys", "create", "--tenant", "nobody", "--role", "ops", "--owner", "test-suite", database_url=db)
    assert refused.returncode == 2 and "no tenant nobody" in refused.stderr
    with served(db) as base:
        viewer = httpx.post(f"{base}/graphql", json={"query": "{ viewer { role seesPersonalData } }"}, headers={"authorization": f"Bearer {key}"}, timeout=10)
    assert viewer.json() == {"data": {"viewer": {"role": "warehouse", "seesPersonalData": False}}}


async def test_the_server_log_holds_no_personal_data_or_tracking_tokens_even_at_debug(world, db):
    """Operators turn on DEBUG when something breaks: the log still must not leak phones or working links."""
    await paid_order(world.actor(), world.channel.id, "LOGGED-1", phone="13955554444")
    log: list[str] = []
    with served(db, output=log, LOG_LEVEL="DEBUG") as base:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            await client.get("/track/t/SIGNEDsecretTOKEN123")
            search = await client.post(
                "/graphql",
                json={"query": '{ orders(first: 5, filter: {search: "13955554444"}) { edges { node { externalId } } } }'},
                headers={"authorization": f"Bearer {world.keys['admin']}"},
            )
    assert search.json()["data"]["orders"]["edges"][0]["node"]["externalId"] == "LOGGED-1", search.text
    text = log[0]
    assert "13955554444" not in text
    assert "GET /track/t/[token]" in text, "the access log should still show that a link was opened"
    assert "SIGNEDsecretTOKEN123" not in text
