"""The format traps: exact money, foreign clocks, big ids, string booleans, form bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest
from adapters_samples import utc

from adapters import wire
from adapters.reader import Reader
from domain.inbound.normalized import PayloadError


def test_load_json_keeps_big_ids_and_decimals_exact() -> None:
    data = wire.load_json(b'{"id": 5123456789012345678, "pay_amount": 59.9, "fee": 0.1, "n": 2}')
    assert data["id"] == 5_123_456_789_012_345_678 and isinstance(data["id"], int)
    assert data["pay_amount"] == Decimal("59.9") and isinstance(data["pay_amount"], Decimal)
    assert data["fee"] + Decimal("0.2") == Decimal("0.3")  # would be 0.30000000000000004 via float
    assert data["n"] == 2 and isinstance(data["n"], int)


@pytest.mark.parametrize("body", [b"{not json", b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe\x00"])
def test_load_json_refuses_garbage_and_non_standard_constants(body: bytes) -> None:
    with pytest.raises(PayloadError) as err:
        wire.load_json(body)
    assert err.value.field == "$"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("185.90", Decimal("185.90")), (Decimal("59.9"), Decimal("59.90")), (12, Decimal("12")),
     (" 0.01 ", Decimal("0.01")), (Decimal("1E+3"), Decimal("1000"))],
)
def test_money_from_decimal_is_exact(value: object, expected: Decimal) -> None:
    assert wire.money_from_decimal(value, "f") == expected


@pytest.mark.parametrize("value", [59.9, True, "12,50", "-1.00", "1e3", "abc", Decimal("-0.01"), None, [1]])
def test_money_from_decimal_refuses_floats_and_junk(value: object) -> None:
    with pytest.raises(PayloadError) as err:
        wire.money_from_decimal(value, "orders[0].price")
    assert err.value.field == "orders[0].price"
    assert "orders[0].price" in str(err.value)


def test_float_money_error_says_how_to_fix_it() -> None:
    with pytest.raises(PayloadError, match="load_json"):
        wire.money_from_decimal(59.9, "pay_amount")


@pytest.mark.parametrize(("value", "expected"), [(1990, "19.90"), ("5", "0.05"), (0, "0.00"), (Decimal("100"), "1.00")])
def test_money_from_fen(value: object, expected: str) -> None:
    result = wire.money_from_fen(value, "f")
    assert result == Decimal(expected) and str(result) == expected


@pytest.mark.parametrize("value", [19.9, Decimal("19.9"), "19.9", -1, True, None])
def test_money_from_fen_refuses_fractions_negatives_and_bools(value: object) -> None:
    with pytest.raises(PayloadError):
        wire.money_from_fen(value, "sale_price")


def test_money_dispatch_and_unknown_unit() -> None:
    assert wire.money(1990, "fen", "f") == Decimal("19.90")
    assert wire.money("19.90", "yuan", "f") == Decimal("19.90")
    with pytest.raises(ValueError):
        wire.money("1", "cents", "f")  # type: ignore[arg-type]


def test_china_time_is_utc_plus_8() -> None:
    assert wire.china_time("2024-03-01 10:15:30", "t") == utc(2024, 3, 1, 2, 15, 30)
    assert wire.china_time("2024-01-01 03:00:00", "t") == utc(2023, 12, 31, 19, 0, 0)  # crosses midnight and year


@pytest.mark.parametrize("value", ["2024-03-0114:00:00", "2024/03/01 10:00:00", "2024-13-01 10:00:00",
                                   "2024-03-01T10:00:00+08:00", "0000-00-00 00:00:00", 1709259330])
def test_china_time_refuses_malformed(value: object) -> None:
    with pytest.raises(PayloadError) as err:
        wire.china_time(value, "Traces[1].AcceptTime")
    assert err.value.field == "Traces[1].AcceptTime"


def test_unix_time_seconds_and_refusals() -> None:
    assert wire.unix_time(1709262930, "t") == utc(2024, 3, 1, 3, 15, 30)
    assert wire.unix_time("1709262930", "t") == utc(2024, 3, 1, 3, 15, 30)
    with pytest.raises(PayloadError, match="milliseconds"):
        wire.unix_time(1709262930000, "update_time")
    with pytest.raises(PayloadError, match="outside"):
        wire.unix_time(0, "update_time")
    with pytest.raises(PayloadError):
        wire.unix_time(1709262930.5, "update_time")


def test_iso_time_converts_offsets_and_refuses_naive() -> None:
    assert wire.iso_time("2024-03-02T08:00:00-05:00", "t") == utc(2024, 3, 2, 13, 0, 0)
    assert wire.iso_time("2024-03-01T18:04:12Z", "t") == utc(2024, 3, 1, 18, 4, 12)
    assert wire.iso_time("2024-03-01T18:04:12.250Z", "t").microsecond == 250000
    with pytest.raises(PayloadError, match="no UTC offset"):
        wire.iso_time("2024-03-02T22:40:00", "checkpoint_time")
    with pytest.raises(PayloadError):
        wire.iso_time("yesterday", "t")


def test_timestamp_dispatch() -> None:
    assert wire.timestamp("2024-03-01 10:15:30", "china", "t") == utc(2024, 3, 1, 2, 15, 30)
    with pytest.raises(ValueError):
        wire.timestamp("x", "rfc822", "t")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("false", False), ("TRUE", True), (True, True), (False, False)]
)
def test_boolean_accepts_amazon_strings(value: object, expected: bool) -> None:
    assert wire.boolean(value, "IsGift") is expected


@pytest.mark.parametrize("value", ["yes", 1, 0, "", None])
def test_boolean_refuses_other_values(value: object) -> None:
    with pytest.raises(PayloadError):
        wire.boolean(value, "IsGift")


def test_ident_keeps_ids_verbatim_and_refuses_fractions() -> None:
    assert wire.ident(3612345678901234567, "tid") == "3612345678901234567"
    assert wire.ident(" 240301-512345678901234 ", "order_sn") == "240301-512345678901234"
    with pytest.raises(PayloadError, match="precision"):
        wire.ident(Decimal("3.6123456789012346E+18"), "tid")
    for bad in (True, "", "  ", None, {"a": 1}):
        with pytest.raises(PayloadError):
            wire.ident(bad, "tid")


def test_count_and_integer() -> None:
    assert wire.count("2", "num") == 2
    with pytest.raises(PayloadError, match=">= 0"):
        wire.count(-1, "num")
    with pytest.raises(PayloadError):
        wire.integer("2.5", "num")


def test_parse_form_decodes_utf8_and_refuses_repeated_keys() -> None:
    form = wire.parse_form(b"RequestType=101&DataSign=YWJj%2B%3D&RequestData=%7B%22a%22%3A%22%E4%B8%AD%22%7D")
    assert form == {"RequestType": "101", "DataSign": "YWJj+=", "RequestData": '{"a":"中"}'}
    with pytest.raises(PayloadError) as err:
        wire.parse_form(b"sign=a&sign=b")
    assert err.value.field == "sign"
    with pytest.raises(PayloadError):
        wire.parse_form(b"param=%FF%FE")


def test_reader_paths_name_the_exact_field() -> None:
    reader = Reader({"order": {"items": [{"qty": 1}, {"qty": "x"}]}})
    items = reader.obj("order").objs("items")
    assert items[0].req("qty", wire.count) == 1
    with pytest.raises(PayloadError) as err:
        items[1].req("qty", wire.count)
    assert err.value.field == "order.items[1].qty"
    assert str(err.value).startswith("order.items[1].qty: expected an integer")
    with pytest.raises(PayloadError) as err:
        items[0].req("sku", wire.ident)
    assert err.value.field == "order.items[0].sku" and "missing" in err.value.reason
    with pytest.raises(PayloadError) as err:
        Reader({"order": {"items": {"not": "a list"}}}).obj("order").objs("items")
    assert err.value.field == "order.items"
    assert reader.obj("absent", required=False).text("x") == ""
    assert Reader({"pay_time": 0}).opt("pay_time", wire.unix_time, zero_is_missing=True) is None
