"""Demo data: a tea merchant on four channels with three warehouses and ~200 orders.

Everything goes through the ``domain/`` use cases, so the demo's lineage is
exactly what real traffic would leave behind.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain import orders
from domain.actor import Actor, Role
from domain.allocation import pick_queue
from domain.allocation import policy as allocation_policy
from domain.catalog import setup as catalog
from domain.orders import fulfilment
from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.stock import levels as stock
from domain.stock import returns
from domain.tenants.accounts import create_tenant
from models import OrderLine, Tenant

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
          ("江苏", "南京", "鼓楼区"), ("上海", "上海", "浦东新区"), ("湖北", "武汉", "洪山区"), ("天津", "天津", "和平区")]
CARRIERS = ["SF", "ZTO", "YTO", "JD"]

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


def _skus() -> list[tuple[str, str, str, Decimal]]:
    skus = [(f"TEA-{i:02d}{j}", f"{tea}·{grade}", "tea", price) for i, tea in enumerate(TEAS) for j, (grade, price) in enumerate(GRADES)]
    skus += [(f"WARE-{i:02d}", name, "teaware", price) for i, (name, price) in enumerate(WARES)]
    return skus


async def seed_demo(slug: str = "demo", order_count: int = 200, seed: int = 7) -> Tenant:
    """Create the demo tenant and its data (call once, on an empty tenant)."""
    rng = random.Random(seed)
    tenant = await create_tenant(slug, "清茗茶叶 Qingming Tea")
    ops = Actor(tenant_id=tenant.id, role=Role.OPS, name="demo-seed", source="seed")
    carrier = Actor(tenant_id=tenant.id, role=Role.SERVICE, name="kdniao", source="carrier")
    channels = [await catalog.create_channel(tenant.id, code, kind, name) for code, kind, name in CHANNELS]
    warehouses = [
        await catalog.create_warehouse(tenant.id, code, name, province=p, city=c, latitude=lat, longitude=lng, priority=prio)
        for code, name, p, c, lat, lng, prio in WAREHOUSES
    ]
    skus = _skus()
    for code, title, category, _ in skus:
        await catalog.upsert_sku(tenant.id, code, title, "bulky" if code in BULKY else category)
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
    await seed_tracking_showcase(tenant.id)
    customers = [
        NewCustomer(name=rng.choice(SURNAMES) + rng.choice(GIVEN), phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}")
        for _ in range(70)
    ]
    plan = [status for status, count in TARGETS for _ in range(count)]
    rng.shuffle(plan)
    start = datetime.now(UTC) - timedelta(days=30)
    for index, target in enumerate(plan[:order_count]):
        await _one_order(rng, ops, carrier, index, target, channels, warehouses, skus, customers, start)
    await _showcase(ops, channels[0], customers[0])
    return tenant


async def _showcase(ops: Actor, channel, customer: NewCustomer) -> None:  # noqa: ANN001 - a Channel row
    """Two orders an ops person will ask about: one split over warehouses, one waiting for stock."""
    for external_id, lines in (("DEMO-SPLIT", [("WARE-03", 1), ("TEA-011", 2)]), ("DEMO-BACKORDER", [("TEA-000", 40)])):
        await orders.create_order(
            ops,
            NewOrder(
                channel_id=channel.id,
                external_id=external_id,
                lines=[NewLine(sku=sku, quantity=quantity, unit_price=Decimal("100.00")) for sku, quantity in lines],
                customer=customer,
                address=NewAddress(name=customer.name, phone=customer.phone or "", province="广东", city="深圳", district="南山区", address="科技园路1号"),
                payment=NewPayment(gateway="alipay", amount=Decimal("100.00") * sum(q for _, q in lines)),
            ),
        )


async def _one_order(rng, ops, carrier, index, target, channels, warehouses, skus, customers, start) -> None:  # noqa: ANN001, PLR0913
    manual = next(c for c in channels if c.code == "wechat-mini")
    channel = manual if target == OrderStatus.PAID else rng.choice([c for c in channels if c is not manual])
    customer = rng.choice(customers)
    province, city, district = rng.choice(PLACES)
    picked = rng.sample(skus, rng.randint(1, 3))
    lines = [NewLine(sku=code, title=title, quantity=rng.randint(1, 3), unit_price=price) for code, title, _, price in picked]
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    placed = start + timedelta(minutes=index * 200 + rng.randint(0, 120))
    unpaid = target == OrderStatus.PENDING_PAYMENT or (target == OrderStatus.CANCELLED and rng.random() < 0.4)
    deposit = target == OrderStatus.DEPOSIT_PAID
    order = await orders.create_order(
        ops,
        NewOrder(
            channel_id=channel.id,
            external_id=str(rng.randint(10**17, 10**18 - 1)),
            lines=lines,
            customer=customer,
            address=NewAddress(name=customer.name, phone=customer.phone or "", province=province, city=city, district=district,
                               address=f"{rng.choice(['文三路', '科技园路', '建国路', '人民南路'])}{rng.randint(1, 999)}号"),
            payment=None if unpaid else NewPayment(gateway=rng.choice(["alipay", "wechatpay"]), amount=total / 5 if deposit else total,
                                                   reference=str(rng.randint(10**27, 10**28 - 1))),
            deposit=deposit,
            tags=rng.sample(["vip", "gift", "presale", "repeat", "promo-1111"], rng.randint(0, 2)),
            placed_at=placed,
        ),
    )
    if order.status in (OrderStatus.PAID, OrderStatus.ALLOCATED) and rng.random() < 0.3:
        tier, why = rng.choice(URGENT)
        await pick_queue.set_priority(ops, order.id, tier, why)
    path = _path_to(target)
    for step in path:
        if step == "hold":
            await orders.hold_order(ops, order.id, rng.sample(HOLD_REASONS, rng.randint(1, 2)))
        elif step == "cancel":
            await orders.cancel_order(ops, order.id, rng.choice(["buyer changed mind", "out of stock", "duplicate order"]))
        elif step == OrderStatus.ALLOCATED:
            if order.status == OrderStatus.PAID:  # the policy could not place it (stock short): a backorder with an alert
                return
        elif step == OrderStatus.SHIPPED:
            shipment = await fulfilment.ship_order(
                ops, order.id, rng.choice(CARRIERS), f"SF{rng.randint(10**11, 10**12 - 1)}",
                estimated_delivery=placed + timedelta(days=3),
            )
            await _track(rng, carrier, shipment.id, placed, target)
            if target == OrderStatus.COMPLETED and rng.random() < 0.3:
                line = await OrderLine.filter(order_id=order.id).first()
                await returns.return_to_quarantine(ops, line.id, 1, rng.choice(["buyer return: changed mind", "exchange: wrong grade"]))
        else:
            await orders.transition_order(ops, order.id, step)


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


async def _track(rng, carrier: Actor, shipment_id: int, placed: datetime, target: OrderStatus) -> None:  # noqa: ANN001
    steps = [(ShipmentStatus.PICKED_UP, "快件已揽收", 1), (ShipmentStatus.IN_TRANSIT, "到达转运中心", 2)]
    if target in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        steps += [(ShipmentStatus.OUT_FOR_DELIVERY, "派送中", 3), (ShipmentStatus.DELIVERED, "已签收", 3)]
    elif rng.random() < 0.3:
        steps = steps[:1] if rng.random() < 0.5 else []
    for offset, (status, text, days) in enumerate(steps):
        await fulfilment.record_tracking(
            carrier, shipment_id, status, placed + timedelta(days=days, hours=offset * 5), description=text, location=rng.choice(["杭州", "上海", "广州"])
        )


# The tracking page's showcase -----------------------------------------------------------

#: The customer the README screenshot and ``make run`` visitors look up: order number + last 4 "5678".
SHOWCASE_PHONE = "13812345678"
SHOWCASE_LOGO = "/track/-/static/qingming-logo.svg"
SHOWCASE_SKUS = [("GIFT-LJ01", "明前西湖龙井·特级 250g", Decimal("268.00")), ("GIFT-GW01", "青瓷盖碗", Decimal("129.00")),
                 ("GIFT-BH01", "白毫银针礼盒", Decimal("399.00")), ("GIFT-ZS01", "宜兴紫砂壶·石瓢", Decimal("520.00"))]


async def seed_tracking_showcase(tenant_id: int, *, now: datetime | None = None) -> dict[str, int]:
    """One customer with three orders on three channels: on the way, delivered (to confirm), being packed.

    Returns the order ids by state. Works on any tenant with at least one warehouse
    (adds the channels and SKUs it needs).
    """
    from domain.tenants.branding import set_branding
    from models import Channel, Order, Warehouse

    now = now or datetime.now(UTC)
    ops = Actor(tenant_id=tenant_id, role=Role.OPS, name="demo-seed", source="seed")
    carrier = Actor(tenant_id=tenant_id, role=Role.SERVICE, name="kdniao", source="carrier")
    tenant = await Tenant.get(id=tenant_id)
    if not tenant.logo_url:
        await set_branding(tenant_id, logo_url=SHOWCASE_LOGO, accent_color="#2f7d4f")
    channels = {}
    for code, kind, name in CHANNELS[:3]:
        channels[kind] = await Channel.filter(tenant_id=tenant_id, kind=kind).first() or await catalog.create_channel(tenant_id, code, kind, name)
    warehouse = await Warehouse.filter(tenant_id=tenant_id).order_by("priority", "id").first()
    for code, title, _ in SHOWCASE_SKUS:
        await catalog.upsert_sku(tenant_id, code, title, "tea")
        await stock.receive_stock(ops, warehouse.id, code, 50, reason="showcase stock")
    customer = NewCustomer(name="陈晓明", phone=SHOWCASE_PHONE)
    address = NewAddress(name="陈晓明", phone=SHOWCASE_PHONE, province="浙江", city="杭州", district="西湖区", address="文三路 478 号 华星科技大厦 5 楼")
    plans = [
        ("in_transit", "taobao", "3948571029384756102", [("GIFT-LJ01", 2), ("GIFT-GW01", 1)], now - timedelta(days=1, hours=3)),
        ("delivered", "douyin", "6934157720488215541", [("GIFT-BH01", 1)], now - timedelta(days=4)),
        ("packed", "wechat_channels", "WX20261102093311", [("GIFT-ZS01", 1)], now - timedelta(hours=5)),
    ]
    prices = {code: price for code, _, price in SHOWCASE_SKUS}
    titles = {code: title for code, title, _ in SHOWCASE_SKUS}
    ids: dict[str, int] = {}
    for state, kind, external_id, wanted, placed in plans:
        lines = [NewLine(sku=sku, title=titles[sku], quantity=q, unit_price=prices[sku]) for sku, q in wanted]
        total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
        order = await orders.create_order(ops, NewOrder(
            channel_id=channels[kind].id, external_id=external_id, lines=lines, customer=customer, address=address,
            payment=NewPayment(gateway="alipay", amount=total, paid_at=placed), placed_at=placed,
        ))
        if (await Order.get(id=order.id)).status == OrderStatus.PAID:
            await fulfilment.allocate_order(ops, order.id, warehouse.id)
        await orders.transition_order(ops, order.id, OrderStatus.PICKING)
        await orders.transition_order(ops, order.id, OrderStatus.PACKED)
        ids[state] = order.id
        if state == "packed":
            continue
        shipment = await fulfilment.ship_order(
            ops, order.id, "SF" if state == "in_transit" else "ZTO", "SF1428857306914" if state == "in_transit" else "78462201935577",
            estimated_delivery=now + timedelta(days=1) if state == "in_transit" else placed + timedelta(days=3),
        )
        scans = SHOWCASE_SCANS[state]
        for hours_ago, status, text, place in scans:
            at = now - timedelta(hours=hours_ago) if state == "in_transit" else placed + timedelta(hours=hours_ago)
            await fulfilment.record_tracking(carrier, shipment.id, status, at, description=text, location=place)
    return ids


SHOWCASE_SCANS = {
    "in_transit": [
        (22, ShipmentStatus.PICKED_UP, "顺丰速运 已收取快件", "上海"),
        (15, ShipmentStatus.IN_TRANSIT, "快件到达 【上海青浦集散中心】", "上海"),
        (9, ShipmentStatus.IN_TRANSIT, "快件已发车，正发往 【杭州转运中心】", "上海"),
        (3, ShipmentStatus.IN_TRANSIT, "快件到达 【杭州转运中心】", "杭州"),
    ],
    "delivered": [
        (6, ShipmentStatus.PICKED_UP, "中通快递 已揽收", "上海"),
        (20, ShipmentStatus.IN_TRANSIT, "快件已到达 杭州中转部", "杭州"),
        (50, ShipmentStatus.OUT_FOR_DELIVERY, "【杭州西湖区】快递员 王师傅 正在派件", "杭州"),
        (53, ShipmentStatus.DELIVERED, "已签收，签收人：本人", "杭州"),
    ],
}
