"""Sealed receivers through GraphQL: clear for admin/ops/service (batched, traced), platform masks for everyone else.

The orders here carry what intake stores for Taobao, Pinduoduo and Douyin
orders: empty ship name/phone/street, the platform's masks in
``contact_masked`` and the ciphertext (or OAID) in a ``SealedContact`` row.
Their channels point at the decryption simulator, which the app reaches over
real HTTP.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from adapters.channels.decryption import DECRYPTORS
from adapters.channels.decryption.simulator import (
    DecryptSimulator,
    Profile,
    account_config,
)
from domain import orders
from domain.actor import Role
from domain.catalog import setup as catalog
from domain.contacts.reveal import REVEALED, reveal_receivers
from domain.errors import Forbidden
from domain.orders.create import NewAddress, NewLine, NewOrder
from models import Channel, Order, OrderEvent, SealedContact
from resolvers import ids
from tests.conftest import GraphQLClient, World
from tests.decryption_support import PEOPLE, running_simulator
from tests.helpers import key_actor

PAGE = """
query { orders(first: 50) { nodes { externalId shippingAddress { name phone province city district address } } } }
"""
MASKED_ROLES = (Role.WAREHOUSE, Role.PARTNER, Role.AUDITOR, Role.FINANCE)
#: 50 orders over three channels: each channel's batch fits one call of its platform (20 / 33 / 16 orders).
MIX = (("taobao", 20), ("pinduoduo", 15), ("douyin", 15))


async def channels_at(world: World, base_url: str) -> dict[str, Channel]:
    """One channel per platform whose decryption goes to the simulator."""
    return {
        platform: await catalog.create_channel(world.tenant.id, f"{platform}-shop", platform, f"{platform} shop",
                                               config={"api": account_config(platform, base_url)})
        for platform, _ in MIX
    }


async def sealed_order(world: World, sim: DecryptSimulator, channel: Channel, external_id: str,
                       person: tuple[str, str, str]) -> Order:
    """An order as intake stores a sealed one: masks on the order, ciphertext apart, no clear receiver."""
    order = await orders.create_order(world.actor(Role.ADMIN), NewOrder(
        channel_id=channel.id, external_id=external_id,
        lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("59.90"))],
        address=NewAddress(province="浙江省", city="杭州市", district="西湖区"),
    ))
    sealed = sim.seal(channel.kind, external_id, *person)
    masks = {"name": sealed.name_masked, "phone": sealed.phone_masked, "address": sealed.address_masked}
    await Order.filter(id=order.id).update(contact_masked=masks)
    await SealedContact.create(order_id=order.id, platform=channel.kind, name_cipher=sealed.name_cipher,
                               phone_cipher=sealed.phone_cipher, address_cipher=sealed.address_cipher,
                               open_id=sealed.open_id)
    return order


async def page_of_fifty(world: World, sim: DecryptSimulator, base_url: str) -> dict[str, dict]:
    """50 sealed orders; returns, by external id, who the receiver is and the platform's masks."""
    channels = await channels_at(world, base_url)
    made: dict[str, dict] = {}
    n = 0
    for platform, count in MIX:
        for _ in range(count):
            person = PEOPLE[n % len(PEOPLE)]
            external_id = f"{platform[:3].upper()}-{100000 + n}"
            order = await sealed_order(world, sim, channels[platform], external_id, person)
            made[external_id] = {"person": person, "masks": (await Order.get(id=order.id)).contact_masked, "id": order.id}
            n += 1
    sim.reset()
    return made


def everything_in(rows: list[OrderEvent]) -> str:
    return json.dumps([[r.type, r.actor, r.source, r.reason, r.before, r.after] for r in rows], ensure_ascii=False)


