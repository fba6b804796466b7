"""Demo data: a tea merchant on four channels with three warehouses and ~200 orders.

Everything goes through the ``domain/`` use cases, so the demo's lineage is
exactly what real traffic would leave behind. What a customer sees holds
together: an order's age fits its status (unpaid for hours, delivered days
ago, completed weeks ago), parcels go with a carrier's own waybill format and
travel from the shipping warehouse's city to the buyer's (``api.seed_parcels``),
every scan lies in the past, and a few parcels were handed over days ago but
never picked up (the "shipped but not moving" alert has something to show).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar

from tortoise import connections
from tortoise.transactions import in_transaction

from api import seed_parcels as parcels

from domain import orders
from domain.actor import Actor, Role
from domain.allocation import pick_queue
from domain.allocation import policy as allocation_policy
from domain.catalog import setup as catalog
from domain.catalog.channels import create_channel
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.stock import levels as stock
from domain.stock import reservations, returns
from domain.stock.reservations import ReservationKind
from domain.tenants.accounts import create_tenant
from domain.errors import Duplicate
from models import Channel, Order, OrderLine, Tenant, Warehouse
from console.accounts import create_user
from models import ConsoleUser

CHANNELS = [
    ("tmall-flagship", "taobao", "天猫旗舰店"),
    ("douyin-shop", "douyin", "抖音小店"),
    ("wechat-mini", "wechat_channels", "微信小程序"),
    ("shopify-intl", "shopify", "Shopify International"),
]
WAREHOUSES = [
    ("SH", "上海青浦仓", "上海", "上海", 31.15, 121.12, 10),
    ("GZ", "广州白云仓", "广东", "广州", 23.16, 113.27, 20),
    ("TJ", "天津武清仓", "天津", "天津", 39.38, 117.04, 30),
]
TEAS = ["西湖龙井", "碧螺春", "铁观音", "大红袍", "普洱熟茶", "白毫银针", "祁门红茶", "正山小种", "安吉白茶", "六安瓜片"]
GRADES = [("特级", Decimal("268.00")), ("一级", Decimal("158.00")), ("二级", Decimal("88.00")), ("礼盒", Decimal("399.00"))]
WARES = [("紫砂壶", Decimal("520.00")), ("盖碗", Decimal("129.00")), ("公道杯", Decimal("69.00")), ("茶盘", Decimal("359.00")), ("旅行茶具", Decimal("199.00")),
         ("玻璃杯", Decimal("45.00")), ("茶叶罐", Decimal("79.00")), ("茶针", Decimal("19.90")), ("茶巾", Decimal("15.00")), ("煮水壶", Decimal("289.00"))]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞", "平"]
PLACES = [("浙江", "杭州", "西湖区"), ("广东", "深圳", "南山区"), ("北京", "北京", "朝阳区"), ("四川", "成都", "武侯区"),
          ("江苏", "南京", "鼓楼区"), ("上海", "上海", "浦东新区"), ("湖北", "武汉", "洪山区"), ("天津", "天津", "和平区"),
          ("广东", "广州", "天河区")]

#: How many demo orders end in each status, and the path that leads there.
TARGETS = [
    (OrderStatus.PENDING_PAYMENT, 15), (OrderStatus.PAID, 30), (OrderStatus.ALLOCATED, 22), (OrderStatus.PICKING, 14),
    (OrderStatus.PACKED, 14), (OrderStatus.SHIPPED, 40), (OrderStatus.DELIVERED, 25), (OrderStatus.COMPLETED, 15),
    (OrderStatus.ON_HOLD, 10), (OrderStatus.CANCELLED, 15), (OrderStatus.DEPOSIT_PAID, 6),
]
#: Big, heavy items that always leave from Tianjin (a category exception in the allocation policy).
BULKY = {"WARE-03", "WARE-09"}
#: Allocation as data: regions first (with the bulky exception), nearest for everywhere else.
POLICY = {
    "strategy": "region",
    "fallback": "nearest",
    "allow_split": True,
    "auto_allocate": True,
    "presale_hold_hours": 240,
    "regions": [
        {"province": "广东", "warehouses": ["GZ", "SH"]},
        {"province": "上海", "warehouses": ["SH", "GZ"]},
        {"province": "浙江", "warehouses": ["SH", "GZ", "TJ"]},
        {"province": "江苏", "warehouses": ["SH", "TJ"]},
        {"province": "北京", "warehouses": ["TJ", "SH"]},
        {"province": "天津", "warehouses": ["TJ", "SH"]},
    ],
    "categories": {"bulky": ["TJ"]},
    "service_radius_km": 2500,
}
#: The international store ships by lowest total cost; the mini-program's orders wait for a person to allocate.
CHANNEL_POLICIES = {
    "shopify-intl": {
        "strategy": "cost",
        "allow_split": False,
        "categories": {"bulky": ["TJ"]},
        "cost": {"shipping_base": "12", "shipping_per_km": "0.006", "handling": {"*": "3", "TJ": "2"},
                 "lead_days": {"*": 0, "GZ": 1}, "delay_penalty_per_day": "9"},
    },
    "wechat-mini": {"strategy": "priority", "auto_allocate": False},
}
URGENT = [("URGENT_4H", "VIP asked for same-day dispatch"), ("URGENT_24H", "promised next-day in live stream"),
          ("OEM_DIRECT", "OEM partner direct shipment")]
HOLD_REASONS = ["address unverified", "suspected fraud", "customer asked to wait", "stock check"]
T = TypeVar("T")


def _skus() -> list[tuple[str, str, str, Decimal]]:
    skus = [(f"TEA-{i:02d}{j}", f"{tea}·{grade}", "tea", price) for i, tea in enumerate(TEAS) for j, (grade, price) in enumerate(GRADES)]
    skus += [(f"WARE-{i:02d}", name, "teaware", price) for i, (name, price) in enumerate(WARES)]
    return skus


#: The demo merchant's name, and how many demo orders each transaction writes.
DEMO_NAME = "清茗茶叶 Qingming Tea"
CHUNK = 20
#: Orders the seed writes apart from the bulk: the tracking showcase (first) and the ops showcase (last).
SHOWCASE_IDS = ("3948571029384756102", "6934157720488215541", "3716840295511027712")
OPS_SHOWCASE_IDS = ("DEMO-SPLIT", "DEMO-BACKORDER")


#: The demo's console sign-in (an admin, so every page of the console works); printed in the demo banner.
DEMO_OPERATOR = ("operator@qingming.demo", "qingming-demo-2026", "Demo Operator")


async def ensure_demo_operator(slug: str = "demo") -> tuple[str, str]:
    """The demo operator's console account (created once); its email and password."""
    email, password, name = DEMO_OPERATOR
    if not await ConsoleUser.exists(email=email):
        await create_user(slug, email, name, Role.ADMIN, password)
    return email, password


