"""A partner key manages its own webhook endpoints, and only those; admins still manage all of them."""

from __future__ import annotations

import pytest

from domain.actor import Role
from domain.errors import ValidationFailed
from domain.tenants.accounts import authenticate, create_api_key
from domain.webhooks import endpoints as webhooks
from models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from resolvers import ids
from tests.helpers import paid_order
from tests.live_fixtures import Receiver, live_server, receiver_server

FAST = {"partner_retry_delays": (0.3, 0.3, 0.3), "partner_lease": 5.0}

REGISTER = """
mutation($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) { endpoint { id url } secret errors { code field message } }
}
"""
LIST = "{ webhookEndpoints { id url } }"
ONE = "query($id: ID!) { webhookEndpoint(id: $id) { id url deliveries { nodes { id } } } }"
UPDATE = """mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, description: "mine now"}) {
  endpoint { id } errors { code field message } } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret errors { code field message } } }"
DISABLE = "mutation($id: ID!) { disableWebhookEndpoint(id: $id) { endpoint { id } errors { code } } }"
REPLAY = """mutation($id: ID!) { replayWebhookDeliveries(endpoint: $id, since: "2000-01-01T00:00:00Z",
  until: "2100-01-01T00:00:00Z") { queued errors { code field message } } }"""
DELETE = "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId errors { code field message } } }"


async def _register(gql, key: str, url: str) -> dict:
    result = (await gql(key, REGISTER, {"input": {"url": url}}))["registerWebhookEndpoint"]
    assert result["errors"] == [], result
    return result


async def test_a_partner_key_registers_and_sees_only_its_own_endpoints(world, gql, db):
    admin = await _register(gql, world.keys["admin"], "https://admin.example.com/hooks")
    mine = await _register(gql, world.keys["partner"], "https://partner.example.com/hooks")
    assert mine["secret"].startswith("whsec_")
    assert (await gql(world.keys["partner"], LIST))["webhookEndpoints"] == [mine["endpoint"]]
    listed = {e["id"] for e in (await gql(world.keys["admin"], LIST))["webhookEndpoints"]}
    assert listed == {admin["endpoint"]["id"], mine["endpoint"]["id"]}  # admins still see every endpoint
    partner_key = (await authenticate(world.keys["partner"])).key_id
    stored = await WebhookEndpoint.get(url="https://partner.example.com/hooks")
    assert stored.owner_key_id == partner_key  # type: ignore[attr-defined]


async def test_a_partner_cannot_see_or_touch_an_admins_or_another_partners_endpoint(world, gql, db):
    _, other_partner = await _second_partner_key(world)
    admin = (await _register(gql, world.keys["admin"], "https://admin.example.com/hooks"))["endpoint"]["id"]
    theirs = (await _register(gql, other_partner, "https://other.example.com/hooks"))["endpoint"]["id"]
    for target in (admin, theirs):
        assert (await gql(world.keys["partner"], ONE, {"id": target}))["webhookEndpoint"] is None
        for mutation, field in ((UPDATE, "updateWebhookEndpoint"), (ROTATE, "rotateWebhookSecret"),
                                (DISABLE, "disableWebhookEndpoint"), (REPLAY, "replayWebhookDeliveries"),
                                (DELETE, "deleteWebhookEndpoint")):
            errors = (await gql(world.keys["partner"], mutation, {"id": target}))[field]["errors"]
            assert [e["code"] for e in errors] == ["NOT_FOUND"], (field, errors)
    assert await WebhookEndpoint.filter(status="active").count() == 2
    assert await WebhookSecret.all().count() == 2  # no secret was rotated


async def test_a_partner_manages_its_own_endpoint_from_update_to_delete(world, gql, db):
    mine = (await _register(gql, world.keys["partner"], "https://partner.example.com/hooks"))["endpoint"]["id"]
    key = world.keys["partner"]
    assert (await gql(key, UPDATE, {"id": mine}))["updateWebhookEndpoint"]["errors"] == []
    rotated = (await gql(key, ROTATE, {"id": mine}))["rotateWebhookSecret"]
    assert rotated["errors"] == [] and rotated["secret"].startswith("whsec_")
    assert (await gql(key, REPLAY, {"id": mine}))["replayWebhookDeliveries"]["errors"] == []
    deleted = (await gql(key, DELETE, {"id": mine}))["deleteWebhookEndpoint"]
    assert deleted == {"deletedId": mine, "errors": []}
    assert await WebhookEndpoint.all().count() == 0 and await WebhookSecret.all().count() == 0
    assert (await gql(key, LIST))["webhookEndpoints"] == []


async def test_an_admin_manages_a_partners_endpoint(world, gql, db):
    theirs = (await _register(gql, world.keys["partner"], "https://partner.example.com/hooks"))["endpoint"]["id"]
    assert (await gql(world.keys["admin"], DISABLE, {"id": theirs}))["disableWebhookEndpoint"]["errors"] == []
    assert (await gql(world.keys["admin"], DELETE, {"id": theirs}))["deleteWebhookEndpoint"]["errors"] == []


async def test_ops_and_read_only_keys_still_cannot_manage_webhooks(world, gql, db):
    theirs = (await _register(gql, world.keys["partner"], "https://partner.example.com/hooks"))["endpoint"]["id"]
    for role in ("ops", "warehouse", "finance", "auditor", "service"):
        result = (await gql(world.keys[role], REGISTER, {"input": {"url": "https://x.example.com/h"}}))
        assert result["registerWebhookEndpoint"]["errors"][0]["code"] == "FORBIDDEN"
        assert (await gql(world.keys[role], DELETE, {"id": theirs}))["deleteWebhookEndpoint"]["errors"][0]["code"] == "FORBIDDEN"
        response = (await gql.post(world.keys[role], LIST)).json()
        assert response["data"] is None and response["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await WebhookEndpoint.all().count() == 1


async def test_a_partner_key_has_its_own_endpoint_limit(world, db):
    partner = await authenticate(world.keys["partner"])
    for n in range(webhooks.MAX_ENDPOINTS_PER_PARTNER_KEY):
        await webhooks.register_endpoint(partner, f"https://p{n}.example.com/h", webhooks.UrlPolicy())
    with pytest.raises(ValidationFailed, match="per partner key"):
        await webhooks.register_endpoint(partner, "https://one-more.example.com/h", webhooks.UrlPolicy())
    admin = world.actor(Role.ADMIN)
    assert await webhooks.register_endpoint(admin, "https://admin.example.com/h", webhooks.UrlPolicy())


async def test_a_partners_endpoint_receives_signed_deliveries_and_sees_only_its_log(world, gql, db):
    receiver = Receiver()
    async with receiver_server(receiver) as url, live_server(db, **FAST):
        mine = await _register(gql, world.keys["partner"], url)
        receiver.secrets.append(mine["secret"])  # the receiver verifies with the standardwebhooks package
        admins = (await _register(gql, world.keys["admin"], url + "?admin"))["endpoint"]["id"]
        order = await paid_order(world.actor(), world.channel.id, "P-1")
        await receiver.wait_for(lambda r: any(i.body["type"] == "order.created" for i in r.received))
    verified = [i for i in receiver.received if i.body["type"] == "order.created"]
    assert verified[0].body["data"]["order"]["id"] == ids.encode("Order", order.id)
    nodes = (await gql(world.keys["partner"], ONE, {"id": mine["endpoint"]["id"]}))["webhookEndpoint"]["deliveries"]["nodes"]
    own = await WebhookDelivery.filter(endpoint__url=url).values_list("id", flat=True)
    assert sorted(n["id"] for n in nodes) == sorted(ids.encode("WebhookDelivery", pk) for pk in own) and own
    admins_delivery = await WebhookDelivery.filter(endpoint__url=url + "?admin").first()
    hidden = await gql(world.keys["partner"], "query($id: ID!) { webhookDelivery(id: $id) { id } }",
                       {"id": ids.encode("WebhookDelivery", admins_delivery.id)})
    assert hidden["webhookDelivery"] is None
    replay = await gql(world.keys["partner"], "mutation($id: ID!) { replayWebhookDelivery(id: $id) { errors { code } } }",
                       {"id": ids.encode("WebhookDelivery", admins_delivery.id)})
    assert replay["replayWebhookDelivery"]["errors"] == [{"code": "NOT_FOUND"}]
    assert (await gql(world.keys["admin"], ONE, {"id": admins}))["webhookEndpoint"]["deliveries"]["nodes"]


async def _second_partner_key(world) -> tuple[int, str]:
    key, secret = await create_api_key(world.tenant.slug, Role.PARTNER, "other partner", owner="Other <o@example.com>")
    return key.id, secret
