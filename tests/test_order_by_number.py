"""``orderByNumber``: the number a person reads out on the phone finds the order, ours or the channel's."""

from __future__ import annotations

from domain.catalog import setup as catalog
from domain.order_numbers import order_id_from_number, parse_order_number
from resolvers import ids
from tests.helpers import paid_order

BY_NUMBER = """
query($number: String!, $channel: String) {
  orderByNumber(number: $number, channel: $channel) { id externalId channel { code } }
}
"""


def test_our_numbers_are_read_leniently():
    assert [order_id_from_number(text) for text in ("OG000000042", "og42", " 42 ", "0042")] == [42] * 4
    assert [order_id_from_number(text) for text in ("OG0", "T1001", "OG42X", "", "99999999999")] == [None] * 5
    assert parse_order_number("Og000000007") == 7


async def test_our_number_in_any_form_finds_the_order(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "T-77")
    expected = ids.encode("Order", order.id)
    for text in (f"OG{order.id:09d}", f"og{order.id}", str(order.id)):
        found = (await gql(world.keys["ops"], BY_NUMBER, {"number": text}))["orderByNumber"]
        assert found and found["id"] == expected, text


async def test_the_channels_own_number_finds_the_order_with_or_without_the_channel(world, gql):
    order = await paid_order(world.actor(), world.channel.id, "3612345678901234567")
    expected = ids.encode("Order", order.id)
    for variables in ({"number": "3612345678901234567"},
                      {"number": "3612345678901234567", "channel": "tmall"}):
        assert (await gql(world.keys["ops"], BY_NUMBER, variables))["orderByNumber"]["id"] == expected
    assert (await gql(world.keys["ops"], BY_NUMBER, {"number": "3612345678901234567", "channel": "jd"}))[
        "orderByNumber"] is None


async def test_a_channel_narrows_the_search_to_its_own_numbers(world, gql):
    """"2" is our order 2 unless the caller says it is the channel's number 2."""
    first = await paid_order(world.actor(), world.channel.id, "X-1")
    second = await paid_order(world.actor(), world.channel.id, str(first.id))  # a channel number that is also our id
    ours = (await gql(world.keys["ops"], BY_NUMBER, {"number": str(first.id)}))["orderByNumber"]
    theirs = (await gql(world.keys["ops"], BY_NUMBER, {"number": str(first.id), "channel": "tmall"}))["orderByNumber"]
    assert ours["id"] == ids.encode("Order", first.id)
    assert theirs["id"] == ids.encode("Order", second.id)


async def test_unknown_numbers_and_other_tenants_orders_are_null(world, other_world, gql):
    theirs = await paid_order(other_world.actor(), other_world.channel.id, "SECRET-1")
    for number in ("OG999999999", "nope", "SECRET-1", f"OG{theirs.id:09d}", " ", "x" * 500):
        assert (await gql(world.keys["ops"], BY_NUMBER, {"number": number}))["orderByNumber"] is None, number


async def test_a_number_two_channels_share_asks_for_the_channel(world, gql):
    jd = await catalog.create_channel(world.tenant.id, "jd", "jd", "JD store")
    await paid_order(world.actor(), world.channel.id, "SAME-1")
    on_jd = await paid_order(world.actor(), jd.id, "SAME-1")
    response = (await gql.post(world.keys["ops"], BY_NUMBER, {"number": "SAME-1"})).json()
    [error] = response["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and "give the channel" in error["message"]
    found = (await gql(world.keys["ops"], BY_NUMBER, {"number": "SAME-1", "channel": "jd"}))["orderByNumber"]
    assert found == {"id": ids.encode("Order", on_jd.id), "externalId": "SAME-1", "channel": {"code": "jd"}}
