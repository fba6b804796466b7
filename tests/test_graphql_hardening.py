"""Hostile or sloppy queries get clear errors, never a 500, and change nothing."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.app import create_app
from models import Order
from tests.conftest import settings_for
from tests.helpers import paid_order


def _messages(body: dict) -> str:
    return " | ".join(error["message"] for error in body.get("errors", []))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ orders(first: 20 { edges }", "Syntax Error"),
        ("{ orders(first: \"many\") { edges { cursor } } }", "Int cannot represent"),
        ("{ orders(filter: {status: [SHIPPED_MAYBE]}) { edges { cursor } } }", "SHIPPED_MAYBE"),
        ("{ nosuchfield }", "Cannot query field"),
        ("{ orders(first: 1000) { edges { cursor } } }", "first must be between 0 and 100"),
        ("{ orders(first: -1) { edges { cursor } } }", "first must be between 0 and 100"),
        ('{ orders(after: "forged") { edges { cursor } } }', "not a cursor this API issued"),
        ("{ alerts(first: 500) { nodes { id } } }", "first must be between 0 and 100"),
    ],
)
async def test_bad_queries_get_clear_errors(world, gql, query, expected):
    response = await gql.post(world.keys["ops"], query)
    assert response.status_code in (200, 400)
    assert expected in _messages(response.json())


async def test_too_deep_too_many_aliases_and_too_many_tokens_are_refused(world, gql):
    key = world.keys["ops"]
    deep = "{ orders { edges { node { channel { orders { edges { node { customer { orders { edges { node { lines { stock { warehouse { orders { edges { node { id } } } } } } } } } } } } } } } } } }"
    assert "exceeds maximum operation depth" in _messages((await gql.post(key, deep)).json())
    aliases = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(50)) + " }"
    assert "aliases" in _messages((await gql.post(key, aliases)).json()).lower()
    tokens = "{ viewer { " + " ".join("role" for _ in range(4000)) + " } }"
    assert "token" in _messages((await gql.post(key, tokens)).json()).lower()


async def test_limits_still_hold_when_the_validation_is_cached(world, gql):
    """A document is validated once; the second request reuses that verdict, refusals included."""
    from strawberry.extensions.validation_cache import (
        DEFAULT_MAXSIZE,
        _get_validate_cache,
    )

    cache = _get_validate_cache(DEFAULT_MAXSIZE)
    key = world.keys["ops"]
    query = "query Repeated { viewer { role } }"
    first = await gql.post(key, query)
    hits = cache.cache_info().hits
    second = await gql.post(key, query)
    assert first.json() == second.json() == {"data": {"viewer": {"role": "ops"}}}
    assert cache.cache_info().hits == hits + 1
    aliases = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(50)) + " }"
    for _ in range(2):
        assert "aliases" in _messages((await gql.post(key, aliases)).json()).lower()


async def test_events_last_is_bounded(world, gql):
    order = await paid_order(world.actor(), world.channel.id)
    from resolvers import ids

    response = await gql.post(world.keys["ops"], "query($id: ID!) { order(id: $id) { events(last: 0) { type } } }", {"id": ids.encode("Order", order.id)})
    assert "last must be between 1 and 100" in _messages(response.json())


async def test_a_failed_mutation_document_changes_nothing(world, gql):
    bad = 'mutation { createOrder(input: {channel: "tmall", externalId: "X", lines: [{sku: "A", quantity: "two", unitPrice: "1"}]}) { errors { code } } }'
    response = await gql.post(world.keys["ops"], bad)
    assert response.json().get("errors")
    assert await Order.all().count() == 0


async def _production_client(database_url: str):
    app = create_app(settings_for(database_url, env="production"), manage_database=False)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_production_mode_hides_introspection_suggestions_and_the_ide(world, db):
    app, client = await _production_client(db)
    async with app.router.lifespan_context(app), client:
        headers = {"authorization": f"Bearer {world.keys['ops']}"}
        introspection = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=headers)
        assert "introspection has been disabled" in _messages(introspection.json()).lower()
        typo = _messages((await client.post("/graphql", json={"query": "{ ordrs { id } }"}, headers=headers)).json())
        assert "Cannot query field 'ordrs'" in typo and "Did you mean" not in typo
        ide = await client.get("/graphql", headers={"accept": "text/html"})
        assert ide.status_code == 401


async def test_development_mode_suggests_fields(world, gql):
    typo = _messages((await gql.post(world.keys["ops"], "{ ordrs { id } }")).json())
    assert "Did you mean 'order'" in typo or "Did you mean 'orders'" in typo


async def test_development_mode_serves_graphiql_without_a_key(db):
    app = create_app(settings_for(db), manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        page = await client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_unexpected_errors_are_masked_with_a_correlation_id_in_production(world, db, monkeypatch, caplog):
    from resolvers import catalog

    async def broken(ctx):
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(catalog, "warehouses", broken)
    app, client = await _production_client(db)
    async with app.router.lifespan_context(app), client:
        with caplog.at_level(logging.ERROR, logger="ordergraph.graphql"):
            response = await client.post(
                "/graphql", json={"query": "{ warehouses { id } }"}, headers={"authorization": f"Bearer {world.keys['ops']}"}
            )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert "hunter2" not in error["message"]
    correlation_id = error["extensions"]["correlationId"]
    assert correlation_id in error["message"]
    assert any(correlation_id in record.getMessage() for record in caplog.records)
