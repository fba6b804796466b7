"""orderEvents over a real graphql-transport-ws client against a real uvicorn process."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from domain import orders
from resolvers import ids
from tests.helpers import paid_order
from tests.served import served

SUBSCRIBE_TEXT = "subscription($after: Int) { orderEvents(after: $after) { eventId type: typeCode order { externalId status } } }"


def transport(base: str, key: str | None) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=base.replace("http", "ws") + "/graphql",
        init_payload={"apiKey": key} if key else {},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )


async def _collect(base: str, key: str, count: int, after: int | None = None, started: asyncio.Event | None = None) -> list[dict]:
    received: list[dict] = []
    async with Client(transport=transport(base, key)) as session:
        iterator = session.subscribe(GraphQLRequest(SUBSCRIBE_TEXT, variable_values={"after": after}))
        if started:
            started.set()
        async for result in iterator:
            received.append(result["orderEvents"])
            if len(received) >= count:
                break
    return received


@pytest.mark.parametrize("payload", [{}, {"apiKey": "og_wrong"}, {"Authorization": "Bearer nope"}])
async def test_connection_init_without_a_valid_key_is_closed_with_4403(world, db, payload):
    import json

    with served(db) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd.code == 4403


async def test_subscribing_before_connection_init_is_closed_with_4401(world, db):
    import json

    with served(db) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { orderEvents { type } }"}}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=5)
    assert closed.value.rcvd.code == 4401


async def test_only_graphql_transport_ws_is_offered(world, db):
    """The legacy graphql-ws protocol (auth-bypass CVE) is refused with 4406."""
    with served(db) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-ws"]) as legacy:
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await asyncio.wait_for(legacy.recv(), timeout=5)
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            assert ws.subprotocol == "graphql-transport-ws"
    assert closed.value.rcvd.code == 4406


async def test_foreign_order_ids_in_a_filter_deliver_nothing(world, other_world, db):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "THEIRS")
    query = "subscription($ids: [ID!]) { orderEvents(filter: {orders: $ids}) { type } }"
    with served(db) as base:
        async def listen() -> list:
            async with Client(transport=transport(base, world.keys["admin"])) as session:
                return [r async for r in session.subscribe(GraphQLRequest(query, variable_values={"ids": [ids.encode("Order", theirs.id)]}))]

        task = asyncio.create_task(listen())
        await asyncio.sleep(1.0)
        await orders.hold_order(other_world.actor(), theirs.id, ["x"])
        await asyncio.sleep(1.0)
        assert not task.done()
        task.cancel()


async def test_subscriptions_per_connection_are_bounded(world, db):
    import json

    with served(db, ORDERGRAPH_MAX_SUBSCRIPTIONS="2") as base:
        url = base.replace("http", "ws") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": world.keys["ops"]}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            for n in range(3):
                await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": "subscription { orderEvents { type } }"}}))
            refusal = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    assert refusal["id"] == "2" and refusal["type"] == "error"
    assert refusal["payload"][0]["message"] == "Subscription limit reached"


async def test_revoking_a_key_closes_the_sockets_opened_with_it_and_only_those(world, db):
    """A partner whose key is revoked must stop receiving events, not keep them until it reconnects."""
    import json
    import subprocess
    import sys

    revoked, kept = world.keys["partner"], world.keys["ops"]
    env = {"DATABASE_URL": db, "PATH": "/usr/bin:/bin"}

    async def open_socket(url: str, key: str) -> websockets.ClientConnection:
        ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
        await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": key}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), timeout=5))["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { orderEvents { type } }"}}))
        return ws

    with served(db, ORDERGRAPH_KEY_CACHE_SECONDS="0.5") as base:
        url = base.replace("http", "ws") + "/graphql"
        doomed, survivor = await open_socket(url, revoked), await open_socket(url, kept)
        with pytest.raises(TimeoutError):  # a live key keeps its socket across several re-checks
            await asyncio.wait_for(doomed.recv(), timeout=1.5)
        cli = subprocess.run([sys.executable, "-m", "api.cli", "keys", "revoke", "--tenant", world.tenant.slug, "--prefix", revoked[:11]],
                             capture_output=True, text=True, env=env, timeout=60)
        assert cli.returncode == 0, cli.stderr
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await asyncio.wait_for(doomed.recv(), timeout=5)
        await survivor.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(survivor.recv(), timeout=5))["type"] == "pong"
        await survivor.close()
        listed = subprocess.run([sys.executable, "-m", "api.cli", "keys", "list", "--tenant", world.tenant.slug],
                                capture_output=True, text=True, env=env, timeout=60).stdout
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "API key revoked")
    assert f"{revoked[:11]}  partner" in listed and "revoked" in listed and revoked[11:] not in listed
