"""Reference normalisation: the shapes channels, gateways and ERPs give one payment become one key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.orders.create import NewLine, NewOrder, NewPayment, create_order
from domain.payments.backfill import backfill_references
from domain.payments.references import canonical_gateway, normalize
from models import Payment

ALIPAY_TRADE_NO = "2026112222001412345678901234"
WECHAT_TRANSACTION_ID = "4200001234202611223456789012"


@pytest.mark.parametrize(("written", "gateway"), [
    (ALIPAY_TRADE_NO, "alipay"),  # the gateway's own trade_no
    ("TB:2026112222001412345678901234", "alipay"),  # the channel's prefix
    ("ALI-2026112222001412345678901234 ", "erp"),  # the ERP's, with a trailing blank
    ("ali-2026112222001412345678901234", "erp"),  # lower case
    (" 2026 1122 2200 1412 3456 7890 1234", "alipay"),  # grouped by a person
    ("ALIPAY2026112222001412345678901234", "channel"),  # glued on: the gateway's id shape follows
    ("ERP-ALI-2026112222001412345678901234", "erp"),  # stacked prefixes
    ("ＴＢ：２０２６１１２２２２００１４１２３４５６７８９０１２３４", "taobao"),  # full-width, as typed in Chinese
])
def test_every_shape_of_an_alipay_payment_is_one_key(written, gateway):
    assert normalize(written, gateway) == ALIPAY_TRADE_NO


@pytest.mark.parametrize(("written", "gateway"), [
    (WECHAT_TRANSACTION_ID, "wechatpay"),
    ("WX:4200001234202611223456789012", "wechat"),
    ("wx 4200-0012-3420-2611-2234-5678-9012", "erp"),
    ("WECHATPAY_4200001234202611223456789012", "wxpay"),
    ("wxpay4200001234202611223456789012", "channel"),
])
def test_every_shape_of_a_wechat_payment_is_one_key(written, gateway):
    assert normalize(written, gateway) == WECHAT_TRANSACTION_ID


@pytest.mark.parametrize(("written", "gateway", "key"), [
    ("OG000000042", "wechatpay", "OG000000042"),  # a merchant order number is not a prefix plus an id
    ("PAY20261122001", "alipay", "PAY20261122001"),  # glued prefix, but not the gateway's id shape: kept
    ("TB", "alipay", "TB"),  # a prefix alone is the reference
    ("nov-2026-001", "erp", "NOV2026001"),  # "NO" is a prefix only with a separator after it
    ("", "alipay", ""),
    ("x" * 80, "alipay", "X" * 64),  # the column's length
])
def test_what_is_not_a_prefix_stays(written, gateway, key):
    assert normalize(written, gateway) == key


def test_gateway_names_are_canonical():
    assert [canonical_gateway(name) for name in ("WeChat", "wxpay", "微信支付", "Alipay", "ZFB", "shopify")] == [
        "wechatpay", "wechatpay", "wechatpay", "alipay", "alipay", "shopify"]


def test_a_gateway_s_prefixes_do_not_apply_to_another_gateway_s_ids():
    # "WX-" names a WeChat payment: for an Alipay payment it is part of the merchant's own reference
    assert normalize("WX-123456", "alipay") == "WX123456"
    assert normalize("WX-123456", "wechatpay") == "123456"


async def test_payments_are_written_with_their_key_and_old_rows_are_backfilled(world):
    actor = world.actor()
    order = await create_order(actor, NewOrder(
        channel_id=world.channel.id, external_id="REF-1", lines=[NewLine("TEA", 1, Decimal("10.00"))],
        payment=NewPayment(gateway="alipay", amount=Decimal("10.00"), reference="TB:2026112222001412345678901234")))
    payment = await Payment.get(order_id=order.id)
    assert (payment.kind, payment.normalized_reference) == ("payment", ALIPAY_TRADE_NO)
    # a row from before the column (or before a rule change) is brought up to date, once
    await Payment.filter(id=payment.id).update(normalized_reference="")
    other = await create_order(actor, NewOrder(
        channel_id=world.channel.id, external_id="REF-2", lines=[NewLine("TEA", 1, Decimal("10.00"))],
        payment=NewPayment(gateway="erp", amount=Decimal("10.00"), reference="ALI-2026112222001412345678909999 ")))
    await Payment.filter(order_id=other.id).update(normalized_reference="stale")
    assert await backfill_references(batch=1) == 2
    assert (await Payment.get(id=payment.id)).normalized_reference == ALIPAY_TRADE_NO
    assert (await Payment.get(order_id=other.id)).normalized_reference == "2026112222001412345678909999"
    assert await backfill_references() == 0
