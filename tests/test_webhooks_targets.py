"""A webhook target is checked when it is registered and again at every send: DNS can change in between."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from domain.actor import Role
from domain.webhooks import endpoints as webhooks
from events.webhooks import addresses
from events.webhooks.fanout import delivery_for
from events.webhooks.sender import WebhookSender
from models import WebhookAttempt, WebhookDelivery
from tests.helpers import paid_order
from tests.live_fixtures import serve_asgi


async def test_pin_aims_at_the_checked_address_and_keeps_the_name(monkeypatch):
    async def dns(host: str, port: int) -> list[str]:
        return {"hooks.partner.example": ["93.184.216.34"], "v6.partner.example": ["2606:2800:220:1:248:1893:25c8:1946"],
                "mixed.partner.example": ["93.184.216.34", "10.0.0.5"]}.get(host, [host])

    monkeypatch.setattr(addresses, "resolve", dns)
    url, headers, extensions = await addresses.pin("https://hooks.partner.example:8443/og?x=1")
    assert (str(url), headers, extensions) == (
        "https://93.184.216.34:8443/og?x=1", {"host": "hooks.partner.example:8443"}, {"sni_hostname": "hooks.partner.example"}
    )
    url, headers, extensions = await addresses.pin("http://v6.partner.example/og")
    assert (str(url), headers, extensions) == ("http://[2606:2800:220:1:248:1893:25c8:1946]/og", {"host": "v6.partner.example"}, {})
    with pytest.raises(addresses.NotPublic, match="private or local"):
        await addresses.pin("https://mixed.partner.example/og")  # one private answer is enough to refuse
    with pytest.raises(addresses.NotPublic):
        await addresses.pin("http://169.254.169.254/latest/meta-data")


async def test_a_target_that_turns_private_after_registration_gets_nothing(world, db, monkeypatch):
    hosts: list[str] = []

    async def receive(request: Request) -> PlainTextResponse:
        hosts.append(request.headers["host"])
        return PlainTextResponse("ok")

    async with serve_asgi(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as base:
        port = httpx.URL(base).port
        dns = {"hooks.partner.test": ["93.184.216.34"]}

        async def resolve(host: str, port: int) -> list[str]:
            return dns[host]

        monkeypatch.setattr(addresses, "resolve", resolve)
        endpoint, _ = await webhooks.register_endpoint(
            world.actor(Role.ADMIN), f"http://hooks.partner.test:{port}/hook", webhooks.UrlPolicy(allow_private=False)
        )
        order = await paid_order(world.actor(), world.channel.id, "PIN-1")
        message = {"id": 1, "tenant_id": world.tenant.id, "order_id": order.id, "type": "order.created", "actor": "a",
                   "source": "s", "reason": "", "before": None, "after": None, "payload_ref": None,
                   "created_at": datetime.now(UTC).isoformat(), "channel_id": world.channel.id, "warehouse_id": None,
                   "order_status": "PAID"}
        delivery = delivery_for(endpoint, message, datetime.now(UTC))
        await delivery.save()
        dns["hooks.partner.test"] = ["127.0.0.1"]  # the name now points inside the network

        async with httpx.AsyncClient() as client:
            sender = WebhookSender(client, public_only=True)
            await sender.attempt(await WebhookDelivery.get(id=delivery.id))
            assert hosts == []
            refused = await WebhookAttempt.get(delivery_id=delivery.id)
            assert refused.status_code is None and "private or local address" in refused.error
            assert (await WebhookDelivery.get(id=delivery.id)).status == "pending"  # retried on the schedule

            # Were 127.0.0.1 public, the request would go to the checked address under the partner's name.
            monkeypatch.setattr(addresses, "non_public", lambda address: False)
            await sender.attempt(await WebhookDelivery.get(id=delivery.id))
    assert hosts == [f"hooks.partner.test:{port}"]
    assert (await WebhookDelivery.get(id=delivery.id)).status == "succeeded"
