"""Every platform's order arrives whole: what the normalised ``InboundOrder`` carries is what OrderGraph keeps.

The orders are built here as the channel parsers hand them over (the
parsers are tested on their own, in ``tests/adapters``), and go in by both
writers: a webhook's (``apply_order``, one order per transaction) and a
file import's (``import_groups``, first-seen orders in bulk). Both must keep
the same things; most tests run each way, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from adapters.channels import generic
from domain.inbound import status_mapping
from domain.inbound.formats import ParsedGroup
from domain.inbound.normalized import (
    BUYER_CANCEL,
    BUYER_REFUND,
    InboundAddress,
    InboundLine,
    InboundOrder,
    InboundShipment,
    InboundTracking,
    InboundTrackingEvent,
    PayloadError,
    SealedContact,
)
from domain.intake import sources as intake_sources
from domain.intake.apply import Arrival, IntakeResult, apply_order, channel_actor
from domain.intake.bulk_import import import_groups, start_run
from domain.masking import phone_hash
from domain.statuses import OrderStatus, ShipmentStatus
from domain.tracking.carrier_pushes import TrackingOutcome, apply_tracking, carrier_actor
from models import (
    Alert,
    ChannelOrderState,
    Customer,
    ImportRowError,
    InboundPayload,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    QuarantinedPayload,
    SealedContact as SealedContactRow,
    Shipment,
    SkuAlias,
)
from tests.intake_support import SECRET, admin, deliver, standard_headers, taobao
from tests.statement_log import counted_statements

PLACED = datetime(2026, 11, 2, 2, 10, 0, tzinfo=UTC)
PAID_AT = datetime(2026, 11, 2, 2, 12, 31, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 2, 16, 5, tzinfo=UTC)
SHIPPED_AT = datetime(2026, 11, 3, 1, 0, 0, tzinfo=UTC)


def order(external_id: str = "4012345678901234567", **changes: object) -> InboundOrder:
    """A Taobao trade as the parser normalises it: paid, two lines, clear contact, every amount part stated."""
    base = InboundOrder(
        source="taobao",
        external_id=external_id,
        status_code="WAIT_SELLER_SEND_GOODS",
        lines=(InboundLine("TB-TEA-250", 2, Decimal("45.00"), "西湖龙井 250g", "4012345678901234568"),
               InboundLine("CUP-01", 1, Decimal("30.00"), "青瓷杯", "4012345678901234569")),
        currency="CNY",
        total_amount=Decimal("118.00"),
        paid_amount=Decimal("118.00"),
        updated_at=T0,
        placed_at=PLACED,
        customer_name="陈静",
        customer_phone="13912345678",
        address=InboundAddress(name="陈静", phone="13912345678", province="浙江省", city="杭州市", district="西湖区",
                               address="文三路 90 号 3 幢 501", postal_code="310012", country_code="cn",
                               company="杭州青山茶业有限公司"),
        payment_reference="2026110222001412345678901234",
        payment_gateway="alipay",
        customer_email="chen.jing@example.com",
        goods_total=Decimal("120.00"),
        discount_total=Decimal("10.00"),
        shipping_fee=Decimal("8.00"),
        tax_total=Decimal("0.00"),
        paid_at=PAID_AT,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pdd(external_id: str = "4012345678901234567", **changes: object) -> InboundOrder:
    """The same order as Pinduoduo states it: to ship, group concluded."""
    return order(external_id, source="pinduoduo", status_code="1", extra_codes={"confirm_status": "1"}, **changes)


SEALED = SealedContact(
    platform="pinduoduo",
    name_cipher="~AgAAAAHv9J0B5eXcCAAmXo6QZT2yPHXaPVYbt4Y6nLs=~AC0tQk5X~1~~",
    phone_cipher="~AgAAAAHv9J0BCfkxbQEpxWl7KJtDvI6Cg+nUzD7y9o4=~mHg3Qw==~1~~",
    address_cipher="~AgAAAAHv9J0BvmZ2dgD7cNNq0GC4oKm7bTZ2xv0lQ6Q=~Q8V2dA==~1~~",
    name_masked="陈*",
    phone_masked="139****5678",
    address_masked="文三路**号***",
)


@pytest.fixture(params=["webhook", "import"])
def via(request: pytest.FixtureRequest) -> str:
    return request.param


async def ingest(world, inbound: InboundOrder, via: str = "webhook") -> IntakeResult | None:
    """One order through the webhook writer or the file-import writer."""
    if via == "webhook":
        return await apply_order(channel_actor(world.tenant.id, world.channel.code), world.channel, inbound, Arrival())
    run, _ = await start_run(admin(world), world.channel, file_name=f"{inbound.external_id}.csv",
                             sha256=uuid.uuid4().hex * 2, fmt="csv", payload_id=None, total_rows=1)
    await import_groups(channel_actor(world.tenant.id, world.channel.code, f"import#{run.id}"), world.channel, run,
                        [ParsedGroup(first_row=2, last_row=2, inbound=inbound)])
    return None


async def _get(external_id: str = "4012345678901234567") -> Order:
    return await Order.get(external_id=external_id)


async def _open_alerts(order_id: int) -> dict[str, Alert]:
    return {alert.kind: alert for alert in await Alert.filter(order_id=order_id, cleared_at__isnull=True)}


# ------------------------------------------------------------------ amounts, address, lines


async def test_the_whole_order_is_kept(world, via):
    await SkuAlias.create(tenant_id=world.tenant.id, channel_id=world.channel.id, alias="TB-TEA-250", sku="TEA-250")
    await ingest(world, order(), via)
    stored = await _get()
    assert stored.status == OrderStatus.PAID
    assert (stored.total_amount, stored.goods_total, stored.discount_total, stored.shipping_fee, stored.tax_total) == (
        Decimal("118.00"), Decimal("120.00"), Decimal("10.00"), Decimal("8.00"), Decimal("0.00"))
    assert stored.paid_at == PAID_AT
    payment = await Payment.get(order_id=stored.id)
    assert (payment.amount, payment.paid_at, payment.reference) == (Decimal("118.00"), PAID_AT,
                                                                   "2026110222001412345678901234")
    assert (stored.ship_postal_code, stored.ship_country_code, stored.ship_company) == ("310012", "CN", "杭州青山茶业有限公司")
    assert (stored.ship_name, stored.ship_phone, stored.contact_masked) == ("陈静", "13912345678", {})
    customer = await Customer.get(id=stored.customer_id)  # type: ignore[attr-defined]
    assert (customer.phone, customer.email) == ("13912345678", "chen.jing@example.com")
    lines = [(l.sku, l.channel_sku, l.external_line_id) for l in await OrderLine.filter(order_id=stored.id).order_by("id")]
    # the channel's SKU is mapped onto the tenant's (stock and allocation use it), the channel's kept beside it
    assert lines == [("TEA-250", "TB-TEA-250", "4012345678901234568"), ("CUP-01", "", "4012345678901234569")]
    assert await _open_alerts(stored.id) == {}


async def test_amount_parts_are_kept_as_stated_and_never_corrected(world, via):
    note = "trade.payment: amount parts do not add up: goods 120.00 - discounts 10.00 + shipping 12.00 + tax 0.00 = 122.00"
    await ingest(world, order(shipping_fee=Decimal("12.00"), issues=(note,)), via)
    stored = await _get()
    assert (stored.total_amount, stored.shipping_fee) == (Decimal("118.00"), Decimal("12.00"))
    assert note in (await _open_alerts(stored.id))["intake.payload_issues"].message


async def test_a_paid_amount_below_the_total_is_flagged_unless_it_is_a_deposit(world):
    # total_amount is what the buyer pays: a subsidy is a discount, so "paid less than the total" needs a look
    await ingest(world, order("T-SHORT", paid_amount=Decimal("108.00")))
    short = await _get("T-SHORT")
    assert (await Payment.get(order_id=short.id)).amount == Decimal("108.00")
    assert "paid_amount 108.00 differs from total_amount 118.00" in (await _open_alerts(short.id))["intake.payload_issues"].message
    # a pre-sale deposit is paid below the total by design; the balance later brings the payment to the total
    deposit = order("T-DEPOSIT", status_code="WAIT_BUYER_PAY", extra_codes={"step_trade_status": "FRONT_PAID_FINAL_NOPAID"},
                    paid_amount=Decimal("20.00"), paid_at=None)
    await ingest(world, deposit)
    held = await _get("T-DEPOSIT")
    assert held.status == OrderStatus.DEPOSIT_PAID and await _open_alerts(held.id) == {}
    # issue 16: the deposit is a payment of its own (it had no payment row before the balance)
    assert [(p.kind, p.status, p.amount) for p in await Payment.filter(order_id=held.id)] == [
        ("deposit", "PAID", Decimal("20.00"))]
    final_paid_at = PAID_AT + timedelta(days=3)
    await ingest(world, dataclasses.replace(deposit, status_code="WAIT_SELLER_SEND_GOODS", paid_amount=Decimal("118.00"),
                                            extra_codes={"step_trade_status": "FRONT_PAID_FINAL_PAID"},
                                            paid_at=final_paid_at, updated_at=T0 + timedelta(days=3)))
    paid = await _get("T-DEPOSIT")
    assert paid.status == OrderStatus.PAID and paid.paid_at == final_paid_at
    # issue 16: deposit and balance are two payments (was one payment of 118.00), together the paid amount
    payments = [(p.kind, p.status, p.amount, p.paid_at) for p in await Payment.filter(order_id=paid.id).order_by("id")]
    assert payments == [("deposit", "PAID", Decimal("20.00"), None), ("balance", "PAID", Decimal("98.00"), final_paid_at)]
    assert await _open_alerts(paid.id) == {}


async def test_payment_time_is_the_channel_s_when_an_update_brings_it(world):
    await ingest(world, order(status_code="WAIT_BUYER_PAY", paid_amount=None, paid_at=None))
    pending = await _get()
    assert pending.paid_at is None and await Payment.filter(order_id=pending.id).count() == 0
    await ingest(world, order(updated_at=T0 + timedelta(minutes=5)))
    paid = await _get()
    payment = await Payment.get(order_id=paid.id)
    assert paid.status == OrderStatus.PAID and paid.paid_at == PAID_AT and payment.paid_at == PAID_AT


async def test_an_update_fills_in_what_the_first_delivery_did_not_state(world):
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", goods_total=None, discount_total=None,
                              shipping_fee=None, tax_total=None,
                              address=InboundAddress(name="陈静", phone="13912345678", province="浙江省", city="杭州市",
                                                     district="西湖区", address="文三路 90 号 3 幢 501")))
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", updated_at=T0 + timedelta(hours=1)))
    stored = await _get()
    assert stored.status == OrderStatus.SHIPPED
    assert (stored.goods_total, stored.shipping_fee, stored.ship_postal_code) == (Decimal("120.00"), Decimal("8.00"), "310012")
    # filling in what we did not have is not an address change after shipping
    assert "intake.address_changed_after_shipping" not in await _open_alerts(stored.id)
    assert (await OrderEvent.get(order_id=stored.id, type="order.amounts_reported")).after["goods_total"] == "120.00"


async def test_a_returning_buyer_s_email_fills_an_empty_one_and_never_replaces_one(world, via):
    existing = await Customer.create(tenant_id=world.tenant.id, name="陈静", phone="13912345678",
                                     phone_hash=phone_hash("13912345678"))
    await ingest(world, order("T-E1"), via)
    await existing.refresh_from_db()
    assert existing.email == "chen.jing@example.com" and (await _get("T-E1")).customer_id == existing.id  # type: ignore[attr-defined]
    await ingest(world, order("T-E2", customer_email="other@example.com"), via)
    await existing.refresh_from_db()
    assert existing.email == "chen.jing@example.com"


async def test_a_broken_email_is_not_stored_and_is_named(world, via):
    await ingest(world, order(customer_email="chen.jing at example"), via)
    stored = await _get()
    assert (await Customer.get(id=stored.customer_id)).email is None  # type: ignore[attr-defined]
    assert "customer_email 'chen.jing at example' is not an email address" in \
        (await _open_alerts(stored.id))["intake.payload_issues"].message


async def test_aliases_cost_no_extra_statement_on_the_webhook_path(world):
    await SkuAlias.create(tenant_id=world.tenant.id, channel_id=world.channel.id, alias="TB-TEA-250", sku="TEA-250")
    with counted_statements() as plain:
        await ingest(world, order("T-PLAIN", customer_phone="13900000001", lines=(InboundLine("CUP-01", 1, Decimal("118.00")),)))
    with counted_statements() as aliased:
        await ingest(world, order("T-ALIASED", customer_phone="13900000002", lines=(
            InboundLine("TB-TEA-250", 1, Decimal("40.00")), InboundLine("TB-TEA-250", 1, Decimal("40.00"), "", "b"),
            InboundLine("CUP-01", 1, Decimal("38.00")))))
    assert len(aliased) == len(plain), [sql for sql, _ in aliased]
    assert [l.sku for l in await OrderLine.filter(order__external_id="T-ALIASED").order_by("id")] == ["TEA-250", "TEA-250", "CUP-01"]


async def test_an_import_batch_reads_the_aliases_once(world):
    await SkuAlias.create(tenant_id=world.tenant.id, channel_id=world.channel.id, alias="TB-TEA-250", sku="TEA-250")
    run, _ = await start_run(admin(world), world.channel, file_name="batch.csv", sha256="b" * 64, fmt="csv",
                             payload_id=None, total_rows=20)
    groups = [ParsedGroup(first_row=n + 2, last_row=n + 2, inbound=order(f"T-B{n}")) for n in range(20)]
    with counted_statements() as statements:
        await import_groups(channel_actor(world.tenant.id, world.channel.code, "import"), world.channel, run, groups)
    assert sum('"sku_alias"' in sql for sql, _ in statements) == 1
    assert await OrderLine.filter(sku="TEA-250", channel_sku="TB-TEA-250").count() == 20


# ------------------------------------------------------------------ masked and sealed contacts


async def test_a_sealed_contact_is_kept_apart_and_never_shown_as_the_receiver(world, via):
    masked_address = InboundAddress(name="陈*", phone="139****5678", province="浙江省", city="杭州市", district="西湖区",
                                    address="文三路**号***")
    await ingest(world, pdd(address=masked_address, customer_name="陈*", customer_phone="139****5678", sealed=SEALED), via)
    stored = await _get()
    assert (stored.ship_name, stored.ship_phone, stored.ship_address) == ("", "", "")
    assert stored.ship_province == "浙江省" and stored.ship_district == "西湖区"
    assert stored.contact_masked == {"name": "陈*", "phone": "139****5678", "address": "文三路**号***"}
    sealed = await SealedContactRow.get(order_id=stored.id)
    assert (sealed.platform, sealed.phone_cipher) == ("pinduoduo", SEALED.phone_cipher)
    # masked values would merge strangers: no customer, none created
    assert stored.customer_id is None and await Customer.all().count() == 0  # type: ignore[attr-defined]
    lineage = " ".join(str(event.after) + event.reason for event in await OrderEvent.filter(order_id=stored.id))
    assert SEALED.phone_cipher not in lineage and "139****5678" not in lineage


async def test_ciphertext_left_in_the_address_is_sealed_not_stored_as_the_receiver(world, via):
    address = InboundAddress(name=SEALED.name_cipher, phone=SEALED.phone_cipher, province="广东省", city="深圳市",
                             district="南山区", address=SEALED.address_cipher)
    await ingest(world, pdd(address=address, customer_name=SEALED.name_cipher, customer_phone=SEALED.phone_cipher,
                            tags=("pii:ciphertext",)), via)
    stored = await _get()
    assert (stored.ship_name, stored.ship_phone, stored.ship_address, stored.contact_masked) == ("", "", "", {})
    sealed = await SealedContactRow.get(order_id=stored.id)
    assert (sealed.platform, sealed.name_cipher, sealed.address_cipher) == ("pinduoduo", SEALED.name_cipher,
                                                                           SEALED.address_cipher)
    assert stored.customer_id is None  # type: ignore[attr-defined]


async def test_a_changed_masked_address_before_shipping_follows_the_channel(world):
    where = InboundAddress(province="浙江省", city="杭州市", district="西湖区")
    await ingest(world, pdd(sealed=SEALED, address=where))
    moved = dataclasses.replace(SEALED, address_masked="学院路**号***", address_cipher="~AgAAAAHv9J0Bnew~x~1~~")
    await ingest(world, pdd(sealed=moved, address=where, updated_at=T0 + timedelta(hours=1)))
    stored = await _get()
    assert stored.contact_masked["address"] == "学院路**号***" and stored.ship_address == ""
    assert (await SealedContactRow.get(order_id=stored.id)).address_cipher == "~AgAAAAHv9J0Bnew~x~1~~"
    assert (await OrderEvent.get(order_id=stored.id, type="order.address_changed")).after == {"fields": ["contact_masked"]}


# ------------------------------------------------------------------ the channel's waybills


async def test_a_first_seen_shipped_order_has_its_waybill_as_a_shipment(world, via):
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", shipments=(
        InboundShipment(carrier="", carrier_name="顺丰速运", tracking_no="SF1400012345678", shipped_at=SHIPPED_AT),
        InboundShipment(carrier="", carrier_name="顺丰速运", tracking_no="SF1400012345678", shipped_at=SHIPPED_AT),
        InboundShipment(carrier="", carrier_name="西湖同城快送", tracking_no="XH-0098", shipped_at=SHIPPED_AT),
    )), via)
    stored = await _get()
    assert stored.status == OrderStatus.SHIPPED
    shipments = [(s.carrier, s.tracking_no, s.status, s.source, s.shipped_at)
                 for s in await Shipment.filter(order_id=stored.id).order_by("id")]
    assert shipments == [("SF", "SF1400012345678", "LABEL_CREATED", "channel", SHIPPED_AT),
                         ("西湖同城快送", "XH-0098", "LABEL_CREATED", "channel", SHIPPED_AT)]
    reported = await OrderEvent.filter(order_id=stored.id, type="shipment.reported_by_channel").order_by("id")
    assert [(e.after["carrier"], e.after["tracking_no"], e.after["carrier_name"]) for e in reported] == [
        ("SF", "SF1400012345678", "顺丰速运"), ("西湖同城快送", "XH-0098", "西湖同城快送")]


async def test_waybills_across_updates_are_added_once_and_a_carrier_push_finds_them(world):
    await ingest(world, order())
    first = InboundShipment(carrier="SF", carrier_name="顺丰速运", tracking_no="SF1400012345678", shipped_at=SHIPPED_AT)
    result = await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", shipments=(first,),
                                       updated_at=T0 + timedelta(days=1)))
    assert result is not None and result.outcome == "updated"
    stored = await _get()
    assert stored.status == OrderStatus.SHIPPED
    assert await Shipment.filter(order_id=stored.id).count() == 1
    second = InboundShipment(carrier="ZTO", carrier_name="中通快递", tracking_no="78412345678901", shipped_at=SHIPPED_AT)
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", shipments=(first, second),
                              updated_at=T0 + timedelta(days=1, hours=1)))
    again = await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", shipments=(second, first),
                                      updated_at=T0 + timedelta(days=1, hours=2)))
    assert again is not None and again.outcome == "unchanged"
    assert sorted(await Shipment.filter(order_id=stored.id).values_list("carrier", "tracking_no")) == [
        ("SF", "SF1400012345678"), ("ZTO", "78412345678901")]
    assert await OrderEvent.filter(order_id=stored.id, type="shipment.reported_by_channel").count() == 2
    # the carrier's push for the channel's waybill lands on that shipment
    scan = InboundTrackingEvent(status_code="", occurred_at=SHIPPED_AT + timedelta(hours=5), description="已揽收",
                                location="杭州")
    push = InboundTracking(provider="kdniao", carrier="SF", tracking_no="SF1400012345678", status_code="2",
                           events=(scan,), estimated_delivery=None)
    tracked = await apply_tracking(carrier_actor(world.tenant.id, "kdniao"), push)
    shipment = await Shipment.get(tracking_no="SF1400012345678")
    assert (tracked.outcome, tracked.shipment_id) == (TrackingOutcome.APPLIED, shipment.id)
    assert shipment.status == ShipmentStatus.IN_TRANSIT


async def test_the_channel_s_waybill_for_a_parcel_we_shipped_adds_nothing(world):
    await ingest(world, order())
    stored = await _get()
    await Shipment.create(order_id=stored.id, carrier="SF", tracking_no="SF1400012345678", status="LABEL_CREATED",
                          shipped_at=SHIPPED_AT)  # recorded by shipOrder with the normalised code
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", updated_at=T0 + timedelta(days=1), shipments=(
        InboundShipment(carrier="", carrier_name="顺丰速运", tracking_no="SF1400012345678"),)))
    assert await Shipment.filter(order_id=stored.id).count() == 1


# ------------------------------------------------------------------ buyer requests


async def test_a_buyer_s_cancel_request_holds_the_order_until_the_platform_settles_it(world, via):
    await ingest(world, order(buyer_requests=(BUYER_CANCEL,)), via)
    stored = await _get()
    assert stored.status == OrderStatus.ON_HOLD and stored.status_before_hold == OrderStatus.PAID
    assert stored.hold_reasons == ["buyer asked to cancel"]
    alert = (await _open_alerts(stored.id))["intake.buyer_request"]
    assert alert.severity == "warning" and alert.details["buyer_requests"] == ["cancel"]
    assert alert.details["status_code"] == "WAIT_SELLER_SEND_GOODS"
    # the buyer withdrew it: the hold and the alert go
    await ingest(world, order(updated_at=T0 + timedelta(hours=2)))
    released = await _get()
    assert released.status == OrderStatus.PAID and released.hold_reasons == []
    assert "intake.buyer_request" not in await _open_alerts(released.id)


async def test_a_refund_request_on_a_paid_order_then_the_channel_s_cancel(world):
    await ingest(world, order())
    await ingest(world, order(buyer_requests=(BUYER_REFUND, BUYER_CANCEL), updated_at=T0 + timedelta(hours=1)))
    held = await _get()
    assert held.status == OrderStatus.ON_HOLD
    assert sorted(held.hold_reasons) == ["buyer asked for a refund", "buyer asked to cancel"]
    assert await Alert.filter(order_id=held.id, kind="intake.buyer_request").count() == 1
    await ingest(world, order(status_code="TRADE_CLOSED", buyer_requests=(BUYER_CANCEL,),
                              updated_at=T0 + timedelta(hours=2)))
    closed = await _get()
    assert closed.status == OrderStatus.CANCELLED and closed.hold_reasons == []
    assert "intake.buyer_request" not in await _open_alerts(closed.id)


async def test_a_cancel_request_for_a_shipped_order_cannot_hold_it_and_says_to_intercept(world):
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", buyer_requests=(BUYER_CANCEL,), shipments=(
        InboundShipment(carrier="SF", tracking_no="SF1400012345678", shipped_at=SHIPPED_AT),)))
    stored = await _get()
    assert stored.status == OrderStatus.SHIPPED and stored.hold_reasons == []
    alert = (await _open_alerts(stored.id))["intake.buyer_request"]
    assert alert.severity == "critical" and "intercept" in alert.message


# ------------------------------------------------------------------ same-second updates


async def test_a_close_in_the_same_second_as_the_previous_update_is_applied(world):
    await ingest(world, order())
    closed = await ingest(world, order(status_code="TRADE_CLOSED"))  # the same `modified` second
    assert closed is not None and closed.outcome == "updated"
    stored = await _get()
    assert stored.status == OrderStatus.CANCELLED
    assert (await Payment.get(order_id=stored.id)).status == "REFUNDED"
    again = await ingest(world, order(status_code="TRADE_CLOSED"))  # an identical re-delivery
    assert again is not None and again.outcome == "duplicate"
    state = await ChannelOrderState.get(order_id=stored.id)
    assert state.status_code == "TRADE_CLOSED" and len(state.content_digest) == 64


async def test_a_same_second_update_that_would_go_backwards_is_a_recorded_conflict(world):
    await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS"))
    result = await ingest(world, order())  # "paid, to ship" with the same modified second
    assert result is not None and result.outcome == "conflict"
    stored = await _get()
    assert stored.status == OrderStatus.SHIPPED
    conflict = await OrderEvent.get(order_id=stored.id, type="intake.conflict")
    assert "back from SHIPPED to PAID" in conflict.reason and conflict.after["status_code"] == "WAIT_SELLER_SEND_GOODS"
    assert "intake.status_conflict" in await _open_alerts(stored.id)


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"goods_total": Decimal("120.005")}, "goods_total", "more than 2 decimal places"),
    ({"discount_total": Decimal("-10.00")}, "discount_total", "must not be negative"),
    ({"shipments": (InboundShipment(carrier="SF", tracking_no="SF" + "9" * 70),)}, "shipments[0].tracking_no",
     "longer than 64"),
    ({"shipments": (InboundShipment(carrier="SF", tracking_no=" "),)}, "shipments[0].tracking_no", "without a tracking"),
    ({"lines": (InboundLine("CUP-01", 1, Decimal("118.00"), "", "9" * 65),)}, "lines[0].external_line_id", "longer than 64"),
])
async def test_what_cannot_be_stored_exactly_is_refused_naming_the_field(world, changes, field, reason):
    with pytest.raises(PayloadError) as refused:
        await ingest(world, order(**changes))
    assert refused.value.field == field and reason in refused.value.reason
    assert await Order.all().count() == 0
    run, _ = await start_run(admin(world), world.channel, file_name="bad.csv", sha256="c" * 64, fmt="csv",
                             payload_id=None, total_rows=1)
    await import_groups(channel_actor(world.tenant.id, world.channel.code, "import"), world.channel, run,
                        [ParsedGroup(first_row=2, last_row=2, inbound=order(**changes))])
    error = await ImportRowError.get(run_id=run.id)
    assert (error.row, error.field) == (2, field) and reason in error.message
    assert await Order.all().count() == 0


async def test_a_refused_update_changes_nothing(world):
    await ingest(world, order())
    before = await _get()
    with pytest.raises(PayloadError):
        await ingest(world, order(status_code="WAIT_BUYER_CONFIRM_GOODS", updated_at=T0 + timedelta(hours=1),
                                  shipments=(InboundShipment(carrier="SF", tracking_no=""),)))
    after = await _get()
    assert (after.status, after.version, after.source_updated_at) == (before.status, before.version, before.source_updated_at)
    assert await Shipment.all().count() == 0


# ------------------------------------------------------------------ unknown channel


async def test_a_delivery_to_an_unknown_channel_is_404_and_stores_nothing(world, gql):
    body = taobao()
    response = await gql.http.post("/hooks/acme/no-such-shop", content=body, headers=standard_headers(body))
    assert response.status_code == 404
    assert response.json() == {"status": "refused", "error": "unknown_channel",
                               "reason": "no channel 'no-such-shop' is registered"}
    assert await InboundPayload.all().count() == 0 and await QuarantinedPayload.all().count() == 0


# ------------------------------------------------------------------ end to end, through a generic channel


MINI_MAPPING = {
    "source": "miniprogram", "external_id": "order.no", "status": "order.state", "currency": "'CNY'",
    "total_amount": "order.payFen", "paid_amount": "order.payFen", "paid_at": "order.paidAt",
    "goods_total": "order.goodsFen", "discount_total": "order.couponFen", "shipping_fee": "order.freightFen",
    "updated_at": "order.updatedAt", "placed_at": "order.createdAt",
    "lines": "order.items", "line.sku": "sku", "line.quantity": "qty", "line.unit_price": "priceFen",
    "line.external_line_id": "itemId",
    "customer_name": "order.buyer.name", "customer_phone": "order.buyer.mobile", "customer_email": "order.buyer.email",
    "address.name": "order.receiver.name", "address.phone": "order.receiver.mobile",
    "address.province": "order.receiver.province", "address.city": "order.receiver.city",
    "address.address": "order.receiver.detail", "address.postal_code": "order.receiver.zip",
    "shipments": "order.parcels", "shipment.tracking_no": "waybill", "shipment.carrier": "express",
    "shipment.shipped_at": "sentAt",
    "money_unit": "fen", "time_format": "china",
}


def mini_body(state: str, parcels: list[dict[str, str]]) -> bytes:
    return json.dumps({"event": "order.changed", "order": {
        "no": "MP20261102001", "state": state, "payFen": 24600, "goodsFen": 25800, "couponFen": 2000, "freightFen": 800,
        "createdAt": "2026-11-02 10:08:00", "paidAt": "2026-11-02 10:09:12", "updatedAt": "2026-11-02 15:00:00",
        "buyer": {"name": "周岚", "mobile": "13700001111", "email": "zhou.lan@example.cn"},
        "receiver": {"name": "周岚", "mobile": "13700001111", "province": "北京市", "city": "北京市",
                     "detail": "朝阳区工体北路 8 号", "zip": "100027"},
        "items": [{"itemId": "L1", "sku": "TEE-M", "qty": 2, "priceFen": 9900},
                  {"itemId": "L2", "sku": "CAP-1", "qty": 1, "priceFen": 6000}],
        "parcels": parcels,
    }}, ensure_ascii=False).encode()


async def test_a_generic_channel_order_arrives_whole_over_http(world, gql):
    await intake_sources.register_channel(admin(world), "mini", "generic", "mini-program", secret=SECRET,
                                          mapping=MINI_MAPPING, check=generic.check_mapping)
    await status_mapping.save(admin(world), "miniprogram", {"PAID": {"order": "PAID", "payment": "PAID"},
                                                            "SENT": {"order": "SHIPPED", "payment": "PAID"}})
    paid = await deliver(gql.http, "generic", "mini", mini_body("PAID", []))
    assert paid.status_code == 200 and paid.json()["status"] == "created", paid.text
    # the waybill is uploaded within the same second: a real change, applied
    parcel = {"waybill": "YT7712345678901", "express": "圆通速递", "sentAt": "2026-11-02 14:59:30"}
    sent = await deliver(gql.http, "generic", "mini", mini_body("SENT", [parcel]))
    assert sent.status_code == 200 and sent.json()["status"] == "updated", sent.text
    stored = await Order.get(external_id="MP20261102001")
    assert stored.status == OrderStatus.SHIPPED
    assert (stored.total_amount, stored.goods_total, stored.discount_total, stored.shipping_fee) == (
        Decimal("246.00"), Decimal("258.00"), Decimal("20.00"), Decimal("8.00"))
    assert stored.paid_at == datetime(2026, 11, 2, 2, 9, 12, tzinfo=UTC) and stored.ship_postal_code == "100027"
    assert (await Customer.get(id=stored.customer_id)).email == "zhou.lan@example.cn"  # type: ignore[attr-defined]
    assert [l.external_line_id for l in await OrderLine.filter(order_id=stored.id).order_by("id")] == ["L1", "L2"]
    shipment = await Shipment.get(order_id=stored.id)
    assert (shipment.carrier, shipment.tracking_no, shipment.source, shipment.shipped_at) == (
        "YTO", "YT7712345678901", "channel", datetime(2026, 11, 2, 6, 59, 30, tzinfo=UTC))
    again = await deliver(gql.http, "generic", "mini", mini_body("SENT", [parcel]))
    assert again.json()["status"] == "duplicate" and await Shipment.filter(order_id=stored.id).count() == 1
