"""Idempotency-Key on GraphQL mutations: replay, conflicting reuse, in-flight, scope, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from domain import idempotency
from domain.idempotency import ClaimKind
from domain.tenants.accounts import hash_key
from models import IdempotencyRecord, Order
from resolvers import orders as order_resolvers
from tests.helpers import CREATE_ORDER, order_input


async def _create(gql, key: str, external_id: str = "T1001", idem: str | None = "key-1"):
    headers = {"idempotency-key": idem} if idem else {}
    return await gql.post(key, CREATE_ORDER, {"input": order_input(external_id)}, **headers)


async def test_same_key_same_body_replays_the_first_response(world, gql):
    first = await _create(gql, world.keys["ops"])
    second = await _create(gql, world.keys["ops"])
    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["createOrder"]["errors"] == []
    assert second.content == first.content  # not "already exists": the very first answer
    assert second.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await Order.all().count() == 1


async def test_same_key_different_body_is_422(world, gql):
    await _create(gql, world.keys["ops"], "T1001")
    reused = await _create(gql, world.keys["ops"], "T2002")
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await Order.all().count() == 1


async def test_json_spacing_and_key_order_do_not_make_a_different_body(world, gql):
    import json

    body = {"query": CREATE_ORDER, "variables": {"input": order_input("T1")}}
    headers = {"authorization": f"Bearer {world.keys['ops']}", "idempotency-key": "k", "content-type": "application/json"}
    first = await gql.http.post("/graphql", content=json.dumps(body), headers=headers)
    second = await gql.http.post("/graphql", content=json.dumps(body, indent=2, sort_keys=True), headers=headers)
    assert second.headers.get("idempotent-replayed") == "true" and second.content == first.content


async def test_same_key_while_the_first_runs_is_409(world, gql, monkeypatch):
    release = asyncio.Event()
    entered = asyncio.Event()
    original = order_resolvers.create_order

    async def slow(ctx, data):
        entered.set()
        await release.wait()
        return await original(ctx, data)

    monkeypatch.setattr(order_resolvers, "create_order", slow)
    first = asyncio.create_task(_create(gql, world.keys["ops"]))
    await asyncio.wait_for(entered.wait(), 5)
    clash = await _create(gql, world.keys["ops"])
    assert clash.status_code == 409 and clash.headers["retry-after"] == "1"
    assert clash.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_IN_FLIGHT"
    release.set()
    assert (await first).status_code == 200
    assert (await _create(gql, world.keys["ops"])).headers["idempotent-replayed"] == "true"
    assert await Order.all().count() == 1


async def test_keys_are_scoped_to_the_api_key(world, gql):
    await _create(gql, world.keys["ops"])
    other = await _create(gql, world.keys["admin"])  # same key text, another caller: its own request
    assert "idempotent-replayed" not in other.headers
    assert other.json()["data"]["createOrder"]["errors"][0]["code"] == "DUPLICATE"


async def test_queries_and_keyless_requests_pass_through(world, gql):
    response = await gql.post(world.keys["ops"], "{ viewer { role } }", None, **{"idempotency-key": "q"})
    assert response.status_code == 200 and await IdempotencyRecord.all().count() == 0
    assert (await _create(gql, world.keys["ops"], idem=None)).status_code == 200
    assert await IdempotencyRecord.all().count() == 0
    assert (await _create(gql, None)).status_code == 401


async def test_an_unusable_key_is_400(world, gql):
    assert (await _create(gql, world.keys["ops"], idem="x" * 300)).status_code == 400


async def test_keys_live_a_day_and_expired_ones_start_afresh(world, gql):
    await _create(gql, world.keys["ops"])
    record = await IdempotencyRecord.get()
    assert record.expires_at - record.created_at >= timedelta(hours=24) and record.state == "done"
    assert record.tenant_id == world.tenant.id and record.key_scope == hash_key(world.keys["ops"])  # type: ignore[attr-defined]
    await IdempotencyRecord.filter(id=record.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    fresh = await _create(gql, world.keys["ops"], "T3003")
    assert "idempotent-replayed" not in fresh.headers and await Order.all().count() == 2
    assert await idempotency.purge_expired(datetime.now(UTC) + timedelta(days=2)) == 1


async def test_an_abandoned_claim_can_be_taken_over(world):
    now = datetime.now(UTC)
    lock, ttl = timedelta(seconds=60), timedelta(hours=24)
    first = await idempotency.claim(world.tenant.id, "scope", "k", "fp", ttl=ttl, lock=lock, now=now)
    assert first.kind == ClaimKind.RUN
    assert (await idempotency.claim(world.tenant.id, "scope", "k", "fp", ttl=ttl, lock=lock, now=now)).kind == ClaimKind.IN_FLIGHT
    later = now + timedelta(seconds=61)
    taken = await idempotency.claim(world.tenant.id, "scope", "k", "fp", ttl=ttl, lock=lock, now=later)
    assert taken.kind == ClaimKind.RUN and taken.record_id == first.record_id
    await idempotency.release(first.record_id)  # type: ignore[arg-type]
    assert await IdempotencyRecord.all().count() == 0


async def test_simultaneous_retries_run_once(world, gql):
    responses = await asyncio.gather(*(_create(gql, world.keys["ops"]) for _ in range(6)))
    assert {r.status_code for r in responses} <= {200, 409}
    ran = [r for r in responses if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(ran) == 1 and await Order.all().count() == 1