def work_slug(slug: str) -> str:
    """Where the demo is built until it is complete (no key and no URL points at it)."""
    return f"{slug[:54]}-seeding"


async def seed_demo(slug: str = "demo", order_count: int = 200, seed: int = 7, *, now: datetime | None = None) -> Tenant:
    """Create the demo tenant and its data; the tenant appears under ``slug`` only once complete.

    The demo is built under :func:`work_slug` in short transactions of
    ``CHUNK`` orders and renamed to ``slug`` in the last one, so nobody ever
    sees a half-seeded demo. If a run dies, the next run (``ordergraph
    seed``) finds the work tenant and completes it: every step is one
    transaction that either happened or not, and the orders are drawn from
    seeded random streams (one per order) with the clock fixed at the work
    tenant's creation, so a resumed demo is the demo an uninterrupted run
    makes. Short transactions matter on SQLite: each takes the write lock
    with its first statement and holds it well under a second, so a server on
    the same file (WAL, busy timeout) keeps taking writes in between.
    """
    tenant = await Tenant.filter(slug=work_slug(slug)).first()
    if tenant is None:
        created = await _step(lambda: create_tenant(work_slug(slug), DEMO_NAME))
        tenant = await Tenant.get(id=created.id)
    now = now or tenant.created_at
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="demo-seed", source="seed")
    carrier = Actor(tenant_id=tenant.id, role=Role.SERVICE, name="kdniao", source="carrier")
    if not await Warehouse.filter(tenant_id=tenant.id).exists():
        await _step(lambda: _set_up(ops, seed))
    if not await Order.filter(tenant_id=tenant.id, external_id=SHOWCASE_IDS[0]).exists():
        await _step(lambda: seed_tracking_showcase(tenant.id, now=now))
    customers, timings = _plan(seed, order_count, now)
    channels = list(await Channel.filter(tenant_id=tenant.id).order_by("id"))
    done = await Order.filter(tenant_id=tenant.id).exclude(external_id__in=SHOWCASE_IDS + OPS_SHOWCASE_IDS).count()
    for first in range(done, len(timings), CHUNK):
        await _step(lambda first=first: _orders(ops, carrier, seed, timings, first, channels, customers, now))
    await _step(lambda: _publish(ops, tenant.id, slug, channels, customers[0], now))
    return await Tenant.get(id=tenant.id)


