"""Partner webhooks end to end: a real receiver verifies every signature with ``standardwebhooks``."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from domain import orders
from domain.actor import Role
from domain.unit_of_work import unit_of_work
from domain.webhooks import endpoints as webhooks
from events import log
from models import Alert, OrderEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from resolvers import ids
from tests.helpers import CREATE_ORDER, order_input, paid_order
from tests.live_fixtures import Receiver, live_server, receiver_server, wait_until

FAST = {"partner_retry_delays": (0.3, 0.3, 0.3), "partner_lease": 5.0}


async def _endpoint(world, url: str, **filters) -> tuple[WebhookEndpoint, str]:
    return await webhooks.register_endpoint(world.actor(Role.ADMIN), url, webhooks.UrlPolicy(), **filters)


async def test_every_event_arrives_signed_once_and_in_order_per_order(world, other_world, db):
    receiver = Receiver()
    async with receiver_server(receiver) as url, live_server(db, **FAST):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        first = await paid_order(world.actor(), world.channel.id, "W-1")
        second = await paid_order(world.actor(), world.channel.id, "W-2")
        await orders.hold_order(world.actor(), first.id, ["check"])
        await orders.release_hold(world.actor(), first.id)
        await orders.cancel_order(world.actor(), second.id, "oos")
        await paid_order(other_world.actor(), other_world.channel.id, "NOT-FOR-ACME")
        expected = await OrderEvent.filter(tenant_id=world.tenant.id).order_by("id").values_list("id", flat=True)
        await receiver.wait_for(lambda r: len(r.unique()) >= len(expected))
    assert receiver.rejected == []
    got = receiver.unique()
    assert sorted(got) == sorted(f"msg_og{event_id}" for event_id in expected)
    for order in (first, second):
        arrivals = [item.body["data"]["eventId"] for item in receiver.received if item.body["data"]["order"]["number"].endswith(str(order.id))]
        assert arrivals == sorted(arrivals)
    sample = got[f"msg_og{expected[0]}"].body
    assert sample["type"] == "order.created" and sample["data"]["order"]["id"] == ids.encode("Order", first.id)
    assert await WebhookDelivery.filter(endpoint_id=endpoint.id, status="succeeded").count() == len(expected)


async def test_failures_are_retried_and_logged_with_status_codes_and_latency(world, db):
    receiver = Receiver(responses=[(500, {}), (502, {})])
    async with receiver_server(receiver) as url, live_server(db, **FAST) as (base, _):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        await paid_order(world.actor(), world.channel.id, "RETRY-1")
        await receiver.wait_for(lambda r: len(r.received) == 1)
        query = """query($id: ID!) { webhookEndpoint(id: $id) { deliveries { nodes {
                    status attemptCount lastStatusCode webhookId attempts { statusCode latencyMs error } } } } }"""
        async with httpx.AsyncClient(base_url=base) as http:
            response = await http.post("/graphql", json={"query": query, "variables": {"id": ids.encode("WebhookEndpoint", endpoint.id)}},
                                       headers={"authorization": f"Bearer {world.keys['admin']}"})
    delivery = response.json()["data"]["webhookEndpoint"]["deliveries"]["nodes"][0]
    assert delivery["status"] == "SUCCEEDED" and delivery["attemptCount"] == 3 and delivery["lastStatusCode"] == 204
    assert [a["statusCode"] for a in delivery["attempts"]] == [500, 502, 204]
    assert all(a["latencyMs"] > 0 for a in delivery["attempts"])
    assert receiver.unique().keys() == {delivery["webhookId"]}


async def test_retry_after_is_honoured(world, db):
    receiver = Receiver(responses=[(503, {"Retry-After": "2"})])
    async with receiver_server(receiver) as url, live_server(db, **FAST):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        await paid_order(world.actor(), world.channel.id, "RA-1")
        await receiver.wait_for(lambda r: len(r.received) == 1)
    attempts = await WebhookAttempt.all().order_by("id")
    assert [a.status_code for a in attempts] == [503, 204]
    assert (attempts[1].attempted_at - attempts[0].attempted_at) >= timedelta(seconds=1.9)


async def test_410_gone_disables_the_endpoint_and_raises_an_alert(world, db):
    receiver = Receiver(responses=[(410, {})])
    async with receiver_server(receiver) as url, live_server(db, **FAST):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        await paid_order(world.actor(), world.channel.id, "GONE-1")
        await wait_until(lambda: _status(endpoint.id, "disabled"), 10)
        await paid_order(world.actor(), world.channel.id, "GONE-2")
        await wait_until(lambda: OrderEvent.filter(type="alert.raised").exists(), 10)
    alert = await Alert.get(tenant_id=world.tenant.id)
    assert (alert.kind, alert.subject) == ("webhook_disabled", f"endpoint:{endpoint.id}") and "410" in alert.message
    assert receiver.received == []
    assert await WebhookDelivery.filter(endpoint_id=endpoint.id).count() == 1  # nothing new for a disabled endpoint


async def test_prolonged_failure_disables_after_the_schedule_runs_out(world, db):
    receiver = Receiver(respond=lambda item: (500, {}))
    async with receiver_server(receiver) as url, live_server(db, partner_retry_delays=(0.1, 0.1), partner_disable_after_hours=0):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        await paid_order(world.actor(), world.channel.id, "DOWN-1")
        await wait_until(lambda: _status(endpoint.id, "disabled"), 10)
    delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
    assert delivery.status == "failed" and delivery.attempt_count == 3
    assert await Alert.filter(kind="webhook_disabled", subject=f"endpoint:{endpoint.id}", cleared_at__isnull=True).exists()
    await webhooks.enable_endpoint(world.actor(Role.ADMIN), endpoint.id)
    assert not await Alert.filter(kind="webhook_disabled", subject=f"endpoint:{endpoint.id}", cleared_at__isnull=True).exists()


async def test_a_failing_event_holds_back_later_events_of_the_same_order_only(world, db):
    blocked: dict[str, float] = {}

    def respond(item):
        order = item.body["data"]["order"]["number"]
        if order.endswith(str(first.id)) and item.body["type"] == "order.created" and "first" not in blocked:
            blocked["first"] = time.monotonic()
            return 500, {}
        return 204, {}

    receiver = Receiver(respond=respond)
    async with receiver_server(receiver) as url, live_server(db, partner_retry_delays=(1.0,)):
        endpoint, secret = await _endpoint(world, url)
        receiver.secrets.append(secret)
        first = await paid_order(world.actor(), world.channel.id, "ORD-A")
        await orders.hold_order(world.actor(), first.id, ["x"])
        other = await paid_order(world.actor(), world.channel.id, "ORD-B")
        await receiver.wait_for(lambda r: len(r.unique()) == 4)  # A created, held, its hold alert; B created
    sequence = [(i.body["data"]["order"]["number"], i.body["type"]) for i in receiver.received]
    a, b = f"OG{first.id:09d}", f"OG{other.id:09d}"
    assert sequence.index((a, "order.created")) < sequence.index((a, "order.hold_added"))
    assert sequence.index((b, "order.created")) < sequence.index((a, "order.created"))  # B was not held up by A


async def test_after_rotation_both_secrets_verify_until_the_old_one_expires(world, db):
    old_only, new_only = Receiver(), Receiver()
    async with receiver_server(old_only) as old_url, receiver_server(new_only) as new_url, live_server(db, **FAST):
        endpoint, old = await _endpoint(world, old_url)
        new = await webhooks.rotate_secret(world.actor(Role.ADMIN), endpoint.id, timedelta(hours=1))
        old_only.secrets.append(old)
        await paid_order(world.actor(), world.channel.id, "ROT-1")
        await old_only.wait_for(lambda r: len(r.received) == 1)
        await webhooks.update_endpoint(world.actor(Role.ADMIN), endpoint.id, webhooks.UrlPolicy(), url=new_url)
        new_only.secrets.append(new)
        await paid_order(world.actor(), world.channel.id, "ROT-2")
        await new_only.wait_for(lambda r: len(r.received) == 1)
    assert len(old_only.signature_headers[0].split()) == 2
    assert old_only.rejected == [] and new_only.rejected == []


async def _status(endpoint_id: int, status: str) -> bool:
    return await WebhookEndpoint.filter(id=endpoint_id, status=status).exists()


async def test_deliveries_stuck_behind_a_failing_one_never_starve_other_endpoints(world, db, monkeypatch):
    """Many due deliveries queued behind one in back-off must not fill the claim batch, however many pages of
    them the claim has to step over."""
    from datetime import UTC, datetime

    from events.webhooks import sender
    from events.webhooks.fanout import delivery_for
    from events.webhooks.sender import claim

    monkeypatch.setattr(sender, "PAGE", 7)  # 50 blocked rows: seven pages before the healthy one,
    monkeypatch.setattr(sender, "MAX_SCAN", 14)  # two pages a claim: the sender's next claims carry on

    broken, _ = await _endpoint(world, "https://broken.example.com/hooks")
    healthy, _ = await _endpoint(world, "https://healthy.example.com/hooks")
    now = datetime.now(UTC)
    order = await paid_order(world.actor(), world.channel.id, "STUCK")
    base = {"id": 0, "tenant_id": world.tenant.id, "order_id": order.id, "type": "order.x", "actor": "a", "source": "s",
            "reason": "", "before": None, "after": None, "payload_ref": None, "created_at": now.isoformat(),
            "channel_id": world.channel.id, "warehouse_id": None, "order_status": "PAID"}
    stuck = [delivery_for(broken, {**base, "id": 1000 + n}, now) for n in range(50)]
    await WebhookDelivery.bulk_create(stuck)
    head = await WebhookDelivery.filter(endpoint_id=broken.id).order_by("id").first()
    await WebhookDelivery.filter(id=head.id).update(next_attempt_at=now + timedelta(hours=1))  # in back-off
    other = await paid_order(world.actor(), world.channel.id, "FINE")
    await delivery_for(healthy, {**base, "id": 5000, "order_id": other.id}, now).save()
    cursor = sender.ScanCursor()
    claims = [await claim(4, lease=30, cursor=cursor) for _ in range(4)]
    assert [[d.endpoint_id for d in claimed] for claimed in claims] == [[], [], [], [healthy.id]]
    assert cursor.start == 0  # that claim read to the end: the next one starts from the oldest again


async def test_partners_see_who_acted_by_the_key_label_never_by_its_secret_prefix(world, db):
    """An order made over GraphQL with a labelled key, and one in the old ``key:og_…`` lineage form: both arrive
    named by label only."""
    from domain.tenants.accounts import create_api_key

    _, secret = await create_api_key("acme", Role.OPS, name="Hangzhou desk", owner="Li Wei <li.wei@acme.cn>")
    receiver = Receiver()
    async with receiver_server(receiver) as url, live_server(db, **FAST) as (base, _):
        endpoint, signing = await _endpoint(world, url)
        receiver.secrets.append(signing)
        async with httpx.AsyncClient(base_url=base) as http:
            created = await http.post("/graphql", json={"query": CREATE_ORDER, "variables": {"input": order_input("LABEL-1")}},
                                      headers={"authorization": f"Bearer {secret}"})
        assert not created.json().get("errors"), created.text
        legacy = await paid_order(world.actor(), world.channel.id, "LEGACY-1")
        async with unit_of_work():  # lineage as it was written before keys were named by label
            await log.append(tenant_id=world.tenant.id, order_id=legacy.id, type="order.note", actor=f"key:{secret[:11]}(Old desk)",
                             source="graphql", reason="legacy row")
        await receiver.wait_for(lambda r: any(item.body["type"] == "order.note" for item in r.received))
    actors = [(item.body["type"], item.body["data"]["actor"]) for item in receiver.received]
    assert ("order.note", "Old desk") in actors
    assert ("order.created", "Li Wei <li.wei@acme.cn> via Hangzhou desk (ops key)") in actors
    assert all(secret[:11] not in actor and "og_" not in actor for _, actor in actors)
