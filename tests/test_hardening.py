"""An attacker's and a careless client's requests against the served app: no 500, no leak, no starvation.

Every test runs a real ``ordergraph serve`` process on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time

import httpx
import pytest

from domain.actor import Role
from resolvers import ids
from tests.helpers import paid_order
from tests.served import served

PHONE = "13911112222"
NAME = "欧阳娜娜"


def _post(client: httpx.Client, key: str, query: str, variables: dict | None = None, **headers: str) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables or {}},
                       headers={"authorization": f"Bearer {key}", **headers})


def _codes(response: httpx.Response) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in response.json().get("errors", [])]


async def test_query_text_never_reaches_the_log_even_at_debug(world, db):
    """Names and phones written inline in a failing mutation or a search are not in any log line."""
    inline = ('mutation Leak { createOrder(input: {channel: "nope", externalId: "L-1", '
              f'customer: {{name: "{NAME}", phone: "{PHONE}"}}, '
              'lines: [{sku: "A", quantity: 1, unitPrice: "1.00"}]}) { errors { code } } }')
    broken = f'query Broken {{ orders(filter: {{search: "{PHONE}"}}) {{ nosuchfield }} }}'
    unparsable = f'mutation {{ createOrder(input: {{customer: {{name: "{NAME}" phone: "{PHONE}" '
    log: list[str] = []
    with served(db, output=log, LOG_LEVEL="DEBUG") as base, httpx.Client(base_url=base, timeout=20) as client:
        refused = _post(client, world.keys["admin"], inline)
        invalid = _post(client, world.keys["admin"], broken)
        garbled = _post(client, world.keys["admin"], unparsable)
    assert refused.json()["data"]["createOrder"]["errors"][0]["code"] == "NOT_FOUND"
    assert _codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    assert _codes(garbled) == ["GRAPHQL_PARSE_FAILED"]
    text = log[0]
    assert PHONE not in text and NAME not in text
    assert "graphql error op=Broken doc=" in text and "code=GRAPHQL_VALIDATION_FAILED" in text


async def test_malformed_bodies_and_arguments_get_typed_4xx_never_500(world, db):
    key = world.keys["admin"]
    auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    deep_variables = ('{"query": "query($v: JSON) { viewer { role } }", "variables": {"v": '
                      + "[" * 1000 + "]" * 1000 + "}}").encode()
    absurd_id = ids.encode("Order", 99_999_999_999)  # a valid-looking id no 32-bit key can hold
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        answers = {
            "json string": client.post("/graphql", content=b'"just a string"', headers=auth),
            "null": client.post("/graphql", content=b"null", headers=auth),
            "invalid utf-8": client.post("/graphql", content=b'{"query": "\xff\xfe{ viewer { role } }"}', headers=auth),
            "not json": client.post("/graphql", content=b"{query", headers=auth),
            "deep variables": client.post("/graphql", content=deep_variables, headers=auth),
            "deep with idempotency key": client.post("/graphql", content=deep_variables,
                                                     headers={**auth, "idempotency-key": "deep-1"}),
            "nul in variable": _post(client, key, "query($s: String!) { orders(filter: {search: $s}) { totalCount } }",
                                     {"s": "OG\x00000001"}),
        }
        nul_literal = _post(client, key, '{ orders(filter: {search: "a\\u0000b"}) { totalCount } }')
        node = _post(client, key, "query($id: ID!) { node(id: $id) { id } }", {"id": absurd_id})
        node_garbage = _post(client, key, "query($id: ID!) { node(id: $id) { id } }", {"id": "ü" * 50})
        upload = _post(client, key, 'mutation { importOrders(input: {channel: "tmall", fileName: "x.csv", '
                                    'contentBase64: "ÄÖÜ=="}) { errors { code field } } }')
        huge_sku = _post(client, key, "mutation($input: CreateOrderInput!) { createOrder(input: $input) { errors { message } } }",
                         {"input": {"channel": "tmall", "externalId": "X", "lines": [{"sku": "S" * 500_000, "quantity": 1,
                                                                                      "unitPrice": "1"}]}})
    for name, response in answers.items():
        assert 400 <= response.status_code < 500, (name, response.status_code, response.text[:200])
        assert response.json()["errors"][0]["extensions"]["code"] in ("BAD_REQUEST", "BAD_USER_INPUT"), name
    assert nul_literal.status_code < 500 and _codes(nul_literal) == ["BAD_USER_INPUT"]
    assert node.json() == {"data": {"node": None}}, node.text  # no row can have that id: nothing to see
    assert node_garbage.json() == {"data": {"node": None}}, node_garbage.text
    errors = upload.json()["data"]["importOrders"]["errors"]
    assert errors and errors[0]["field"] == "contentBase64", upload.text
    assert huge_sku.status_code < 500 and len(huge_sku.text) < 5_000, huge_sku.text[:300]


async def test_bodies_over_the_limit_are_refused_before_parsing(world, db):
    big = b'{"query": "{ viewer { role } }", "pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        started = time.perf_counter()
        response = client.post("/graphql", content=big, headers={"authorization": f"Bearer {world.keys['ops']}",
                                                                  "content-type": "application/json"})
        elapsed = time.perf_counter() - started
        comment = "#" + "c" * 200_000 + "\n{ viewer { role } }"
        commented = _post(client, world.keys["ops"], comment)
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert elapsed < 5
    assert _codes(commented) == ["QUERY_TOO_LARGE"], commented.text[:300]


COSTLY = "{ " + " ".join(
    f"a{i}: orders(first: 100) {{ nodes {{ customer {{ orders(first: 100) {{ nodes {{ lines {{ sku }} "
    "events(last: 100) { type } shipments { trackingEvents { status } } } } } } }"
    for i in range(20)
) + " }"


async def test_a_query_that_would_starve_the_server_is_refused_with_its_cost(world, db):
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        refused = _post(client, world.keys["ops"], COSTLY)
        page = _post(client, world.keys["ops"], "{ orders(first: 50) { nodes { number lines { sku quantity } "
                                                "shipments { trackingNo trackingEvents { status } } events(last: 5) { type } } } }")
        health = client.get("/healthz")
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["maxCost"]
    assert "data" not in refused.json() or refused.json()["data"] is None
    assert not page.json().get("errors"), page.text[:300]
    assert health.status_code == 200


async def test_masked_roles_cannot_find_orders_by_a_hidden_phone_or_name(world, db):
    order = await paid_order(world.actor(), world.channel.id, "SEARCH-1", phone="13811112222")
    query = "query($s: String!) { orders(filter: {search: $s}) { totalCount nodes { externalId } } }"
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        found = {}
        for role in (Role.PARTNER, Role.WAREHOUSE, Role.OPS):
            found[role] = {term: _post(client, world.keys[role.value], query, {"s": term}).json()["data"]["orders"]["totalCount"]
                           for term in ("13811112222", "2222", "李四", "SEARCH-1", f"OG{order.id:09d}")}
    for masked in (Role.PARTNER, Role.WAREHOUSE):
        assert found[masked] == {"13811112222": 0, "2222": 0, "李四": 0, "SEARCH-1": 1, f"OG{order.id:09d}": 1}
    assert found[Role.OPS] == {"13811112222": 1, "2222": 1, "李四": 1, "SEARCH-1": 1, f"OG{order.id:09d}": 1}


async def test_tracking_lockout_counts_the_order_however_its_number_is_typed(world, db):
    order = await paid_order(world.actor(), world.channel.id, "TRK-1", phone="13812345678")
    forms = [f"OG{order.id:09d}", f"OG{order.id:02d}", f"og{order.id:04d}", f"OG{order.id:05d}", "TRK-1", f"OG{order.id:06d}"]
    with served(db, ORDERGRAPH_TRACKING_TENANT="acme") as base, httpx.Client(base_url=base, timeout=20) as client:
        page = client.get("/track")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        statuses = [client.post("/track/-/lookup", data={"order": typed, "last4": "0000", "csrf": csrf}).status_code
                    for typed in forms]
    assert statuses[:5] == [404] * 5, statuses
    assert statuses[5] == 429, statuses


async def test_phones_and_emails_are_checked_where_they_are_typed(world, db):
    create = "mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id } errors { code field } } }"

    def order(external_id: str, **customer: str) -> dict:
        return {"input": {"channel": "tmall", "externalId": external_id, "customer": {"name": "李四", **customer},
                          "lines": [{"sku": "TEA-1", "quantity": 1, "unitPrice": "10.00"}]}}

    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        key = world.keys["ops"]
        answers = {
            "long phone": _post(client, key, create, order("V-1", phone="1398765000699999999")),
            "letters": _post(client, key, create, order("V-2", phone="call me maybe")),
            "email": _post(client, key, create, order("V-3", phone="13812345678", email="not-an-email")),
            "good": _post(client, key, create, order("V-4", phone="+86 138 1234 5678", email="li.si@Example.com")),
        }
    errors = {name: response.json()["data"]["createOrder"]["errors"] for name, response in answers.items()}
    assert errors["long phone"] == [{"code": "VALIDATION", "field": "customer.phone"}]
    assert errors["letters"] == [{"code": "VALIDATION", "field": "customer.phone"}]
    assert errors["email"] == [{"code": "VALIDATION", "field": "customer.email"}]
    assert errors["good"] == []


async def test_a_webhook_may_not_point_back_at_this_server_in_any_numeric_spelling(world, db):
    register = """mutation($url: String!) { registerWebhookEndpoint(input: {url: $url}) {
                    errors { code field message } } }"""
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        port = base.rsplit(":", 1)[1]
        answers = {spelling: _post(client, world.keys["admin"], register, {"url": f"http://{spelling}:{port}/hook"}).json()
                   for spelling in ("127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1")}
    for spelling, body in answers.items():
        errors = body["data"]["registerWebhookEndpoint"]["errors"]
        assert errors and errors[0]["field"] == "url" and "this server" in errors[0]["message"], (spelling, body)


async def test_a_validly_signed_hook_body_nested_too_deep_is_quarantined_with_a_4xx(world, db):
    """The channel will not retry a 4xx, and the body is kept for an admin to look at: not a 500 retried forever."""
    from models import QuarantinedPayload
    from tests.intake_support import add_channel, standard_headers

    await add_channel(world, "tmall2", "taobao")
    body = ("[" * 5000 + "]" * 5000).encode()
    with served(db) as base, httpx.Client(base_url=base, timeout=20) as client:
        response = client.post("/hooks/acme/tmall2", content=body, headers=standard_headers(body))
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"] == "malformed" and "nested" in response.json()["reason"]
    row = await QuarantinedPayload.get(id=response.json()["quarantineId"])
    assert row.reason_code == "malformed"