#: The pause after each step on SQLite. A writer waiting for the lock polls about every 100 ms (SQLite's
#: busy handler), so a seed that began its next step at once would starve a server on the same file.
SQLITE_YIELD_SECONDS = 0.25


async def _step(work: Callable[[], Awaitable[T]]) -> T:
    """One step of the seed: one transaction, holding SQLite's write lock from its first statement."""
    async with in_transaction():
        await _take_write_lock()
        result = await work()
    if connections.get("default").capabilities.dialect == "sqlite":
        await asyncio.sleep(SQLITE_YIELD_SECONDS)
    return result


async def _take_write_lock() -> None:
    """SQLite upgrades a reading transaction to a writing one only if nobody wrote meanwhile: write first."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        await connection.execute_query('UPDATE "tenant" SET "id" = "id" WHERE 0')


async def _set_up(ops: Actor, seed: int) -> None:
    """Channels, warehouses, the catalogue with opening stock, allocation policies."""
    rng = random.Random(f"{seed}:setup")
    tenant_id = ops.tenant_id
    for code, kind, name in CHANNELS:
        await create_channel(tenant_id, code, kind, name)
    warehouses = [
        await catalog.create_warehouse(tenant_id, code, name, province=p, city=c, latitude=lat, longitude=lng, priority=prio)
        for code, name, p, c, lat, lng, prio in WAREHOUSES
    ]
    for code, title, category, _ in _skus():
        await catalog.upsert_sku(tenant_id, code, title, "bulky" if code in BULKY else category)
        for warehouse in warehouses:
            if code in BULKY and warehouse.code != "TJ":
                continue
            quantity = rng.randint(4, 12) if code == "TEA-000" else 0 if (code, warehouse.code) == ("TEA-011", "TJ") else rng.randint(20, 400)
            if quantity == 0:
                continue
            await stock.receive_stock(ops, warehouse.id, code, quantity, safety=rng.choice([5, 10, 20]), reason="opening stock")
    await stock.set_low_stock_factor(ops, "TEA-000", Decimal("1.5"))
    await allocation_policy.save_policy(ops, POLICY)
    for channel_code, config in CHANNEL_POLICIES.items():
        await allocation_policy.save_policy(ops, config, channel_code)


def _plan(seed: int, order_count: int, now: datetime) -> tuple[list[NewCustomer], list[_Timing]]:
    """The demo's customers and, oldest first (order numbers grow with time), when each bulk order happens."""
    rng = random.Random(seed)
    customers = [
        NewCustomer(name=rng.choice(SURNAMES) + rng.choice(GIVEN), phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}")
        for _ in range(70)
    ]
    targets = [status for status, count in TARGETS for _ in range(count)]
    rng.shuffle(targets)
    timings = sorted((_timing(rng, target, now) for target in targets[:order_count]), key=lambda t: t.placed)
    return customers, timings


async def _orders(ops: Actor, carrier: Actor, seed: int, timings: list[_Timing], first: int, channels: list[Channel],
                  customers: list[NewCustomer], now: datetime) -> None:
    """Bulk orders ``first`` to ``first + CHUNK``, each from its own random stream (so a resumed run draws the same)."""
    skus = _skus()
    for index in range(first, min(first + CHUNK, len(timings))):
        await _one_order(random.Random(f"{seed}:order:{index}"), ops, carrier, timings[index], channels, skus,
                         customers, now)