async def test_ops_sees_every_receiver_decrypted_with_one_call_per_channel_and_a_trace_per_order(
        world: World, gql: GraphQLClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_simulator() as running:
        made = await page_of_fifty(world, running.sim, running.base_url)
        data = await gql(world.keys["ops"], PAGE)
        calls = dict(running.sim.calls)
    nodes = data["orders"]["nodes"]
    assert len(nodes) == 50
    for node in nodes:
        name, phone, address = made[node["externalId"]]["person"]
        assert node["shippingAddress"] == {"name": name, "phone": phone, "province": "浙江省", "city": "杭州市",
                                           "district": "西湖区", "address": address}
    assert calls == {"taobao": 1, "pinduoduo": 1, "douyin": 1}

    looks = await OrderEvent.filter(type=REVEALED).order_by("id")
    assert sorted(look.order_id for look in looks) == sorted(entry["id"] for entry in made.values())
    ops_key = world.keys["ops"]
    assert {look.actor for look in looks} == {await key_actor(ops_key)}
    assert {look.source for look in looks} == {"graphql"}
    platform_of = {entry["id"]: external_id.split("-")[0] for external_id, entry in made.items()}
    for look in looks:
        assert look.after["fields"] == ["name", "phone", "address"]
        assert look.after["role"] == "ops"
        assert look.after["platform"][:3].upper() == platform_of[look.order_id]
    traces = everything_in(await OrderEvent.all()) + caplog.text
    for name, phone, address in PEOPLE:
        assert name not in traces and phone not in traces and address not in traces
    assert not await Order.filter(ship_name__not="").exists()  # nothing clear was written back


@pytest.mark.parametrize("role", MASKED_ROLES)
async def test_masked_roles_see_the_platform_masks_as_sent_without_any_call_or_trace(
        world: World, gql: GraphQLClient, role: Role) -> None:
    async with running_simulator() as running:
        made = await page_of_fifty(world, running.sim, running.base_url)
        data = await gql(world.keys[role.value], PAGE)
        calls = dict(running.sim.calls)
    for node in data["orders"]["nodes"]:
        masks = made[node["externalId"]]["masks"]
        shown = node["shippingAddress"]
        assert (shown["name"], shown["phone"], shown["address"]) == (masks["name"], masks["phone"], masks["address"])
        assert shown["city"] == "杭州市"
    assert calls == {}
    assert not await OrderEvent.filter(type=REVEALED).exists()


async def test_a_refused_decryption_shows_the_masks_and_the_query_still_answers(
        world: World, gql: GraphQLClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="ordergraph.contacts")
    async with running_simulator(profile=Profile(expired=True)) as running:
        made = await page_of_fifty(world, running.sim, running.base_url)
        response = await gql.post(world.keys["admin"], PAGE)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    for node in body["data"]["orders"]["nodes"]:
        masks = made[node["externalId"]]["masks"]
        assert node["shippingAddress"]["phone"] == masks["phone"]
        assert node["shippingAddress"]["name"] == masks["name"]
    assert not await OrderEvent.filter(type=REVEALED).exists()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("platform=douyin" in m and "40003/isv.access-token-expired" in m and "session_expired=True" in m
               for m in refusals), refusals
    assert any("platform=taobao" in m and "27/invalid-sessionkey" in m for m in refusals), refusals
    for name, phone, _ in PEOPLE:
        assert name not in caplog.text and phone not in caplog.text


async def test_one_order_asked_twice_in_a_request_is_decrypted_and_traced_once(world: World, gql: GraphQLClient) -> None:
    async with running_simulator() as running:
        channels = await channels_at(world, running.base_url)
        order = await sealed_order(world, running.sim, channels["pinduoduo"], "2611300000001", PEOPLE[1])
        query = """query($id: ID!) { a: order(id: $id) { shippingAddress { phone } }
                                      b: order(id: $id) { shippingAddress { name address } } }"""
        data = await gql(world.keys["service"], query, {"id": ids.encode("Order", order.id)})
        assert running.sim.calls == {"pinduoduo": 1}
        assert data["a"]["shippingAddress"]["phone"] == PEOPLE[1][1]
        assert data["b"]["shippingAddress"] == {"name": PEOPLE[1][0], "address": PEOPLE[1][2]}
        assert await OrderEvent.filter(type=REVEALED, order_id=order.id).count() == 1
        assert await gql(world.keys["service"], query, {"id": ids.encode("Order", order.id)}) == data
        assert running.sim.calls == {"pinduoduo": 2}  # nothing is cached across requests
    assert await OrderEvent.filter(type=REVEALED, order_id=order.id).count() == 2  # every look is a trace


async def test_the_use_case_refuses_masked_roles_and_other_tenants_orders(world: World, other_world: World) -> None:
    async with running_simulator() as running:
        channels = await channels_at(world, running.base_url)
        order = await sealed_order(world, running.sim, channels["douyin"], "6920000000000000001", PEOPLE[0])
        with pytest.raises(Forbidden):
            await reveal_receivers(world.actor(Role.AUDITOR), [order.id], DECRYPTORS)
        stranger = await reveal_receivers(other_world.actor(Role.ADMIN), [order.id], DECRYPTORS)
        assert stranger.receivers == {} and running.sim.calls == {}
        own = await reveal_receivers(world.actor(Role.OPS), [order.id], DECRYPTORS)
    assert (own.receivers[order.id].name, own.receivers[order.id].phone) == PEOPLE[0][:2]
    assert "张伟" not in repr(own.receivers[order.id])


def test_the_receiver_loader_is_renewed_with_the_loaders_of_each_subscription_event() -> None:
    """Subscriptions swap in slotted per-event loaders: each event gets its own decryption batch (and trace)."""
    from domain.actor import Actor
    from resolvers.contacts import receiver_loader
    from resolvers.context import Context
    from schema.subscription import _LazyLoaders

    ctx = Context(actor=Actor(tenant_id=1, role=Role.OPS, name="key:og_test"))
    ctx.loaders = _LazyLoaders(1)
    first = receiver_loader(ctx)
    assert receiver_loader(ctx) is first
    ctx.loaders = _LazyLoaders(1)
    assert receiver_loader(ctx) is not first


async def test_ciphertext_that_came_without_masks_is_still_decrypted_for_ops_and_blank_for_others(
        world: World, gql: GraphQLClient) -> None:
    """Intake keeps no masks when the platform sent none; the order's sealed row is still found and opened."""
    async with running_simulator() as running:
        channels = await channels_at(world, running.base_url)
        order = await sealed_order(world, running.sim, channels["douyin"], "6920000000000000002", PEOPLE[2])
        await Order.filter(id=order.id).update(contact_masked={})
        plain = await orders.create_order(world.actor(Role.ADMIN), NewOrder(
            channel_id=channels["douyin"].id, external_id="6920000000000000003",
            lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("9.90"))]))
        query = "query($id: ID!) { order(id: $id) { shippingAddress { name phone address } } }"
        order_id, plain_id = ids.encode("Order", order.id), ids.encode("Order", plain.id)
        ops = await gql(world.keys["ops"], query, {"id": order_id})
        warehouse = await gql(world.keys["warehouse"], query, {"id": order_id})
        nobody = await gql(world.keys["ops"], query, {"id": plain_id})
        assert running.sim.calls == {"douyin": 1}
    name, phone, address = PEOPLE[2]
    assert ops["order"]["shippingAddress"] == {"name": name, "phone": phone, "address": address}
    assert warehouse["order"]["shippingAddress"] == {"name": "", "phone": "", "address": ""}
    assert nobody["order"]["shippingAddress"] == {"name": "", "phone": "", "address": ""}
    assert await OrderEvent.filter(type=REVEALED).count() == 1


