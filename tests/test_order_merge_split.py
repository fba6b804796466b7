"""Merging orders to one receiver into one parcel (合单), splitting an order into parcels, and shipping them.

Merge: the key (shop, buyer, receiver name, phone, address; sealed receivers by
the platform's handle or ciphertext), the conditions (paid, unallocated, not
held, no after-sale), allocation of the group at one warehouse, shipping the
leader ships every member, unmerge. Split: by line and by quantity, before and
after allocation, then ship parcel by parcel. Per-warehouse shipping and the new
fields through GraphQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tortoise import Tortoise

from api.database import tortoise_config

from domain import orders
from domain.allocation import allocate
from domain.catalog import setup as catalog
from domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.orders.merge import MergeBlock, MergeRefused, key_of
from domain.statuses import OrderStatus, PaymentStatus
from models import AfterSale, Alert, Order, OrderEvent, OrderLine, Payment, Reservation, SealedContact, Shipment
from models.order import order_no
from resolvers import ids
from tests.stock_fixtures import check_invariants, place_warehouses, stock_up

BASE = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ADDRESS = {"name": "王五", "phone": "13800000000", "province": "上海", "city": "上海", "district": "浦东新区",
           "address": "世纪大道 1 号"}


def wh(world, code: str):  # noqa: ANN001, ANN201
    return next(w for w in world.warehouses if w.code == code)


async def buy(world, external_id: str, lines: dict[str, int], *, minute: float = 0, channel=None, paid: bool = True,  # noqa: ANN001
              buyer_phone: str = "13800000000", **address: str) -> Order:
    """A paid order of one buyer, to ``ADDRESS`` unless told otherwise, placed ``minute`` minutes after BASE."""
    new_lines = [NewLine(sku=sku, quantity=quantity, unit_price=Decimal("10.00")) for sku, quantity in lines.items()]
    total = sum((line.unit_price * line.quantity for line in new_lines), Decimal("0"))
    return await orders.create_order(world.actor(), NewOrder(
        channel_id=(channel or world.channel).id, external_id=external_id, lines=new_lines,
        customer=NewCustomer(name="王五", phone=buyer_phone),
        address=NewAddress(**{**ADDRESS, **address}),
        payment=NewPayment(gateway="alipay", amount=total) if paid else None,
        placed_at=BASE + timedelta(minutes=minute),
    ))


async def fresh(row: Order) -> Order:
    return await Order.get(id=row.id)


async def events(order_id: int, type: str) -> list[OrderEvent]:
    return list(await OrderEvent.filter(order_id=order_id, type=type).order_by("id"))


async def pack(world, order_id: int) -> None:  # noqa: ANN001
    for status in (OrderStatus.PICKING, OrderStatus.PACKED):
        await orders.transition_order(world.actor(), order_id, status)


# --- the merge key and the finder ---------------------------------------------------------------


async def test_candidates_share_shop_buyer_receiver_and_window(world):
    await stock_up(world, {"TEA": 10})
    first = await buy(world, "A", {"TEA": 1})
    same = await buy(world, "B", {"TEA": 1}, minute=5)
    spelled = await buy(world, "C", {"TEA": 1}, minute=6, address="世纪大道1号", city="上海市", phone="+86 138 0000 0000")
    other_phone = await buy(world, "D", {"TEA": 1}, minute=2, phone="13900000000")
    other_name = await buy(world, "E", {"TEA": 1}, minute=2, name="赵六")
    other_street = await buy(world, "F", {"TEA": 1}, minute=2, address="世纪大道 2 号")
    other_buyer = await buy(world, "G", {"TEA": 1}, minute=2, buyer_phone="13700000000")
    shop = await catalog.create_channel(world.tenant.id, "pdd", "pinduoduo", "PDD shop")
    other_shop = await buy(world, "H", {"TEA": 1}, minute=2, channel=shop)
    late = await buy(world, "I", {"TEA": 1}, minute=16)
    held = await buy(world, "J", {"TEA": 1}, minute=3)
    await orders.hold_order(world.actor(), held.id, ["address check"])
    refunded = await buy(world, "K", {"TEA": 1}, minute=3)
    await Alert.create(tenant_id=world.tenant.id, order_id=refunded.id, kind="after_sale.open", message="refund requested")
    refund_paid = await buy(world, "L", {"TEA": 1}, minute=3)
    await Payment.filter(order_id=refund_paid.id).update(status=PaymentStatus.PARTIALLY_REFUNDED)
    allocated = await buy(world, "M", {"TEA": 1}, minute=3)
    await orders.fulfilment.allocate_order(world.actor(), allocated.id, wh(world, "SH").id)
    unpaid = await buy(world, "N", {"TEA": 1}, minute=3, paid=False)
    cancelled = await buy(world, "O", {"TEA": 1}, minute=3)
    await orders.cancel_order(world.actor(), cancelled.id, "buyer asked")
    requested = await buy(world, "P", {"TEA": 1}, minute=3)  # a refund request opened here, not by the channel
    await AfterSale.create(tenant_id=world.tenant.id, order_id=requested.id, kind="refund_only", status="REQUESTED",
                           source="graphql", requested_amount=Decimal("10.00"))

    found = await orders.merge_candidates(world.tenant.id, first.id)
    assert [o.external_id for o in found] == ["B", "C"]
    assert [o.external_id for o in await orders.merge_candidates(world.tenant.id, first.id, timedelta(minutes=20))] == ["B", "C", "I"]
    assert [o.external_id for o in await orders.merge_candidates(world.tenant.id, late.id)] == ["B", "C"]  # A is 16 minutes off

    keys = {o.external_id: await orders.merge_key(o) for o in (first, same, spelled, other_phone, other_shop)}
    assert keys["A"] == keys["B"] == keys["C"] and keys["A"].label == keys["C"].label
    assert "13800000000" not in keys["A"].label and "王五" not in keys["A"].label
    assert keys["A"].difference(keys["D"]) == MergeBlock.PHONE and keys["A"].label != keys["D"].label
    assert keys["A"].difference(keys["H"]) == MergeBlock.SHOP
    assert keys["A"].difference(await orders.merge_key(other_name)) == MergeBlock.NAME
    assert keys["A"].difference(await orders.merge_key(other_street)) == MergeBlock.ADDRESS
    assert keys["A"].difference(await orders.merge_key(other_buyer)) == MergeBlock.BUYER
    # An order that cannot merge itself has no candidates.
    for blocked in (held, refunded, refund_paid, allocated, unpaid, cancelled, requested):
        assert await orders.merge_candidates(world.tenant.id, blocked.id) == [], blocked.external_id
    with pytest.raises(ValidationFailed):
        await orders.merge_candidates(world.tenant.id, first.id, timedelta(0))
    with pytest.raises(NotFound):
        await orders.merge_candidates(world.tenant.id + 1, first.id)


async def test_sealed_receivers_compare_the_platform_handle_or_the_ciphertext(world):
    await stock_up(world, {"TEA": 10})
    sealed = {"name": "", "phone": "", "address": ""}
    rows = {}
    for external_id, minute, values in (
        ("S1", 0, {"open_id": "oaid-1", "name_cipher": "~c1~", "phone_cipher": "~p1~", "address_cipher": "~a1~"}),
        ("S2", 1, {"open_id": "oaid-1", "name_cipher": "~c2~", "phone_cipher": "~p2~", "address_cipher": "~a2~"}),  # same handle
        ("S3", 2, {"open_id": "oaid-2", "name_cipher": "~c1~", "phone_cipher": "~p1~", "address_cipher": "~a1~"}),  # other handle
        ("S4", 3, {}),  # in clear: never matches a sealed one
    ):
        order = await orders.create_order(world.actor(), NewOrder(
            channel_id=world.channel.id, external_id=external_id, lines=[NewLine("TEA", 1, Decimal("10.00"))],
            address=NewAddress(**{**ADDRESS, **sealed}) if values else NewAddress(**ADDRESS),
            payment=NewPayment(gateway="alipay", amount=Decimal("10.00")), placed_at=BASE + timedelta(minutes=minute)))
        if values:
            await SealedContact.create(order_id=order.id, platform="taobao", **values)
        rows[external_id] = order
    found = await orders.merge_candidates(world.tenant.id, rows["S1"].id)
    assert [o.external_id for o in found] == ["S2"]
    # Without a handle on both sides the three ciphertexts decide.
    by_cipher = [SealedContact(platform="pdd", name_cipher="n", phone_cipher="p", address_cipher="a"),
                 SealedContact(platform="pdd", name_cipher="n", phone_cipher="p", address_cipher="a"),
                 SealedContact(platform="pdd", name_cipher="n", phone_cipher="p2", address_cipher="a")]
    keys = [key_of(rows["S1"], contact) for contact in by_cipher]
    assert keys[0].difference(keys[1]) is None and keys[0].difference(keys[2]) == MergeBlock.SEALED
    leader = await orders.merge_orders(world.actor(), [rows["S2"].id, rows["S1"].id])
    assert leader.id == rows["S1"].id
    with pytest.raises(MergeRefused) as refused:
        await orders.merge_orders(world.actor(), [rows["S1"].id, rows["S4"].id])
    assert refused.value.block == MergeBlock.SEALED


# --- merge, allocate, ship, unmerge -------------------------------------------------------------


async def test_merged_orders_allocate_at_one_warehouse_and_ship_with_one_waybill(world):
    await place_warehouses(world)  # priority SH, GZ, TJ
    await stock_up(world, {"TEA": {"SH": 10, "GZ": 10}, "CUP": {"GZ": 5}})
    a = await buy(world, "A", {"TEA": 2})
    b = await buy(world, "B", {"CUP": 1}, minute=4)
    c = await buy(world, "C", {"TEA": 1}, minute=9)
    ops = world.actor()

    leader = await orders.merge_orders(ops, [c.id, b.id, a.id])
    assert leader.id == a.id  # the earliest placed leads
    assert [(await fresh(o)).merged_into_id for o in (a, b, c)] == [None, a.id, a.id]
    for member in (a, b, c):
        [merged] = await events(member.id, "order.merged")
        assert merged.after["leader"] == a.id and merged.after["members"] == [b.id, c.id]
        assert merged.before["merged_into"] is None
    assert merged.actor == ops.name and merged.after["merged_into"] == a.id

    # A member alone is sent to its leader, which is not allocated yet.
    with pytest.raises(Conflict) as refused:
        await fulfilment.allocate_order(ops, b.id)
    assert order_no(a.id) in refused.value.message
    # The leader takes the group along; SH has no CUP, so all of it goes to GZ (A alone would go to SH).
    await fulfilment.allocate_order(ops, a.id)
    gz = wh(world, "GZ").id
    for member in (a, b, c):
        row = await fresh(member)
        assert row.status == OrderStatus.ALLOCATED and row.warehouse_id == gz
    live = await Reservation.filter(order_id__in=[a.id, b.id, c.id], status="ACTIVE")
    assert len(live) == 3 and {r.warehouse_id for r in live} == {gz}
    assert {r.order_id for r in live} == {a.id, b.id, c.id}  # each reservation under its own order
    await check_invariants(world.tenant.id)

    with pytest.raises(Conflict):
        await fulfilment.ship_order(ops, b.id, "SF", "SF100")  # a member never ships on its own
    await pack(world, a.id)
    shipment = await fulfilment.ship_order(ops, a.id, "SF", "SF100")
    assert shipment.order_id == a.id
    for member in (a, b, c):
        assert (await fresh(member)).status == OrderStatus.SHIPPED
        [parcel] = await Shipment.filter(order_id=member.id)
        assert (parcel.carrier, parcel.tracking_no, parcel.warehouse_id) == ("SF", "SF100", gz)
        assert len(await events(member.id, "order.shipped")) == 1
        assert len(await events(member.id, "stock.consumed")) == 1
    assert await Reservation.filter(order_id__in=[a.id, b.id, c.id], status="ACTIVE").count() == 0
    await check_invariants(world.tenant.id)
    with pytest.raises(Conflict):
        await orders.unmerge_order(ops, b.id, "too late")


async def test_unmerged_orders_allocate_on_their_own(world):
    await place_warehouses(world)
    await stock_up(world, {"TEA": {"SH": 10}, "CUP": {"GZ": 5}})
    a = await buy(world, "A", {"TEA": 1})
    b = await buy(world, "B", {"CUP": 1}, minute=1)
    c = await buy(world, "C", {"TEA": 1}, minute=2)
    ops = world.actor()
    await orders.merge_orders(ops, [a.id, b.id, c.id])
    with pytest.raises(ValidationFailed):
        await orders.unmerge_order(ops, b.id, "  ")
    await orders.unmerge_order(ops, b.id, "ships from another warehouse")
    assert (await fresh(b)).merged_into_id is None and (await fresh(c)).merged_into_id == a.id
    [left] = await events(b.id, "order.unmerged")
    assert left.reason == "ships from another warehouse" and left.before["merged_into"] == a.id
    [told] = await events(a.id, "order.unmerged")
    assert told.after["members"] == [c.id] and told.after["unmerged"] == [b.id]

    await fulfilment.allocate_order(ops, a.id)  # A and C, not B
    assert (await fresh(c)).status == OrderStatus.ALLOCATED and (await fresh(b)).status == OrderStatus.PAID
    assert await Reservation.filter(order_id=b.id).count() == 0
    await fulfilment.allocate_order(ops, b.id)
    assert (await fresh(b)).warehouse_id == wh(world, "GZ").id
    assert (await fresh(a)).warehouse_id == wh(world, "SH").id

    # Dissolving through the leader frees every member; reservations stay on their lines.
    await orders.unmerge_order(ops, a.id, "separate parcels after all")
    assert (await fresh(c)).merged_into_id is None and (await fresh(c)).status == OrderStatus.ALLOCATED
    assert await Reservation.filter(order_id=c.id, status="ACTIVE").count() == 1
    with pytest.raises(Conflict):
        await orders.unmerge_order(ops, a.id, "again")
    await check_invariants(world.tenant.id)


async def test_illegal_merges_name_the_order_and_the_reason_and_change_nothing(world, other_world):
    await stock_up(world, {"TEA": 10})
    ops = world.actor()
    a = await buy(world, "A", {"TEA": 1})
    cases: list[tuple[Order, MergeBlock]] = []
    held = await buy(world, "held", {"TEA": 1}, minute=1)
    await orders.hold_order(ops, held.id, ["fraud review"])
    cases.append((held, MergeBlock.ON_HOLD))
    cases.append((await buy(world, "phone", {"TEA": 1}, minute=1, phone="13900000000"), MergeBlock.PHONE))
    refund = await buy(world, "refund", {"TEA": 1}, minute=1)
    await Alert.create(tenant_id=world.tenant.id, order_id=refund.id, kind="after_sale.open", message="refund requested")
    cases.append((refund, MergeBlock.AFTER_SALE))
    allocated = await buy(world, "allocated", {"TEA": 1}, minute=1)
    await fulfilment.allocate_order(ops, allocated.id, wh(world, "SH").id)
    cases.append((allocated, MergeBlock.ALLOCATED))
    shop = await catalog.create_channel(world.tenant.id, "jd", "generic", "JD shop")
    cases.append((await buy(world, "shop", {"TEA": 1}, minute=1, channel=shop), MergeBlock.SHOP))
    cases.append((await buy(world, "unpaid", {"TEA": 1}, minute=1, paid=False), MergeBlock.NOT_PAID))
    cancelled = await buy(world, "cancelled", {"TEA": 1}, minute=1)
    await orders.cancel_order(ops, cancelled.id, "buyer asked")
    cases.append((cancelled, MergeBlock.CANCELLED))
    x, y = await buy(world, "X", {"TEA": 1}, minute=1), await buy(world, "Y", {"TEA": 1}, minute=2)
    await orders.merge_orders(ops, [x.id, y.id])
    cases.append((y, MergeBlock.MERGED))
    merged_before = await OrderEvent.filter(type="order.merged").count()

    for bad, block in cases:
        with pytest.raises(MergeRefused) as refused:
            await orders.merge_orders(ops, [a.id, bad.id])
        assert (refused.value.order_id, refused.value.block) == (bad.id, block), bad.external_id
        assert refused.value.message.startswith(f"{order_no(bad.id)} cannot be merged: {block.value}")
        assert refused.value.code == "CONFLICT" and refused.value.field == "ids"
    assert await Order.filter(merged_into_id__isnull=False).count() == 1  # only Y, from before
    assert await OrderEvent.filter(type="order.merged").count() == merged_before
    assert (await fresh(a)).version == 1

    with pytest.raises(ValidationFailed):
        await orders.merge_orders(ops, [a.id, a.id])
    foreign = await other_world_order(other_world)
    with pytest.raises(NotFound):
        await orders.merge_orders(ops, [a.id, foreign.id])
    with pytest.raises(Conflict):
        await orders.unmerge_order(ops, a.id, "not merged")
    # A leader joining a new merge brings its members along, under the earliest placed.
    leader = await orders.merge_orders(ops, [x.id, a.id])
    assert leader.id == a.id and {o.merged_into_id for o in await Order.filter(id__in=[x.id, y.id])} == {a.id}
    [again] = (await events(y.id, "order.merged"))[1:]
    assert again.before["merged_into"] == x.id and again.after["merged_into"] == a.id
    # Merging what is already merged that way changes nothing.
    count = await OrderEvent.all().count()
    await orders.merge_orders(ops, [a.id, y.id])
    assert await OrderEvent.all().count() == count


async def other_world_order(other_world) -> Order:  # noqa: ANN001
    return await orders.create_order(other_world.actor(), NewOrder(
        channel_id=other_world.channel.id, external_id="R1", lines=[NewLine("TEA", 1, Decimal("10.00"))],
        address=NewAddress(**ADDRESS), payment=NewPayment(gateway="alipay", amount=Decimal("10.00"))))


async def test_a_held_member_stops_the_group(world):
    await stock_up(world, {"TEA": {"SH": 10}})
    ops = world.actor()
    a, b = await buy(world, "A", {"TEA": 1}), await buy(world, "B", {"TEA": 1}, minute=1)
    await orders.merge_orders(ops, [a.id, b.id])
    await orders.hold_order(ops, b.id, ["buyer message"])
    with pytest.raises(Conflict) as refused:
        await fulfilment.allocate_order(ops, a.id)
    assert order_no(b.id) in refused.value.message and "on hold" in refused.value.message
    assert await Reservation.all().count() == 0
    await orders.release_hold(ops, b.id)
    await fulfilment.allocate_order(ops, a.id)
    await pack(world, a.id)
    await orders.hold_order(ops, b.id, ["address changed"])
    with pytest.raises(Conflict):
        await fulfilment.ship_order(ops, a.id, "SF", "SF1")
    assert await Shipment.all().count() == 0 and (await fresh(a)).status == OrderStatus.PACKED


# --- split ----------------------------------------------------------------------------------------


async def lines_of(order_id: int) -> list[tuple[str, int, int]]:
    return [(line.sku, line.quantity, line.parcel) for line in await OrderLine.filter(order_id=order_id).order_by("parcel", "id")]


async def test_split_an_allocated_order_by_quantity_then_ship_parcel_by_parcel(world):
    await stock_up(world, {"TEA": {"SH": 10}, "CUP": {"SH": 5}})
    ops = world.actor()
    order = await buy(world, "A", {"TEA": 3, "CUP": 1})
    await fulfilment.allocate_order(ops, order.id, wh(world, "SH").id)
    tea, cup = await OrderLine.filter(order_id=order.id).order_by("id")
    before = await check_invariants(world.tenant.id)

    await orders.split_order(ops, order.id, [[(tea.id, 2)], [(tea.id, 1), (cup.id, 1)]])
    assert await lines_of(order.id) == [("TEA", 2, 1), ("CUP", 1, 2), ("TEA", 1, 2)]
    rows = await OrderLine.filter(order_id=order.id, sku="TEA").order_by("id")
    assert rows[0].id == tea.id and rows[1].unit_price == tea.unit_price and rows[1].external_line_id == tea.external_line_id
    live = {r.line_id: r for r in await Reservation.filter(order_id=order.id, status="ACTIVE")}  # type: ignore[attr-defined]
    assert {line: r.quantity for line, r in live.items()} == {tea.id: 2, rows[1].id: 1, cup.id: 1}
    assert {r.warehouse_id for r in live.values()} == {wh(world, "SH").id}
    assert await check_invariants(world.tenant.id) == before  # the same units reserved, now per new row
    [split] = await events(order.id, "order.split")
    assert split.before["lines"] == [{"line_id": tea.id, "sku": "TEA", "quantity": 3, "parcel": 1},
                                     {"line_id": cup.id, "sku": "CUP", "quantity": 1, "parcel": 1}]
    assert [(p["sku"], p["quantity"], p["parcel"]) for p in split.after["lines"]] == [("TEA", 2, 1), ("CUP", 1, 2), ("TEA", 1, 2)]

    await pack(world, order.id)
    await fulfilment.ship_order(ops, order.id, "SF", "SF1", parcel=1)
    assert (await fresh(order)).status == OrderStatus.PARTIALLY_SHIPPED
    assert {r.line_id for r in await Reservation.filter(order_id=order.id, status="CONSUMED")} == {tea.id}  # type: ignore[attr-defined]
    with pytest.raises(Conflict):
        await fulfilment.ship_order(ops, order.id, "SF", "SF1b", parcel=1)  # nothing of parcel 1 is left
    with pytest.raises(Conflict):
        await orders.split_order(ops, order.id, [[(tea.id, 2)]])  # shipped lines cannot move
    await fulfilment.ship_order(ops, order.id, "YTO", "YT2", parcel=2)
    assert (await fresh(order)).status == OrderStatus.SHIPPED
    assert sorted((s.carrier, s.tracking_no) for s in await Shipment.filter(order_id=order.id)) == [("SF", "SF1"), ("YTO", "YT2")]
    await check_invariants(world.tenant.id)


async def test_split_by_line_before_allocation_and_bad_splits_are_refused(world):
    await stock_up(world, {"TEA": {"SH": 10}, "CUP": {"SH": 5}})
    ops = world.actor()
    order = await buy(world, "A", {"TEA": 2, "CUP": 1})
    tea, cup = await OrderLine.filter(order_id=order.id).order_by("id")
    other = await buy(world, "B", {"TEA": 1})
    [foreign] = await OrderLine.filter(order_id=other.id)
    bad = [
        ([[(tea.id, 2)]], ValidationFailed),  # the CUP is not assigned
        ([[(tea.id, 1)], [(cup.id, 1)]], ValidationFailed),  # one TEA unassigned
        ([[(tea.id, 2), (cup.id, 1), (tea.id, 1)]], ValidationFailed),  # listed twice in a parcel
        ([[(tea.id, 2)], []], ValidationFailed),  # an empty parcel
        ([[(tea.id, 0), (cup.id, 1)]], ValidationFailed),
        ([[(tea.id, 2), (cup.id, 1), (foreign.id, 1)]], NotFound),
        ([], ValidationFailed),
    ]
    for parcels, error in bad:
        with pytest.raises(error):
            await orders.split_order(ops, order.id, parcels)
    assert await lines_of(order.id) == [("TEA", 2, 1), ("CUP", 1, 1)] and not await events(order.id, "order.split")

    await orders.split_order(ops, order.id, [[(cup.id, 1)], [(tea.id, 2)]])
    assert await lines_of(order.id) == [("CUP", 1, 1), ("TEA", 2, 2)]
    await fulfilment.allocate_order(ops, order.id)
    await pack(world, order.id)
    await fulfilment.ship_order(ops, order.id, "SF", "SF1", parcel=2)
    assert (await fresh(order)).status == OrderStatus.PARTIALLY_SHIPPED
    await fulfilment.ship_order(ops, order.id, "SF", "SF2", parcel=1)
    assert (await fresh(order)).status == OrderStatus.SHIPPED
    await check_invariants(world.tenant.id)


async def test_a_split_line_being_picked_is_refused(world):
    await stock_up(world, {"TEA": {"SH": 10}})
    ops = world.actor()
    order = await buy(world, "A", {"TEA": 2})
    await fulfilment.allocate_order(ops, order.id, wh(world, "SH").id)
    await Reservation.filter(order_id=order.id).update(picker="picker-1")
    [tea] = await OrderLine.filter(order_id=order.id)
    with pytest.raises(Conflict):
        await orders.split_order(ops, order.id, [[(tea.id, 1)], [(tea.id, 1)]])
    assert await lines_of(order.id) == [("TEA", 2, 1)]


# --- GraphQL ------------------------------------------------------------------------------------

ORDER_FIELDS = "id number status mergedInto { number } mergedOrders { number } lines { sku quantity parcel }"
MERGE = "mutation($input: MergeOrdersInput!) { mergeOrders(input: $input) { order { %s } errors { code field message } } }" % ORDER_FIELDS
UNMERGE = "mutation($input: UnmergeOrderInput!) { unmergeOrder(input: $input) { order { %s } errors { code message } } }" % ORDER_FIELDS
SPLIT = "mutation($input: SplitOrderInput!) { splitOrder(input: $input) { order { %s } errors { code field message } } }" % ORDER_FIELDS
SHIP = """mutation($input: ShipOrderInput!) { shipOrder(input: $input) {
  order { status shipments { trackingNo warehouse { code } } } errors { code field message } } }"""
READ = "query($id: ID!) { order(id: $id) { %s mergeKey mergeCandidates { number } } }" % ORDER_FIELDS


def gid(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


async def test_merge_unmerge_split_and_ship_per_warehouse_through_graphql(world, gql):
    await stock_up(world, {"TEA": {"SH": 10}, "CUP": {"GZ": 5, "SH": 5}})
    key = world.keys["ops"]
    a, b = await buy(world, "A", {"TEA": 1}), await buy(world, "B", {"TEA": 1}, minute=3)

    read = (await gql(key, READ, {"id": gid("Order", a.id)}))["order"]
    assert [c["number"] for c in read["mergeCandidates"]] == [order_no(b.id)] and read["mergeKey"].startswith("shop ")
    merged = (await gql(key, MERGE, {"input": {"ids": [gid("Order", b.id), gid("Order", a.id)]}}))["mergeOrders"]
    assert merged["errors"] == [] and merged["order"]["mergedOrders"] == [{"number": order_no(b.id)}]
    member = (await gql(key, READ, {"id": gid("Order", b.id)}))["order"]
    assert member["mergedInto"] == {"number": order_no(a.id)} and member["lines"][0]["parcel"] == 1
    unmerged = (await gql(key, UNMERGE, {"input": {"id": gid("Order", b.id), "reason": "two parcels"}}))["unmergeOrder"]
    assert unmerged["errors"] == [] and unmerged["order"]["mergedInto"] is None

    held = await buy(world, "C", {"TEA": 1}, minute=4)
    await orders.hold_order(world.actor(), held.id, ["check"])
    refused = (await gql(key, MERGE, {"input": {"ids": [gid("Order", a.id), gid("Order", held.id)]}}))["mergeOrders"]
    assert refused["order"] is None
    assert refused["errors"] == [{"code": "CONFLICT", "field": "ids",
                                  "message": f"{order_no(held.id)} cannot be merged: it is on hold"}]

    # An order over two warehouses ships one warehouse at a time.
    order = await buy(world, "D", {"TEA": 2, "CUP": 1}, minute=30)
    tea, cup = await OrderLine.filter(order_id=order.id).order_by("id")
    split = (await gql(key, SPLIT, {"input": {"id": gid("Order", order.id), "parcels": [
        [{"lineId": gid("OrderLine", tea.id), "quantity": 1}],
        [{"lineId": gid("OrderLine", tea.id), "quantity": 1}, {"lineId": gid("OrderLine", cup.id), "quantity": 1}]]}}))["splitOrder"]
    assert split["errors"] == [] and sorted((l["sku"], l["quantity"], l["parcel"]) for l in split["order"]["lines"]) == [
        ("CUP", 1, 2), ("TEA", 1, 1), ("TEA", 1, 2)]
    bad = (await gql(key, SPLIT, {"input": {"id": gid("Order", order.id), "parcels": [
        [{"lineId": gid("OrderLine", tea.id), "quantity": 1}]]}}))["splitOrder"]
    assert bad["order"] == split["order"] and bad["errors"][0]["code"] == "VALIDATION" and bad["errors"][0]["field"] == "parcels"

    await fulfilment.allocate_order(world.actor(), order.id, wh(world, "SH").id)
    await allocate.move_line(world.actor(), cup.id, wh(world, "GZ").id, "ship the cup from Guangzhou")
    await pack(world, order.id)
    ship = {"id": gid("Order", order.id), "carrier": "SF", "trackingNo": "SF-GZ", "warehouseId": gid("Warehouse", wh(world, "GZ").id)}
    shipped = (await gql(key, SHIP, {"input": ship}))["shipOrder"]
    assert shipped["errors"] == [] and shipped["order"]["status"] == "PARTIALLY_SHIPPED"
    assert shipped["order"]["shipments"] == [{"trackingNo": "SF-GZ", "warehouse": {"code": "GZ"}}]
    again = (await gql(key, SHIP, {"input": {**ship, "trackingNo": "SF-GZ2"}}))["shipOrder"]
    assert again["order"] == shipped["order"] and again["errors"][0]["code"] == "CONFLICT"
    parcel_one = {**ship, "trackingNo": "SF-SH1", "warehouseId": gid("Warehouse", wh(world, "SH").id), "parcel": 1}
    assert (await gql(key, SHIP, {"input": parcel_one}))["shipOrder"]["order"]["status"] == "PARTIALLY_SHIPPED"
    last = (await gql(key, SHIP, {"input": {**ship, "trackingNo": "SF-SH2", "warehouseId": gid("Warehouse", wh(world, "SH").id)}}))
    assert last["shipOrder"]["order"]["status"] == "SHIPPED"
    assert len(last["shipOrder"]["order"]["shipments"]) == 3
    bad_parcel = (await gql(key, SHIP, {"input": {**ship, "parcel": 0}}))["shipOrder"]
    assert bad_parcel["errors"][0]["field"] == "parcel"
    await check_invariants(world.tenant.id)


# --- PostgreSQL: merging and allocating at once -------------------------------------------------


@pytest.mark.postgres_only
async def test_merges_racing_allocations_leave_whole_groups(world, db):
    """Merge (A, B) while A and B are allocated: either the group is reserved whole at one warehouse, or the merge is refused."""
    if not db.startswith("postgres"):
        pytest.skip("row locks only mean something on PostgreSQL")
    await place_warehouses(world)
    await stock_up(world, {"TEA": {"SH": 200}, "CUP": {"GZ": 200, "SH": 3}})
    ops = world.actor()
    pairs = [(await buy(world, f"A{n}", {"TEA": 1}, minute=n, buyer_phone=f"1370000{n:04d}"),
              await buy(world, f"B{n}", {"CUP": 1}, minute=n + 0.5, buyer_phone=f"1370000{n:04d}")) for n in range(15)]
    await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(f"{db}?minsize=1&maxsize=20"), _enable_global_fallback=True)

    async def quietly(coro) -> None:  # noqa: ANN001
        try:
            await coro
        except DomainError:
            pass  # refused: typed, and it changed nothing (checked below through the end state)

    tasks = []
    for a, b in pairs:
        tasks += [quietly(orders.merge_orders(ops, [a.id, b.id])), quietly(fulfilment.allocate_order(ops, a.id)),
                  quietly(fulfilment.allocate_order(ops, b.id))]
    await asyncio.gather(*tasks)  # a deadlock or any other error fails the test

    merged = 0
    for a, b in pairs:
        a, b = await fresh(a), await fresh(b)
        if b.merged_into_id == a.id:
            merged += 1
            assert a.status == b.status and a.warehouse_id == b.warehouse_id, (a.external_id, a.status, b.status)
            live = await Reservation.filter(order_id__in=[a.id, b.id], status="ACTIVE")
            assert len(live) in (0, 2) and len({r.warehouse_id for r in live}) <= 1
        else:
            assert b.merged_into_id is None and await OrderEvent.filter(order_id=b.id, type="order.merged").count() == 0
    assert 0 < merged, "some merge should win its race"
    await check_invariants(world.tenant.id)