async def _publish(ops: Actor, tenant_id: int, slug: str, channels: list[Channel], customer: NewCustomer,
                   now: datetime) -> None:
    """The last step: the ops showcase, then the demo takes its name (refused if that name was taken meanwhile)."""
    await _showcase(ops, channels[0], customer, now)
    if await Tenant.exists(slug=slug):
        raise Duplicate(f"tenant {slug} exists; the demo stays under {work_slug(slug)}", field="slug")
    await Tenant.filter(id=tenant_id).update(slug=slug)


@dataclass(frozen=True, slots=True)
class _Timing:
    """When a demo order was placed and, if it ships, handed to the carrier (chosen before it exists)."""

    target: OrderStatus
    placed: datetime
    shipped: datetime | None = None
    moving: bool = True  # False: handed over but never picked up (the "shipped but not moving" alert)


#: Hours since placement, per status that never leaves the warehouse.
_AGE_HOURS = {
    OrderStatus.PENDING_PAYMENT: (0.1, 20), OrderStatus.PAID: (0.2, 30), OrderStatus.ALLOCATED: (0.3, 20),
    OrderStatus.PICKING: (1, 14), OrderStatus.PACKED: (2, 12), OrderStatus.ON_HOLD: (2, 96),
    OrderStatus.CANCELLED: (1, 24 * 25), OrderStatus.DEPOSIT_PAID: (24, 24 * 12),
}
#: Hand-over this many hours before now: long enough ago for the whole journey (at most four days) to be over.
_SHIPPED_HOURS = {OrderStatus.DELIVERED: (100, 190), OrderStatus.COMPLETED: (216, 660)}


def _timing(rng: random.Random, target: OrderStatus, now: datetime) -> _Timing:
    if target in _AGE_HOURS:
        low, high = _AGE_HOURS[target]
        return _Timing(target, now - timedelta(hours=rng.uniform(low, high)))
    moving = True
    if target == OrderStatus.SHIPPED:
        moving = rng.random() > 0.08
        ago = rng.uniform(1, 40) if moving else rng.uniform(30, 60)
    else:
        ago = rng.uniform(*_SHIPPED_HOURS[target])
    shipped = parcels.working_hours(now - timedelta(hours=ago), rng)
    placed = shipped - timedelta(hours=rng.uniform(2, 22))
    return _Timing(target, placed, shipped, moving)


async def _showcase(ops: Actor, channel, customer: NewCustomer, now: datetime) -> None:  # noqa: ANN001 - a Channel row
    """Two orders an ops person will ask about: one split over warehouses, one waiting for stock."""
    for hours_ago, external_id, lines in ((3, "DEMO-SPLIT", [("WARE-03", 1), ("TEA-011", 2)]),
                                          (2, "DEMO-BACKORDER", [("TEA-000", 40)])):
        placed = now - timedelta(hours=hours_ago)
        await orders.create_order(
            ops,
            NewOrder(
                channel_id=channel.id,
                external_id=external_id,
                lines=[NewLine(sku=sku, quantity=quantity, unit_price=Decimal("100.00")) for sku, quantity in lines],
                customer=customer,
                address=NewAddress(name=customer.name, phone=customer.phone or "", province="广东", city="深圳", district="南山区", address="科技园路1号"),
                payment=NewPayment(gateway="alipay", amount=Decimal("100.00") * sum(q for _, q in lines),
                                   paid_at=placed + timedelta(minutes=2)),
                placed_at=placed,
            ),
        )


