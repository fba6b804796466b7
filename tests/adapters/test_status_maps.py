"""Default mapping tables: vocabulary, the rules from channels.md, and 'unmapped means None'."""

from __future__ import annotations

import pytest
from adapters_samples import load

from adapters.channels import PARSERS, amazon
from domain.inbound import status_maps
from domain.statuses import AfterSaleStatus, OrderStatus, PaymentStatus, ShipmentStatus

ORDER_TABLES = [name for name, table in status_maps.TABLES.items() if "order" in next(iter(table.values()))]
SHIPMENT_TABLES = [name for name in status_maps.TABLES if name not in ORDER_TABLES]


@pytest.mark.parametrize("name", ORDER_TABLES)
def test_order_tables_use_the_design_vocabulary(name: str) -> None:
    for code, entry in status_maps.TABLES[name].items():
        assert set(entry) == {"order", "payment", "after_sale"}, (name, code)
        assert entry["order"] is None or entry["order"] in set(OrderStatus), (name, code)
        assert entry["payment"] is None or entry["payment"] in set(PaymentStatus), (name, code)
        assert entry["after_sale"] is None or entry["after_sale"] in set(AfterSaleStatus), (name, code)


@pytest.mark.parametrize("name", SHIPMENT_TABLES)
def test_shipment_tables_use_the_design_vocabulary(name: str) -> None:
    for code, entry in status_maps.TABLES[name].items():
        assert set(entry) == {"shipment"} and entry["shipment"] in set(ShipmentStatus), (name, code)


@pytest.mark.parametrize(
    ("source", "code"),
    [("taobao", "WAIT_BUYER_CONFIRM_GOODS"), ("pinduoduo", "2"), ("douyin", "3"), ("douyin.main_status", "3"),
     ("wechat_channels", "30"), ("amazon", "Shipped"), ("amazon", "InvoiceUnconfirmed"), ("shopify", "paid/fulfilled")],
)
def test_channel_shipped_means_waybill_uploaded_not_delivered(source: str, code: str) -> None:
    assert status_maps.lookup(source, code)["order"] == "SHIPPED"  # type: ignore[index]


def test_only_signed_receipts_mean_delivered_on_channels() -> None:
    delivered = {(name, code) for name in ORDER_TABLES for code, entry in status_maps.TABLES[name].items()
                 if entry["order"] == OrderStatus.DELIVERED}
    assert delivered == {("taobao", "TRADE_BUYER_SIGNED"), ("pinduoduo", "3")}


def test_taobao_hold_and_close_before_payment() -> None:
    assert status_maps.lookup("taobao", "PAID_FORBID_CONSIGN") == {"order": "ON_HOLD", "payment": "PAID",
                                                                   "after_sale": None}
    closed = status_maps.lookup("taobao", "TRADE_CLOSED_BY_TAOBAO")
    assert closed == {"order": "CANCELLED", "payment": None, "after_sale": None}
    assert status_maps.lookup("taobao", "TRADE_CLOSED")["payment"] == "REFUNDED"  # type: ignore[index]


@pytest.mark.parametrize(
    ("source", "code"),
    [("taobao", "WAIT_PRE_AUTH_CONFIRM"), ("taobao", "wait_seller_send_goods"), ("amazon", "Unfulfillable"),
     ("amazon", "Cancelled"), ("shopify", "paid/restocked"), ("shopify", "paid"), ("kdniao", "0"),
     ("kdniao", "499"), ("kuaidi100", "9"), ("aftership", "Pending"), ("douyin", "103"), ("nosuch", "1"),
     ("taobao.refund_status", "UNKNOWN")],
)
def test_unmapped_codes_return_none(source: str, code: str) -> None:
    assert status_maps.lookup(source, code) is None


@pytest.mark.parametrize(
    ("source", "codes", "expected"),
    [  # the unified shipment table of reference/channels.md, row by row
        ("kdniao", ["10"], "LABEL_CREATED"), ("kdniao", ["1"], "PICKED_UP"), ("kdniao", ["2", "201"], "IN_TRANSIT"),
        ("kdniao", ["202"], "OUT_FOR_DELIVERY"), ("kdniao", ["211"], "AT_PICKUP_POINT"),
        ("kdniao", ["3", "301", "302", "304", "311"], "DELIVERED"), ("kdniao", ["405"], "ATTEMPT_FAILED"),
        ("kdniao", ["4", "401", "402", "403", "412"], "EXCEPTION"), ("kdniao", ["406"], "RETURNED"),
        ("kdniao", ["407"], "RETURNING"),
        ("kuaidi100", ["101", "102"], "LABEL_CREATED"), ("kuaidi100", ["1", "103"], "PICKED_UP"),
        ("kuaidi100", ["0", "1001", "1002", "1003"], "IN_TRANSIT"), ("kuaidi100", ["8"], "CUSTOMS"),
        ("kuaidi100", ["5"], "OUT_FOR_DELIVERY"), ("kuaidi100", ["501"], "AT_PICKUP_POINT"),
        ("kuaidi100", ["3", "301", "302", "303", "304"], "DELIVERED"), ("kuaidi100", ["204", "206"], "ATTEMPT_FAILED"),
        ("kuaidi100", ["2", "201", "202", "205", "207", "208", "209"], "EXCEPTION"),
        ("kuaidi100", ["6", "14"], "RETURNING"), ("kuaidi100", ["4"], "RETURNED"),
        ("kuaidi100.push_status", ["abort"], "EXPIRED"),
        ("aftership", ["InfoReceived"], "LABEL_CREATED"), ("aftership", ["InTransit"], "IN_TRANSIT"),
        ("aftership", ["OutForDelivery"], "OUT_FOR_DELIVERY"), ("aftership", ["AvailableForPickup"], "AT_PICKUP_POINT"),
        ("aftership", ["Delivered"], "DELIVERED"), ("aftership", ["AttemptFail"], "ATTEMPT_FAILED"),
        ("aftership", ["Exception"], "EXCEPTION"), ("aftership", ["Expired"], "EXPIRED"),
        ("aftership.first_tag", ["InTransit"], "PICKED_UP"),
    ],
)
def test_carrier_rows_follow_the_reference_table(source: str, codes: list[str], expected: str) -> None:
    for code in codes:
        assert status_maps.lookup(source, code) == {"shipment": expected}, (source, code)


