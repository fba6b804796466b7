"""Admins manage partner endpoints through GraphQL; bad URLs are refused at registration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise.expressions import Q

from domain.actor import Role
from domain.errors import ValidationFailed
from domain.webhooks import endpoints as webhooks
from models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from resolvers import ids

REGISTER = """
mutation($input: RegisterWebhookEndpointInput!) {
  registerWebhookEndpoint(input: $input) {
    endpoint { id url eventTypes channels status secrets { prefix expiresAt } }
    secret
    errors { code field message }
  }
}
"""


async def _register(gql, key: str, url: str, **extra) -> dict:
    return (await gql(key, REGISTER, {"input": {"url": url, **extra}}))["registerWebhookEndpoint"]


async def test_admin_registers_an_endpoint_and_gets_its_secret_once(world, gql):
    result = await _register(gql, world.keys["admin"], "https://partner.example.com/hooks", eventTypes=["order.*"],
                             channels=[ids.encode("Channel", world.channel.id)])
    assert result["errors"] == []
    assert result["secret"].startswith("whsec_")
    endpoint = result["endpoint"]
    assert endpoint["status"] == "ACTIVE" and endpoint["eventTypes"] == ["order.*"]
    assert endpoint["secrets"][0]["prefix"].startswith("whsec_") and result["secret"] not in str(endpoint)
    listed = await gql(world.keys["admin"], "{ webhookEndpoints { id url } }")
    assert listed["webhookEndpoints"] == [{"id": endpoint["id"], "url": "https://partner.example.com/hooks"}]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example.com/hooks",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://partner.example.com",
        "http://127.0.0.1:8000/graphql",  # this server's own bind address
        "http://localhost:8000/hooks",  # a loopback alias of its port
        "http://[::1]:8000/x",
        "http://test/graphql",  # the host this request reached us on
        "https://user:pw@partner.example.com/hooks",
        "not a url",
    ],
)
async def test_bad_urls_are_refused(world, gql, url):
    result = await _register(gql, world.keys["admin"], url)
    assert result["endpoint"] is None and result["errors"][0]["code"] == "VALIDATION" and result["errors"][0]["field"] == "url"
    assert await WebhookEndpoint.all().count() == 0


async def test_production_policy_refuses_private_and_loopback_targets():
    strict = webhooks.UrlPolicy(allow_private=False)
    for url in ("http://127.0.0.1:9999/x", "http://10.0.0.7/x", "http://169.254.169.254/latest/meta-data", "http://localhost/x"):
        with pytest.raises(ValidationFailed):
            await webhooks.check_url(url, strict)
    assert await webhooks.check_url("https://93.184.216.34/x", strict) == "https://93.184.216.34/x"
    assert await webhooks.check_url("http://127.0.0.1:9999/x", webhooks.UrlPolicy(allow_private=True))


async def test_only_admins_and_partner_keys_manage_webhooks(world, gql):
    result = await _register(gql, world.keys["ops"], "https://partner.example.com/hooks")
    assert result["errors"][0]["code"] == "FORBIDDEN"
    response = await gql.post(world.keys["auditor"], "{ webhookEndpoints { id } }")
    assert response.json()["errors"][0]["message"] == "only admins and partner keys manage webhooks"


async def test_update_rotate_disable_enable(world, gql):
    admin = world.keys["admin"]
    endpoint = (await _register(gql, admin, "https://a.example.com/hooks"))["endpoint"]
    updated = await gql(admin, """
        mutation($id: ID!) { updateWebhookEndpoint(input: {id: $id, url: "https://b.example.com/h", eventTypes: ["order.shipped"]}) {
          endpoint { url eventTypes } errors { code } } }""", {"id": endpoint["id"]})
    assert updated["updateWebhookEndpoint"]["endpoint"] == {"url": "https://b.example.com/h", "eventTypes": ["order.shipped"]}

    rotated = (await gql(admin, """
        mutation($id: ID!) { rotateWebhookSecret(id: $id, graceHours: 2) { secret endpoint { secrets { expiresAt } } errors { code } } }""",
        {"id": endpoint["id"]}))["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_")
    expiries = [s["expiresAt"] for s in rotated["endpoint"]["secrets"]]
    assert expiries[0] is None and expiries[1] is not None  # new one first, old one valid for the grace period
    now = datetime.now(UTC)
    live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    valid = await WebhookSecret.filter(live, endpoint_id=ids.decode(endpoint["id"])[1]).count()
    assert valid == 2

    disabled = await gql(admin, 'mutation($id: ID!) { disableWebhookEndpoint(id: $id, reason: "maintenance") { endpoint { status disabledReason } } }',
                         {"id": endpoint["id"]})
    assert disabled["disableWebhookEndpoint"]["endpoint"] == {"status": "DISABLED", "disabledReason": "maintenance"}
    enabled = await gql(admin, "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { endpoint { status } } }", {"id": endpoint["id"]})
    assert enabled["enableWebhookEndpoint"]["endpoint"]["status"] == "ACTIVE"


async def test_another_tenants_endpoint_is_invisible(world, other_world, gql):
    endpoint = (await _register(gql, world.keys["admin"], "https://a.example.com/hooks"))["endpoint"]
    seen = await gql(other_world.keys["admin"], "query($id: ID!) { webhookEndpoint(id: $id) { id } }", {"id": endpoint["id"]})
    assert seen["webhookEndpoint"] is None
    result = await gql(other_world.keys["admin"], "mutation($id: ID!) { disableWebhookEndpoint(id: $id) { errors { code } } }",
                       {"id": endpoint["id"]})
    assert result["disableWebhookEndpoint"]["errors"] == [{"code": "NOT_FOUND"}]


async def test_replay_requeues_one_delivery_and_a_range_creates_missing_ones(world, gql):
    from tests.helpers import paid_order

    admin = world.keys["admin"]
    endpoint = (await _register(gql, admin, "https://a.example.com/hooks"))["endpoint"]
    pk = ids.decode(endpoint["id"])[1]
    await webhooks.disable_endpoint(world.actor(Role.ADMIN), pk, "no deliveries while we test")
    order = await paid_order(world.actor(), world.channel.id, "RP-1")
    assert await WebhookDelivery.all().count() == 0  # disabled endpoints get no new deliveries
    since, until = datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
    replayed = await gql(admin, """
        mutation($e: ID!, $s: DateTime!, $u: DateTime!) { replayWebhookDeliveries(endpoint: $e, since: $s, until: $u) { queued errors { code } } }""",
        {"e": endpoint["id"], "s": since.isoformat(), "u": until.isoformat()})
    assert replayed["replayWebhookDeliveries"] == {"queued": 1, "errors": []}
    delivery = await WebhookDelivery.get(endpoint_id=pk)
    assert delivery.order_id == order.id and delivery.status == "pending"
    await WebhookDelivery.filter(id=delivery.id).update(status="failed", retry_index=9)
    one = await gql(admin, "mutation($id: ID!) { replayWebhookDelivery(id: $id) { delivery { status webhookId } errors { code } } }",
                    {"id": ids.encode("WebhookDelivery", delivery.id)})
    assert one["replayWebhookDelivery"]["delivery"] == {"status": "PENDING", "webhookId": delivery.message_id}
    assert (await WebhookDelivery.get(id=delivery.id)).retry_index == 0
