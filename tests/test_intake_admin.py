"""Admin GraphQL for intake: channels and secrets, carrier accounts, status tables, channel state, imports list."""

from __future__ import annotations

import json

from models import OrderEvent
from tests.intake_support import (
    SECRET,
    add_channel,
    deliver,
    kdniao_form,
    post,
    sample,
    shipped_order,
    taobao,
)

NEW_SECRET = "whsec_" + "bmV3LXNlY3JldC1rZXktMDEyMzQ1Njc4OWFiY2RlZg=="


async def test_secret_rotation_takes_effect_at_once(world, gql):
    await add_channel(world, "tb", "taobao")
    assert (await deliver(gql.http, "taobao", "tb", taobao())).status_code == 200
    rotated = await gql(world.keys["admin"], """mutation($s: String!) { updateChannel(input: {code: "tb", secret: $s})
        { channel { hasSecret } errors { message } } }""", {"s": NEW_SECRET})
    assert rotated["updateChannel"] == {"channel": {"hasSecret": True}, "errors": []}
    old = await deliver(gql.http, "taobao", "tb", taobao("WAIT_BUYER_CONFIRM_GOODS", "2024-03-02 09:00:00"))
    assert old.status_code == 401
    new = await deliver(gql.http, "taobao", "tb", taobao("WAIT_BUYER_CONFIRM_GOODS", "2024-03-02 09:00:00"), secret=NEW_SECRET)
    assert new.status_code == 200
    updated = await OrderEvent.filter(type="channel.updated").first()
    assert updated.after["secret_changed"] is True and NEW_SECRET not in json.dumps(updated.after)


async def test_register_channel_validations(world, gql):
    query = """mutation($i: RegisterChannelInput!) { registerChannel(input: $i) { channel { code } errors { code field } } }"""
    bad_kind = await gql(world.keys["admin"], query, {"i": {"code": "x", "kind": "ebay", "name": "X", "secret": SECRET}})
    assert bad_kind["registerChannel"]["errors"] == [{"code": "VALIDATION", "field": "kind"}]
    short = await gql(world.keys["admin"], query, {"i": {"code": "x", "kind": "taobao", "name": "X", "secret": "short"}})
    assert short["registerChannel"]["errors"] == [{"code": "VALIDATION", "field": "secret"}]
    twice = await gql(world.keys["admin"], query, {"i": {"code": "tmall", "kind": "taobao", "name": "X", "secret": SECRET}})
    assert twice["registerChannel"]["errors"] == [{"code": "DUPLICATE", "field": "code"}]
    denied = await gql(world.keys["ops"], query, {"i": {"code": "y", "kind": "taobao", "name": "Y", "secret": SECRET}})
    assert denied["registerChannel"]["errors"][0]["code"] == "FORBIDDEN"


async def test_intake_channels_and_carrier_accounts(world, gql):
    await add_channel(world, "tb", "taobao")
    saved = await gql(world.keys["admin"], """mutation { saveCarrierAccount(input: {provider: "kdniao",
        secret: "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17", config: {ebusiness_id: "1237100"}})
        { account { provider hookPath hasSecret config } errors { message } } }""")
    assert saved["saveCarrierAccount"]["account"] == {"provider": "kdniao", "hookPath": "/hooks/acme/carrier/kdniao",
                                                      "hasSecret": True, "config": {"ebusiness_id": "1237100"}}
    data = await gql(world.keys["admin"], "{ intakeChannels { code kind hasSecret hookPath } carrierAccounts { provider } }")
    assert {"code": "tb", "kind": "taobao", "hasSecret": True, "hookPath": "/hooks/acme/tb"} in data["intakeChannels"]
    assert data["carrierAccounts"] == [{"provider": "kdniao"}]
    _, shipment = await shipped_order(world, "A1", "YTO", "YT7412345678901")
    response = await post(gql.http, "/hooks/acme/carrier/kdniao", kdniao_form(sample("kdniao_request_data.json").decode()),
                          {"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and json.loads(response.content)["Success"] is True


async def test_status_tables_and_channel_state(world, gql):
    await add_channel(world, "tb", "taobao")
    answer = (await deliver(gql.http, "taobao", "tb", taobao())).json()
    tables = (await gql(world.keys["admin"], "{ statusMappingTables }"))["statusMappingTables"]
    assert {"taobao", "taobao.refund_status", "kdniao", "shopify"} <= set(tables)
    table = (await gql(world.keys["admin"], '{ statusMapping(table: "taobao") { name kind version entries { code order payment } } }'))
    entries = {e["code"]: e for e in table["statusMapping"]["entries"]}
    assert table["statusMapping"]["kind"] == "order" and table["statusMapping"]["version"] == 0
    assert entries["WAIT_BUYER_CONFIRM_GOODS"] == {"code": "WAIT_BUYER_CONFIRM_GOODS", "order": "SHIPPED", "payment": "PAID"}
    order_id = (await gql(world.keys["admin"], '{ orderByExternalId(channel: "tb", externalId: "3612345678901234567") { id } }'))
    state = await gql(world.keys["admin"], """query($id: ID!) { channelOrderState(orderId: $id) { source statusCode
        unmapped afterSale payloadSha256 } }""", {"id": order_id["orderByExternalId"]["id"]})
    assert state["channelOrderState"]["statusCode"] == "WAIT_SELLER_SEND_GOODS"
    assert state["channelOrderState"]["afterSale"] == {"line:3612345678901234569": "REQUESTED"}
    assert answer["status"] == "created"


async def test_import_runs_listing(world, gql):
    data = await gql(world.keys["admin"], "{ importRuns { nodes { id } totalCount } }")
    assert data == {"importRuns": {"nodes": [], "totalCount": 0}}
    denied = await gql.post(world.keys["auditor"], "{ importRuns { nodes { id } } }")
    assert denied.json()["errors"][0]["message"] == "only an admin may manage intake"


async def test_a_tracking_provider_api_key_is_never_shown_or_written_to_lineage(world, gql):
    saved = await gql(world.keys["admin"], """mutation { saveCarrierAccount(input: {provider: "kuaidi100",
        secret: "salt-0123456789", config: {key: "kd100-api-key-SECRET", customer: "CUST01"}})
        { account { config } errors { message } } }""")
    assert saved["saveCarrierAccount"]["account"]["config"] == {"key": "***", "customer": "CUST01"}
    listed = await gql(world.keys["admin"], "{ carrierAccounts { provider config } }")
    assert listed["carrierAccounts"] == [{"provider": "kuaidi100", "config": {"key": "***", "customer": "CUST01"}}]
    lineage = await OrderEvent.filter(tenant_id=world.tenant.id).values_list("after", flat=True)
    assert lineage and "kd100-api-key-SECRET" not in json.dumps(lineage)