async def _one_order(rng, ops, carrier, timing: _Timing, channels, skus, customers, now: datetime) -> None:  # noqa: ANN001, PLR0913
    target = timing.target
    manual = next(c for c in channels if c.code == "wechat-mini")
    channel = manual if target == OrderStatus.PAID else rng.choice([c for c in channels if c is not manual])
    customer = rng.choice(customers)
    province, city, district = rng.choice(PLACES)
    picked = rng.sample(skus, rng.randint(1, 3))
    lines = [NewLine(sku=code, title=title, quantity=rng.randint(1, 3), unit_price=price) for code, title, _, price in picked]
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    unpaid = target == OrderStatus.PENDING_PAYMENT or (target == OrderStatus.CANCELLED and rng.random() < 0.4)
    deposit = target == OrderStatus.DEPOSIT_PAID
    paid = (total / 5).quantize(Decimal("0.01")) if deposit else total
    order = await orders.create_order(
        ops,
        NewOrder(
            channel_id=channel.id,
            external_id=str(rng.randint(10**17, 10**18 - 1)),
            lines=lines,
            customer=customer,
            address=NewAddress(name=customer.name, phone=customer.phone or "", province=province, city=city, district=district,
                               address=f"{rng.choice(['文三路', '科技园路', '建国路', '人民南路'])}{rng.randint(1, 999)}号"),
            payment=None if unpaid else NewPayment(gateway=rng.choice(["alipay", "wechatpay"]), amount=paid,
                                                   reference=str(rng.randint(10**27, 10**28 - 1)),
                                                   paid_at=timing.placed + timedelta(minutes=rng.randint(1, 15))),
            deposit=deposit,
            tags=rng.sample(["vip", "gift", "presale", "repeat", "promo-1111"], rng.randint(0, 2)),
            placed_at=timing.placed,
        ),
    )
    if order.status in (OrderStatus.PAID, OrderStatus.ALLOCATED) and target not in _SHIPS and rng.random() < 0.3:
        tier, why = rng.choice(URGENT)
        await pick_queue.set_priority(ops, order.id, tier, why)
    for step in _path_to(target):
        if step == "hold":
            await orders.hold_order(ops, order.id, rng.sample(HOLD_REASONS, rng.randint(1, 2)))
        elif step == "cancel":
            await orders.cancel_order(ops, order.id, rng.choice(["buyer changed mind", "out of stock", "duplicate order"]))
        elif step == OrderStatus.ALLOCATED:
            if order.status == OrderStatus.PAID:  # the policy could not place it (stock short): a backorder with an alert
                return
        elif step == OrderStatus.SHIPPED:
            await _ship(rng, ops, carrier, order, timing, city, district, now)
            if target == OrderStatus.COMPLETED and rng.random() < 0.3:
                line = await OrderLine.filter(order_id=order.id).first()
                await returns.return_to_quarantine(ops, line.id, 1, rng.choice(["buyer return: changed mind", "exchange: wrong grade"]))
        else:
            await orders.transition_order(ops, order.id, step)


_SHIPS = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED})
#: Carriers the demo merchant uses, and how often (normalised codes, as shipments store them).
CARRIER_MIX = (("SF", 30), ("ZTO", 25), ("YTO", 18), ("JD", 10), ("JT", 10), ("EMS", 7))


async def _ship(rng, ops: Actor, carrier: Actor, order, timing: _Timing, city: str, district: str,  # noqa: ANN001, PLR0913
                now: datetime) -> None:
    """Hand the order over (one parcel per warehouse it was allocated from), then record the scans that happened by now."""
    assert timing.shipped is not None
    code = rng.choices([c for c, _ in CARRIER_MIX], weights=[w for _, w in CARRIER_MIX])[0]
    by_id = {w.id: w for w in await Warehouse.filter(tenant_id=ops.tenant_id)}
    live = await reservations.live_for_order(order.id)
    leaving = sorted({r.warehouse_id for r in live if r.kind == ReservationKind.ORDER})  # type: ignore[attr-defined]
    shipped_at = timing.shipped
    planned = []
    for warehouse_id in leaving:
        origin = by_id[warehouse_id].city
        parcel = parcels.plan_parcel(rng, parcels.CARRIERS[code], origin, city, district, shipped_at)
        if timing.target == OrderStatus.SHIPPED and timing.moving and parcel.scans[-1].at < now:
            # Still on its way by now: handed over recently enough that it cannot have been signed for yet.
            shipped_at = max(parcels.working_hours(now - timedelta(hours=rng.uniform(0.5, 6)), rng),
                             timing.placed + timedelta(minutes=30))
            parcel = parcels.plan_parcel(rng, parcels.CARRIERS[code], origin, city, district, shipped_at)
        if timing.target != OrderStatus.SHIPPED and parcel.scans[-1].at >= now:
            raise RuntimeError(f"a demo parcel for a {timing.target} order would be signed for in the future")
        shipment = await fulfilment.ship_order(ops, order.id, parcel.carrier, parcel.waybill, warehouse_id=warehouse_id,
                                               estimated_delivery=parcel.estimated_delivery, shipped_at=shipped_at)
        planned.append((shipment.id, parcel))
    scans = []
    for shipment_id, parcel in planned:
        happened = [scan for scan in parcel.scans if scan.at < now] if timing.moving else []
        if timing.target == OrderStatus.SHIPPED:
            happened = [scan for scan in happened if scan.status != ShipmentStatus.DELIVERED]
        scans += [(scan.at, shipment_id, scan) for scan in happened]
    for _, shipment_id, scan in sorted(scans, key=lambda item: (item[0], item[1])):
        await fulfilment.record_tracking(carrier, shipment_id, scan.status, scan.at, description=scan.description,
                                         location=scan.location, raw_code=scan.raw_code)