def test_shopify_combined_code_takes_fulfilment_over_payment() -> None:
    assert status_maps.lookup("shopify", "pending/unfulfilled") == {"order": "PENDING_PAYMENT", "payment": "PENDING",
                                                                    "after_sale": None}
    assert status_maps.lookup("shopify", "authorized/partial") == {"order": "PARTIALLY_SHIPPED",
                                                                   "payment": "AUTHORIZED", "after_sale": None}
    assert status_maps.lookup("shopify", "refunded/unfulfilled") == {"order": None, "payment": "REFUNDED",
                                                                     "after_sale": None}


def test_lookup_returns_a_copy_and_accepts_int_codes() -> None:
    found = status_maps.lookup("pinduoduo", 1)  # type: ignore[arg-type]
    assert found == {"order": "PAID", "payment": "PAID", "after_sale": None}
    found["order"] = "CANCELLED"  # type: ignore[index]
    assert status_maps.lookup("pinduoduo", "1")["order"] == "PAID"  # type: ignore[index]


def test_table_for_names_the_table_of_each_extra_code() -> None:
    assert status_maps.table_for("taobao") == "taobao"
    assert status_maps.table_for("taobao", "status@3612345678901234568") == "taobao"
    assert status_maps.table_for("taobao", "refund_status@3612345678901234569") == "taobao.refund_status"
    assert status_maps.table_for("douyin", "main_status") == "douyin.main_status"


def _sample_orders() -> list:
    samples = [("shopify", "shopify_order.json"), ("shopify", "shopify_order_fulfilled.json"),
               ("taobao", "taobao_trade.json"), ("taobao", "taobao_trade_shipped.json"),
               ("pinduoduo", "pinduoduo_order.json"), ("pinduoduo", "pinduoduo_order_shipped.json"),
               ("douyin", "douyin_order.json"), ("douyin", "douyin_order_shipped.json"),
               ("wechat_channels", "wechat_channels_order.json"),
               ("wechat_channels", "wechat_channels_order_shipped.json")]
    orders = [PARSERS[kind](load(name)) for kind, name in samples]
    for order_file, items_file in [("amazon_get_order.json", "amazon_get_order_items.json"),
                                   ("amazon_get_order_cancel_requested.json",
                                    "amazon_get_order_items_cancel_requested.json")]:
        orders.append(amazon.parse_order(amazon.combine(load(order_file), load(items_file))))
    return orders


@pytest.mark.parametrize(
    ("sample", "expected"),
    [("taobao_trade_shipped.json", "SHIPPED"), ("pinduoduo_order_shipped.json", "SHIPPED"),
     ("douyin_order_shipped.json", "SHIPPED"), ("wechat_channels_order_shipped.json", "SHIPPED"),
     ("shopify_order_fulfilled.json", "PARTIALLY_SHIPPED")],
)
def test_orders_that_arrive_with_waybills_map_to_shipped_states(sample: str, expected: str) -> None:
    kind = {"taobao": "taobao", "pinduoduo": "pinduoduo", "douyin": "douyin", "wechat": "wechat_channels",
            "shopify": "shopify"}[sample.split("_")[0]]
    order = PARSERS[kind](load(sample))
    assert order.shipments, sample
    entry = status_maps.lookup(status_maps.table_for(order.source), order.status_code)
    assert entry is not None and entry["order"] == expected


def test_every_sample_code_with_a_table_is_mapped() -> None:
    for order in _sample_orders():
        assert status_maps.lookup(status_maps.table_for(order.source), order.status_code) is not None, order.source
        for key, code in order.extra_codes.items():
            table = status_maps.table_for(order.source, key)
            if table in status_maps.TABLES:
                assert status_maps.lookup(table, code) is not None, (table, code)


def test_registry_names_the_six_channels() -> None:
    assert set(PARSERS) == {"shopify", "taobao", "pinduoduo", "douyin", "wechat_channels", "amazon"}
    assert {order.source for order in _sample_orders()} == set(PARSERS)
