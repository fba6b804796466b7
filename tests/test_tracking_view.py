"""The customer read model and its edges: masking, stages and alerts, words and times, colours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import orders
from domain.actor import Role
from domain.errors import ValidationFailed
from domain.orders import fulfilment
from domain.statuses import OrderStatus, ShipmentStatus
from domain.tenants.branding import (
    accent_palette,
    contrast,
    safe_logo_url,
    set_branding,
)
from domain.tracking.customer_view import (
    Scope,
    mask_contact,
    mask_recipient,
    orders_for,
    region_of,
)
from models import Shipment
from public_tracking.i18n import (
    carrier_name,
    fmt_day,
    fmt_money,
    fmt_time,
    from_accept_language,
)
from tests.helpers import paid_order, stock_up
from tests.tracking_support import NOW, PHONE, showcase  # noqa: F401 - fixtures


def test_masking_rules():
    assert mask_recipient("张三丰") == "张*" and mask_recipient("李") == "李*" and mask_recipient("  ") == ""
    assert mask_contact("13812341234") == "138****1234"
    assert mask_contact("+86 138-1234-1234") == "138****1234"
    assert region_of("上海", "上海", "浦东新区") == "上海 浦东新区"
    assert region_of("浙江", "杭州", "西湖区") == "浙江 杭州 西湖区"


def test_language_from_the_browser():
    assert from_accept_language("en-US,en;q=0.9") == "en"
    assert from_accept_language("zh-TW,zh;q=0.9,en;q=0.8") == "zh"
    assert from_accept_language("fr-FR,en;q=0.5,zh;q=0.4") == "en"
    assert from_accept_language("de-DE,fr;q=0.8") == "zh"
    assert from_accept_language("en;q=0.2,zh;q=0.9") == "zh"
    assert from_accept_language("") == "zh"


def test_local_times_are_shanghai_times():
    moment = datetime(2025, 3, 4, 23, 30, tzinfo=UTC)  # 07:30 on the 5th in Shanghai
    assert fmt_time(moment, "zh", now=datetime(2026, 1, 1, tzinfo=UTC)) == "2025年3月5日 07:30"
    assert fmt_time(moment, "en", now=datetime(2026, 1, 1, tzinfo=UTC)) == "5 Mar 2025 07:30"
    assert fmt_time(moment, "zh", now=moment + timedelta(hours=2)) == "今天 07:30"
    assert fmt_day(moment, "en", now=moment - timedelta(days=1)) == "Tomorrow"
    assert fmt_day(moment, "zh", now=datetime(2025, 1, 1, tzinfo=UTC)) == "3月5日 周三"
    assert fmt_money(__import__("decimal").Decimal("1234.5"), "CNY") == "¥1,234.50"
    assert carrier_name("sf", "en") == "SF Express" and carrier_name("XYZ", "zh") == "XYZ"


def test_every_accent_gets_readable_companions():
    for colour in ("#e4393c", "#ffd400", "#2a9d8f", "#ffffff", "#000000", "#1e3a8a", "#f0f", "nonsense", None):
        palette = accent_palette(colour)
        assert contrast(palette.solid, palette.on_solid) >= 4.5, colour
        assert contrast(palette.ink, "#ffffff") >= 4.5, colour


def test_logo_urls_that_could_break_out_are_dropped():
    assert safe_logo_url("https://cdn.example.com/a.png") == "https://cdn.example.com/a.png"
    assert safe_logo_url("/track/-/static/qingming-logo.svg")
    for bad in ("javascript:alert(1)", 'https://x/"onerror="x', "http://plain.example/a.png", "//evil/a.png", "data:image/svg+xml,<svg>"):
        assert safe_logo_url(bad) is None


async def test_branding_is_validated(world):
    with pytest.raises(ValidationFailed):
        await set_branding(world.tenant.id, accent_color="red;}body{display:none")
    with pytest.raises(ValidationFailed):
        await set_branding(world.tenant.id, logo_url="javascript:alert(1)")
    tenant = await set_branding(world.tenant.id, accent_color="#0A7", logo_url="https://cdn.example.com/l.png")
    assert tenant.accent_color == "#0a7"


async def test_stages_and_alerts(world, showcase):
    scope = Scope(world.tenant.id, order_ids=frozenset(showcase.ids.values()))
    views = {v.id: v for v in await orders_for(scope)}
    moving, arrived, packed = (views[showcase.ids[s]] for s in ("in_transit", "delivered", "packed"))
    # still on its way: receipt cannot be confirmed until the parcel is out for delivery (issue 16)
    assert (moving.stage, moving.alert, moving.can_confirm, moving.can_rate) == (3, None, False, False)
    assert (arrived.stage, arrived.can_confirm, arrived.can_rate) == (5, True, True)
    assert (packed.stage, packed.can_confirm, packed.parcels) == (1, False, [])
    assert moving.eta == NOW + timedelta(days=1) and arrived.eta is None
    assert moving.steps[0].key == "carrier.IN_TRANSIT" and moving.steps[-1].key == "placed"
    assert [s.key for s in moving.steps].count("handed_over") == 1
    handed = next(s for s in moving.steps if s.key == "handed_over")
    first_scan = min(s.at for s in moving.steps if s.key.startswith("carrier."))
    assert handed.at <= first_scan  # never shown after the carrier already had it
    assert all(s.at <= handed.at for s in moving.steps if s.key in ("allocated", "picking", "packed"))

    carrier = world.actor(Role.SERVICE, source="carrier")
    shipment = await Shipment.get(order_id=showcase.ids["in_transit"])
    await fulfilment.record_tracking(carrier, shipment.id, ShipmentStatus.EXCEPTION, datetime.now(UTC), description="地址不详")
    moving = (await orders_for(scope, only=showcase.ids["in_transit"]))[0]
    assert moving.alert == "trouble" and moving.steps[0].trouble

    ops = world.actor()
    held = await paid_order(ops, world.channel.id, "H-1", phone=PHONE)
    await stock_up(ops, [world.warehouses[0].id])
    await fulfilment.allocate_order(ops, held.id, world.warehouses[0].id)
    await orders.hold_order(ops, held.id, ["address unverified"])
    view = (await orders_for(Scope(world.tenant.id, order_ids=frozenset({held.id}))))[0]
    assert (view.stage, view.alert) == (1, "on_hold")
    await orders.release_hold(ops, held.id)
    view = (await orders_for(Scope(world.tenant.id, order_ids=frozenset({held.id}))))[0]
    assert view.alert is None and view.steps[0].key == "resumed"
    assert view.status == OrderStatus.ALLOCATED
