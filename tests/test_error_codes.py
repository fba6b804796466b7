"""Every error a client can get carries ``extensions.code``, and no bad request is answered with a 500.

A frontend switches on the code, never on the message; this table walks the
ways a request goes wrong (syntax, unknown field, bad variable, bad id, page
size, limits, roles, missing rows) and checks each error of each answer.
"""

from __future__ import annotations

import logging

import pytest

from resolvers import ids

DEEP = ("{ orders { edges { node { channel { orders { edges { node { customer { orders { edges { node { lines "
        "{ stock { warehouse { orders { edges { node { id } } } } } } } } } } } } } } } } } }")
COSTLY = "{ orders(first: 100) { edges { node { customer { orders(first: 100) { edges { node { lines { sku } } } } } } } } }"

#: (name, role, query, variables, the code every error of the answer must carry)
BAD_REQUESTS = [
    ("oversized page", "ops", "{ orders(first: 500) { edges { cursor } } }", None, "BAD_PAGE_SIZE"),
    ("negative page", "ops", "{ alerts(first: -1) { __typename } }", None, "BAD_PAGE_SIZE"),
    ("forged cursor", "ops", '{ orders(after: "forged") { edges { cursor } } }', None, "BAD_CURSOR"),
    ("unknown field", "ops", "{ nosuchfield }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("syntax error", "ops", "{ orders(first: 20 { edges }", None, "GRAPHQL_PARSE_FAILED"),
    ("bad global id", "ops", "query($id: ID!) { order(id: $id) { id } }", {"id": "not-an-id"}, "BAD_ID"),
    ("bad global id in a mutation", "ops",
     'mutation { holdOrder(input: {id: "not-an-id", reasons: ["x"]}) { order { id } errors { code field } } }', None,
     "NOT_FOUND"),
    ("bad global id in a filter", "ops", '{ orders(filter: {channel: ["nope"]}) { edges { cursor } } }', None,
     "NOT_FOUND"),
    ("id of another type", "ops", "query($id: ID!) { order(id: $id) { id } }",
     {"id": ids.encode("Warehouse", 1)}, "BAD_ID"),
    ("wrong variable type", "ops", "query($n: Int!) { orders(first: $n) { edges { cursor } } }", {"n": "many"},
     "BAD_USER_INPUT"),
    ("missing variable", "ops", "query($n: Int!) { orders(first: $n) { edges { cursor } } }", None, "BAD_USER_INPUT"),
    ("wrong literal type", "ops", '{ orders(first: "many") { edges { cursor } } }', None, "GRAPHQL_VALIDATION_FAILED"),
    ("unknown enum value", "ops", "{ orders(filter: {status: [SHIPPED_MAYBE]}) { edges { cursor } } }", None,
     "GRAPHQL_VALIDATION_FAILED"),
    ("too deep", "ops", DEEP, None, "QUERY_TOO_DEEP"),
    ("too costly", "ops", COSTLY, None, "QUERY_TOO_COSTLY"),
    ("too many aliases", "ops", "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(50)) + " }", None,
     "QUERY_TOO_COMPLEX"),
    ("too many tokens", "ops", "{ viewer { " + " ".join("role" for _ in range(4000)) + " } }", None,
     "QUERY_TOO_COMPLEX"),
    ("forbidden", "partner", "{ lineageVerification { __typename } }", None, "FORBIDDEN"),
    ("forbidden mutation", "auditor",
     'mutation { holdOrder(input: {id: "T3JkZXI6MQ==", reasons: ["x"]}) { errors { code } } }', None, "FORBIDDEN"),
    ("not found", "ops", "query($id: ID!) { order(id: $id) { id } }", {"id": ids.encode("Order", 999_999)}, None),
]


def _payload_errors(data: dict | None) -> list[dict]:
    """A mutation's typed errors (``payload.errors``), shaped like GraphQL errors for the same check."""
    found = []
    for value in (data or {}).values():
        if isinstance(value, dict) and isinstance(value.get("errors"), list):
            found += [{"extensions": {"code": error.get("code")}} for error in value["errors"]]
    return found


@pytest.mark.parametrize(("name", "role", "query", "variables", "code"), BAD_REQUESTS, ids=[row[0] for row in BAD_REQUESTS])
async def test_every_error_of_a_bad_request_has_its_code(world, gql, name, role, query, variables, code):
    response = await gql.post(world.keys[role], query, variables)
    assert response.status_code < 500, response.text
    body = response.json()
    errors = [*(body.get("errors") or []), *_payload_errors(body.get("data"))]
    if code is None:  # a missing row is null, as Relay clients expect, not an error
        assert errors == [] and body["data"]["order"] is None
        return
    assert errors, body
    assert [error.get("extensions", {}).get("code") for error in errors] == [code] * len(errors), body


async def test_an_unauthenticated_request_has_its_code(gql, world):
    response = await gql.post(None, "{ viewer { role } }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unexpected_error_is_masked_with_a_code_and_logged_with_its_correlation_id(caplog):
    """A bug (here: a resolver reached without an actor) answers INTERNAL with an id; the log has the same id."""
    from resolvers.context import Context
    from schema.build import build_schema

    schema = build_schema(production=True)
    with caplog.at_level(logging.ERROR, logger="ordergraph.graphql"):
        result = await schema.execute("{ orders { edges { cursor } } }", context_value=Context(actor=None))
    [error] = result.errors
    formatted = error.formatted
    correlation_id = formatted["extensions"]["correlationId"]
    assert formatted["extensions"]["code"] == "INTERNAL"
    assert formatted["message"] == f"Unexpected error; correlation id {correlation_id}"
    assert f"id={correlation_id}" in caplog.text and "AssertionError" in caplog.text
