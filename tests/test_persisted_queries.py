"""Persisted queries: admins register a document, callers send its hash (GraphQL-over-HTTP or Apollo's extension)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.app import create_app
from domain import persisted_queries as store
from domain.persisted_queries import sha256_of
from models import PersistedQuery, Tenant
from tests.conftest import settings_for
from tests.helpers import paid_order

ORDER_BY_NUMBER = """query OrderByNumber($search: String!) {
  orders(filter: {search: $search}, first: 1) { nodes { number status } }
}"""
REGISTER = """mutation($document: String!, $name: String!) {
  registerPersistedQuery(document: $document, name: $name) {
    persistedQuery { sha256 documentId operationName isGlobal enabled registeredBy }
    errors { code field message }
  }
}"""
DISABLE = """mutation($sha: String!) {
  disablePersistedQuery(sha256: $sha) { persistedQuery { enabled } errors { code field message } }
}"""
LIST = """query($after: String) {
  persistedQueries(first: 1, after: $after) { nodes { operationName isGlobal } pageInfo { hasNextPage endCursor } }
}"""


async def _post(gql, key: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await gql.http.post("/graphql", json=body, headers={"authorization": f"Bearer {key}", **headers})


async def _register(gql, key: str, document: str = ORDER_BY_NUMBER, name: str = "") -> dict[str, Any]:
    result = (await gql(key, REGISTER, {"document": document, "name": name}))["registerPersistedQuery"]
    assert result["errors"] == [], result
    return result["persistedQuery"]


async def _order_number(world) -> str:
    order = await paid_order(world.actor(), world.channel.id, "T-PQ-1")
    return f"OG{order.id:09d}"


def _code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_a_registered_document_runs_by_document_id_and_by_apollo_extension(world, gql):
    number = await _order_number(world)
    registered = await _register(gql, world.keys["admin"])
    assert registered["sha256"] == sha256_of(ORDER_BY_NUMBER)
    assert registered["documentId"] == f"sha256:{registered['sha256']}"
    assert registered["operationName"] == "OrderByNumber" and not registered["isGlobal"]
    expected = {"orders": {"nodes": [{"number": number, "status": "PAID"}]}}

    by_id = await _post(gql, world.keys["partner"], {"documentId": registered["documentId"],
                                                      "variables": {"search": number}})
    assert by_id.status_code == 200 and by_id.json() == {"data": expected}
    apollo = await _post(gql, world.keys["ops"], {
        "variables": {"search": number},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": registered["sha256"]}},
    })
    assert apollo.status_code == 200 and apollo.json() == {"data": expected}


async def test_an_unknown_hash_is_persisted_query_not_found(world, gql):
    response = await _post(gql, world.keys["partner"], {"documentId": "sha256:" + "0" * 64})
    assert response.status_code == 200 and _code(response) == "PERSISTED_QUERY_NOT_FOUND"
    apollo = await _post(gql, world.keys["partner"],
                         {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}})
    assert _code(apollo) == "PERSISTED_QUERY_NOT_FOUND"
    malformed = await _post(gql, world.keys["partner"], {"documentId": "sha256:not-a-hash"})
    assert malformed.status_code == 400 and _code(malformed) == "BAD_REQUEST"


async def test_another_tenants_document_is_not_found(world, other_world, gql):
    registered = await _register(gql, other_world.keys["admin"])
    response = await _post(gql, world.keys["admin"], {"documentId": registered["documentId"],
                                                       "variables": {"search": "x"}})
    assert _code(response) == "PERSISTED_QUERY_NOT_FOUND"
    theirs = await _post(gql, other_world.keys["admin"], {"documentId": registered["documentId"],
                                                           "variables": {"search": "x"}})
    assert theirs.json() == {"data": {"orders": {"nodes": []}}}


async def test_a_global_document_serves_every_tenant_and_a_tenants_own_comes_first(world, other_world, gql):
    await store.register(None, ORDER_BY_NUMBER, name="OrderByNumber", registered_by="cli:test")
    for key in (world.keys["partner"], other_world.keys["partner"]):
        response = await _post(gql, key, {"documentId": f"sha256:{sha256_of(ORDER_BY_NUMBER)}",
                                          "variables": {"search": "x"}})
        assert response.json() == {"data": {"orders": {"nodes": []}}}
    listed = (await gql(world.keys["admin"], LIST))["persistedQueries"]
    assert listed["nodes"] == [{"operationName": "OrderByNumber", "isGlobal": True}]


async def test_an_invalid_document_is_refused_at_registration(world, gql):
    for document, name, field in (("query { noSuchField }", "", "document"), ("query {", "", "document"),
                                  (ORDER_BY_NUMBER, "Other", "name")):
        result = (await gql(world.keys["admin"], REGISTER, {"document": document, "name": name}))
        payload = result["registerPersistedQuery"]
        assert payload["persistedQuery"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", field)]
    assert await PersistedQuery.all().count() == 0


async def test_only_admins_register_list_and_disable(world, gql):
    result = (await gql(world.keys["partner"], REGISTER, {"document": ORDER_BY_NUMBER, "name": ""}))
    assert result["registerPersistedQuery"]["errors"][0]["code"] == "FORBIDDEN"
    response = await gql.post(world.keys["ops"], LIST)
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_query_that_does_not_match_its_hash_is_refused(world, gql):
    registered = await _register(gql, world.keys["admin"])
    response = await _post(gql, world.keys["admin"], {"query": "{ viewer { role } }",
                                                       "documentId": registered["documentId"]})
    assert response.status_code == 400 and _code(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    both = await _post(gql, world.keys["admin"], {
        "documentId": registered["documentId"],
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "cd" * 32}},
    })
    assert both.status_code == 400 and _code(both) == "PERSISTED_QUERY_HASH_MISMATCH"


async def test_a_list_pages_with_first_and_after(world, gql):
    await _register(gql, world.keys["admin"])
    await _register(gql, world.keys["admin"], "query Viewer { viewer { role } }")
    first = (await gql(world.keys["admin"], LIST))["persistedQueries"]
    assert first["pageInfo"]["hasNextPage"] and first["nodes"] == [{"operationName": "Viewer", "isGlobal": False}]
    second = (await gql(world.keys["admin"], LIST, {"after": first["pageInfo"]["endCursor"]}))["persistedQueries"]
    assert second["nodes"] == [{"operationName": "OrderByNumber", "isGlobal": False}]
    assert not second["pageInfo"]["hasNextPage"]


async def test_the_second_call_is_served_from_the_cache_and_disabling_invalidates_it(world, gql, app):
    registered = await _register(gql, world.keys["admin"])
    body = {"documentId": registered["documentId"], "variables": {"search": "x"}}
    hits, parsed = store.stats.hits, app.state.graphql.persisted.parsed
    assert (await _post(gql, world.keys["partner"], body)).json() == {"data": {"orders": {"nodes": []}}}
    assert (store.stats.hits, app.state.graphql.persisted.parsed) == (hits, parsed + 1)  # looked up and parsed once
    assert (await _post(gql, world.keys["partner"], body)).json() == {"data": {"orders": {"nodes": []}}}
    assert (store.stats.hits, app.state.graphql.persisted.parsed) == (hits + 1, parsed + 1)  # no query, no parse

    disabled = (await gql(world.keys["admin"], DISABLE, {"sha": registered["documentId"]}))["disablePersistedQuery"]
    assert disabled == {"persistedQuery": {"enabled": False}, "errors": []}
    assert _code(await _post(gql, world.keys["partner"], body)) == "PERSISTED_QUERY_NOT_FOUND"
    again = await _register(gql, world.keys["admin"])  # registering the same text enables it again
    assert again["enabled"] and (await _post(gql, world.keys["partner"], body)).json()["data"] is not None


@pytest.fixture
async def strict_gql(db: str):
    application = create_app(settings_for(db, persisted_only=True), manage_database=False)
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as http:
            from tests.conftest import GraphQLClient

            yield GraphQLClient(http)


async def test_persisted_only_refuses_a_partners_ad_hoc_query_but_serves_its_registered_one(world, strict_gql):
    gql = strict_gql
    registered = await _register(gql, world.keys["admin"])  # admins still send documents
    ad_hoc = await gql.post(world.keys["partner"], ORDER_BY_NUMBER, {"search": "x"})
    assert ad_hoc.status_code == 400 and _code(ad_hoc) == "PERSISTED_QUERY_REQUIRED"
    persisted = await _post(gql, world.keys["partner"], {"documentId": registered["documentId"],
                                                          "variables": {"search": "x"}})
    assert persisted.json() == {"data": {"orders": {"nodes": []}}}
    with_text = await _post(gql, world.keys["partner"], {"query": ORDER_BY_NUMBER, "variables": {"search": "x"},
                                                          "documentId": registered["documentId"]})
    assert with_text.json() == {"data": {"orders": {"nodes": []}}}  # the text of a registered document is fine too
    assert (await gql.post(world.keys["ops"], "{ viewer { role } }")).status_code == 200


async def test_a_persisted_mutation_keeps_its_idempotency_key(world, gql):
    tenant = await Tenant.get(id=world.tenant.id)
    document = 'mutation Tag($id: ID!) { holdOrder(input: {id: $id, reasons: ["FRAUD_CHECK"]}) { errors { code } } }'
    registered = await _register(gql, world.keys["admin"], document)
    order = await paid_order(world.actor(), world.channel.id, "T-PQ-2")
    from resolvers import ids

    body = {"documentId": registered["documentId"], "variables": {"id": ids.encode("Order", order.id)}}
    first = await _post(gql, world.keys["ops"], body, **{"idempotency-key": f"pq-{tenant.id}"})
    second = await _post(gql, world.keys["ops"], body, **{"idempotency-key": f"pq-{tenant.id}"})
    assert first.status_code == 200 and first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"


def test_every_console_document_can_be_registered():
    from api.cli_queries import console_documents
    from schema import build_schema
    from schema.persisted import check_document

    graphql_schema = build_schema(production=False)._schema
    documents = console_documents()
    assert "ORDER_DETAIL" in documents and "BOARD" in documents
    for label, text in documents.items():
        check_document(graphql_schema, text)  # raises ValidationFailed with the reason if one would be refused


async def test_an_oversized_document_is_refused(world, gql):
    huge = "query Big { viewer { role } }" + " " * (70 * 1024)
    payload = (await gql(world.keys["admin"], REGISTER, {"document": huge, "name": ""}))["registerPersistedQuery"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "document")]