async def test_a_pinduoduo_order_received_by_webhook_shows_its_receiver_to_ops_only(world: World, gql: GraphQLClient) -> None:
    """Through intake: the webhook stores ciphertext and masks, GraphQL opens them for ops and not for the warehouse."""
    from tests.intake_support import add_channel, deliver

    async with running_simulator() as running:
        channel = await add_channel(world, "pdd-flagship", "pinduoduo")
        await Channel.filter(id=channel.id).update(config={**channel.config,
                                                           "api": account_config("pinduoduo", running.base_url)})
        name, phone, address = PEOPLE[0]
        sealed = running.sim.seal("pinduoduo", "240301-887766554433", name, phone, address)
        order_info = {
            "order_sn": "240301-887766554433", "order_status": 1, "confirm_status": 1, "refund_status": 1,
            "item_list": [{"goods_count": 1, "goods_price": 59.9, "outer_id": "TEA-001", "goods_name": "龙井"}],
            "pay_amount": 59.9, "goods_amount": 59.9, "postage": 0,
            "created_time": "2024-03-01 10:00:00", "pay_time": "2024-03-01 10:01:00", "updated_at": "2024-03-01 10:02:00",
            "province": "浙江省", "city": "杭州市", "town": "西湖区",
            "receiver_name": sealed.name_cipher, "receiver_phone": sealed.phone_cipher, "address": sealed.address_cipher,
            "receiver_name_mask": sealed.name_masked, "receiver_phone_mask": sealed.phone_masked,
            "address_mask": sealed.address_masked,
        }
        body = json.dumps({"order_info_get_response": {"order_info": order_info}}, ensure_ascii=False).encode()
        response = await deliver(gql.http, "pinduoduo", "pdd-flagship", body)
        assert response.status_code == 200, response.text
        order = await Order.get(external_id="240301-887766554433")
        assert (order.ship_name, order.ship_phone, order.ship_address) == ("", "", "")
        query = "query($id: ID!) { order(id: $id) { shippingAddress { name phone city address } } }"
        variables = {"id": ids.encode("Order", order.id)}
        ops = await gql(world.keys["ops"], query, variables)
        warehouse = await gql(world.keys["warehouse"], query, variables)
        assert running.sim.calls == {"pinduoduo": 1}
    assert ops["order"]["shippingAddress"] == {"name": name, "phone": phone, "city": "杭州市", "address": address}
    assert warehouse["order"]["shippingAddress"] == {"name": sealed.name_masked, "phone": sealed.phone_masked,
                                                     "city": "杭州市", "address": sealed.address_masked}
    assert [e.actor for e in await OrderEvent.filter(order_id=order.id, type=REVEALED)] == [await key_actor(world.keys["ops"])]