def _path_to(target: OrderStatus) -> list:
    full = [OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.SHIPPED]
    return {
        OrderStatus.PENDING_PAYMENT: [],
        OrderStatus.PAID: [],
        OrderStatus.ALLOCATED: full[:1],
        OrderStatus.PICKING: full[:2],
        OrderStatus.PACKED: full[:3],
        OrderStatus.SHIPPED: full,
        OrderStatus.DELIVERED: full,
        OrderStatus.COMPLETED: [*full, OrderStatus.COMPLETED],
        OrderStatus.ON_HOLD: [OrderStatus.ALLOCATED, "hold"],
        OrderStatus.CANCELLED: ["cancel"],
        OrderStatus.DEPOSIT_PAID: [],
    }[target]


# The tracking page's showcase -----------------------------------------------------------

#: The customer the README screenshot and ``make run`` visitors look up: order number + last 4 "5678".
SHOWCASE_PHONE = "13812345678"
SHOWCASE_LOGO = "/track/-/static/qingming-logo.svg"
SHOWCASE_CONTACT = "https://qingming-tea.example.com/service"
SHOWCASE_SKUS = [("GIFT-LJ01", "明前西湖龙井·特级 250g", Decimal("268.00")), ("GIFT-GW01", "青瓷盖碗", Decimal("129.00")),
                 ("GIFT-BH01", "白毫银针礼盒", Decimal("399.00")), ("GIFT-ZS01", "宜兴紫砂壶·石瓢", Decimal("520.00"))]


async def seed_tracking_showcase(tenant_id: int, *, now: datetime | None = None) -> dict[str, int]:
    """One customer with three orders on three channels: on the way, delivered (to confirm), being packed.

    Returns the order ids by state. Works on any tenant with at least one warehouse
    (adds the channels and SKUs it needs).
    """
    from domain.tenants.branding import set_branding

    now = now or datetime.now(UTC)
    ops = Actor(tenant_id=tenant_id, role=Role.OPS, name="demo-seed", source="seed")
    carrier = Actor(tenant_id=tenant_id, role=Role.SERVICE, name="kdniao", source="carrier")
    tenant = await Tenant.get(id=tenant_id)
    if not tenant.logo_url:
        await set_branding(tenant_id, logo_url=SHOWCASE_LOGO, accent_color="#2f7d4f", contact_url=SHOWCASE_CONTACT)
    channels = {}
    for code, kind, name in CHANNELS[:3]:
        channels[kind] = await Channel.filter(tenant_id=tenant_id, kind=kind).first() or await create_channel(tenant_id, code, kind, name)
    warehouse = await Warehouse.filter(tenant_id=tenant_id).order_by("priority", "id").first()
    for code, title, _ in SHOWCASE_SKUS:
        await catalog.upsert_sku(tenant_id, code, title, "tea")
        await stock.receive_stock(ops, warehouse.id, code, 50, reason="showcase stock")
    customer = NewCustomer(name="陈晓明", phone=SHOWCASE_PHONE)
    address = NewAddress(name="陈晓明", phone=SHOWCASE_PHONE, province="浙江", city="杭州", district="西湖区", address="文三路 478 号 华星科技大厦 5 楼")
    plans = [
        ("in_transit", "taobao", "3948571029384756102", [("GIFT-LJ01", 2), ("GIFT-GW01", 1)], now - timedelta(days=1, hours=3)),
        ("delivered", "douyin", "6934157720488215541", [("GIFT-BH01", 1)], _china_time(now, -4, 10, 12)),
        ("packed", "wechat_channels", "3716840295511027712", [("GIFT-ZS01", 1)], now - timedelta(hours=5)),
    ]
    prices = {code: price for code, _, price in SHOWCASE_SKUS}
    titles = {code: title for code, title, _ in SHOWCASE_SKUS}
    ids: dict[str, int] = {}
    for state, kind, external_id, wanted, placed in plans:
        lines = [NewLine(sku=sku, title=titles[sku], quantity=q, unit_price=prices[sku]) for sku, q in wanted]
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
        order = await orders.create_order(ops, NewOrder(
            channel_id=channels[kind].id, external_id=external_id, lines=lines, customer=customer, address=address,
            payment=NewPayment(gateway="alipay", amount=total, paid_at=placed + timedelta(minutes=1)), placed_at=placed,
        ))
        if (await Order.get(id=order.id)).status == OrderStatus.PAID:
            await fulfilment.allocate_order(ops, order.id, warehouse.id)
        await orders.transition_order(ops, order.id, OrderStatus.PICKING)
        await orders.transition_order(ops, order.id, OrderStatus.PACKED)
        ids[state] = order.id
        if state == "packed":
            continue
        carrier_code, waybill, shipped_at, estimated, scans = _showcase_parcel(state, warehouse.city or "上海", placed, now)
        shipment = await fulfilment.ship_order(ops, order.id, carrier_code, waybill, estimated_delivery=estimated,
                                               shipped_at=shipped_at)
        for at, status, raw_code, text, place in scans:
            await fulfilment.record_tracking(carrier, shipment.id, status, at, description=text, location=place,
                                             raw_code=raw_code)
    return ids