async def test_an_admin_connects_the_platform_account_over_graphql_and_it_is_never_shown(
        world: World, gql: GraphQLClient) -> None:
    async with running_simulator() as running:
        channel = await catalog.create_channel(world.tenant.id, "pdd-shop", "pinduoduo", "PDD shop")
        order = await sealed_order(world, running.sim, channel, "PDD-777", PEOPLE[0])
        account = account_config("pinduoduo", running.base_url)
        update = """mutation($input: UpdateChannelInput!) { updateChannel(input: $input) {
                      channel { code } errors { code field message } } }"""
        refused = await gql(world.keys["admin"], update, {"input": {"code": "pdd-shop", "apiAccount": {"password": "x"}}})
        saved = await gql(world.keys["admin"], update, {"input": {"code": "pdd-shop", "apiAccount": account}})
        listing = await gql.post(world.keys["admin"], "{ channels { code mapping importMapping } }")
        data = await gql(world.keys["ops"], "query($id: ID!) { node(id: $id) { ... on Order { shippingAddress { name } } } }",
                         {"id": ids.encode("Order", order.id)})
    assert refused["updateChannel"]["errors"][0]["field"] == "apiAccount.password"
    assert saved["updateChannel"]["errors"] == []
    assert account["app_secret"] not in listing.text
    assert data["node"]["shippingAddress"]["name"] == PEOPLE[0][0]
    changed = await OrderEvent.filter(type="channel.updated").order_by("-id").first()
    assert changed.after["api_keys_set"] == sorted(account)
    assert account["app_secret"] not in everything_in([changed])