def _china_time(now: datetime, days: int, hour: int, minute: int) -> datetime:
    """``hour:minute`` China time, ``days`` from today's date in China."""
    day = now.astimezone(parcels.CHINA).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=parcels.CHINA).astimezone(UTC)


def _hub(city: str, suffix: str) -> str:
    return (parcels.CITIES[city][2] if city in parcels.CITIES else city) + suffix


def _showcase_parcel(state: str, origin: str, placed: datetime, now: datetime) -> tuple[str, str, datetime, datetime, list]:
    """The two showcase parcels, from the warehouse's city to Hangzhou.

    On its way: scans hours before ``now`` (it reached Hangzhou three hours ago,
    delivery is promised for tomorrow). Delivered: placed four days ago, signed
    for in Hangzhou on the morning round two days ago, in China working hours.
    """
    S = ShipmentStatus
    if state == "in_transit":
        scans = [
            (now - timedelta(hours=22), S.PICKED_UP, "1", "顺丰速运 已收取快件", origin),
            (now - timedelta(hours=15), S.IN_TRANSIT, "2", f"快件到达 【{_hub(origin, '集散中心')}】", origin),
            (now - timedelta(hours=9), S.IN_TRANSIT, "2", "快件已发车，正发往 【杭州转运中心】", origin),
            (now - timedelta(hours=3), S.IN_TRANSIT, "201", "快件到达 【杭州转运中心】", "杭州"),
        ]
        return "SF", "SF1428857306914", now - timedelta(hours=23, minutes=30), now + timedelta(days=1), scans
    day = placed.astimezone(parcels.CHINA).date()

    def local(days: int, hour: int, minute: int) -> datetime:
        return datetime.combine(day + timedelta(days=days), time(hour, minute), tzinfo=parcels.CHINA).astimezone(UTC)

    hub, destination_hub = _hub(origin, "中转部"), _hub("杭州", "中转部")
    scans = [
        (local(0, 17, 40), S.PICKED_UP, "1", f"【{origin}】中通快递 已揽收", origin),
        (local(0, 20, 5), S.IN_TRANSIT, "2", f"快件已到达 【{hub}】", origin),
        (local(0, 23, 30), S.IN_TRANSIT, "2", f"快件离开 【{hub}】 已发往 【{destination_hub}】", origin),
        (local(1, 5, 50), S.IN_TRANSIT, "201", f"快件已到达 【{destination_hub}】", "杭州"),
        (local(2, 8, 40), S.OUT_FOR_DELIVERY, "202", "【杭州西湖区】快递员 王师傅 正在派件", "杭州"),
        (local(2, 11, 5), S.DELIVERED, "301", "已签收，签收人：本人，感谢使用中通快递", "杭州"),
    ]
    return "ZTO", "78462201935577", local(0, 15, 30), local(2, 20, 0), scans
