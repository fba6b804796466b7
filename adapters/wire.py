"""Converters for the traps in what platforms put on the wire.

Money arrives as integer fen, as yuan JSON numbers (59.9) or as decimal
strings ("185.90"); times as China-time strings without offset, unix seconds
or ISO-8601; ids as JSON numbers beyond 2^53; booleans as "true"/"false".
Each converter takes the raw JSON value plus the path it came from and
returns the exact Python value, or raises :class:`PayloadError` naming that
path.  None of them guesses a unit, a timezone or a precision.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl

from domain.inbound.normalized import PayloadError

UTC = timezone.utc
#: China has kept UTC+8 without DST since 1991, so a fixed offset is exact.
CHINA_TZ = timezone(timedelta(hours=8), "UTC+08:00")

MoneyUnit = Literal["yuan", "fen"]
TimeFormat = Literal["iso", "unix", "china"]

# Plausibility window: a zero placeholder or a millisecond value passed as seconds lands outside it.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_DECIMAL_TEXT = re.compile(r"\d+(?:\.\d+)?")
_INT_TEXT = re.compile(r"-?\d+")
_CHINA_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?")


def describe(value: object) -> str:
    """A short, log-safe description of an unexpected value for error messages."""
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return f"{type(value).__name__} {shown}"


# ---------------------------------------------------------------- decoding


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def load_json(raw: bytes | str) -> Any:
    """Decode JSON keeping every number exact: decimals become ``Decimal``, integers stay ``int``.

    Python ints are unbounded, so 19-digit ids survive intact; ``NaN``/``Infinity`` are refused.
    """
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise PayloadError(f"not valid JSON ({str(exc)[:120]})", field="$") from exc
    except RecursionError:
        raise PayloadError("not valid JSON (nested too deeply)", field="$") from None


def parse_form(raw_body: bytes | str) -> dict[str, str]:
    """Decode an ``application/x-www-form-urlencoded`` UTF-8 body; a repeated key is refused, not overwritten."""
    try:
        body = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
        pairs = parse_qsl(body, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"form body is not UTF-8 ({exc})", field="$") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise PayloadError("form field given more than once", field=key)
        form[key] = value
    return form


# ---------------------------------------------------------------- scalars


def text(value: object, field: str) -> str:
    """Free text; numbers are accepted and rendered exactly (some APIs send phone numbers as numbers)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    # Only the type is named: text fields hold names and phones, which must not reach logs in clear.
    raise PayloadError(f"expected text, got {type(value).__name__}", field=field)


def ident(value: object, field: str) -> str:
    """An external id or raw status code, kept verbatim as a string; a non-integer number is refused."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Decimal):
        raise PayloadError(f"expected an id, got a fractional number {value} (precision lost upstream?)", field=field)
    raise PayloadError(f"expected a non-empty id or code, got {describe(value)}", field=field)


def integer(value: object, field: str) -> int:
    """A JSON integer, or a string of digits (some gateways stringify numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise PayloadError(f"expected an integer, got {describe(value)}", field=field)


def count(value: object, field: str) -> int:
    """A quantity: an integer that is not negative."""
    number = integer(value, field)
    if number < 0:
        raise PayloadError(f"expected a quantity >= 0, got {number}", field=field)
    return number


def boolean(value: object, field: str) -> bool:
    """A JSON boolean or the strings "true"/"false" (Amazon's ``IsGift``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise PayloadError(f'expected true/false or "true"/"false", got {describe(value)}', field=field)


# ---------------------------------------------------------------- money


def money_from_decimal(value: object, field: str) -> Decimal:
    """Currency units from a decimal string ("185.90"), an exact JSON number (59.9 via load_json) or an int.

    A Python float means the JSON was decoded lossily somewhere: refused, not rounded.
    """
    if isinstance(value, bool):
        raise PayloadError(f"expected an amount, got {describe(value)}", field=field)
    if isinstance(value, float):
        raise PayloadError(
            "amount arrived as a binary float; decode the JSON with wire.load_json so money stays exact", field=field
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        raise PayloadError(f"expected a decimal amount, got {describe(value)}", field=field)
    if not amount.is_finite() or amount < 0:
        raise PayloadError(f"expected a finite amount >= 0, got {amount}", field=field)
    if amount.as_tuple().exponent > 0:  # 1E+3 from JSON exponent notation -> 1000
        amount = amount.quantize(Decimal(1))
    return amount


def money_from_fen(value: object, field: str) -> Decimal:
    """Currency units from integer fen (1990 -> Decimal("19.90")); a fractional fen is refused."""
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise PayloadError(f"expected integer fen, got {describe(value)}", field=field)
        value = int(value)
    if isinstance(value, float):
        raise PayloadError(f"expected integer fen, got {describe(value)}", field=field)
    return Decimal(count(value, field)).scaleb(-2)


def money(value: object, unit: MoneyUnit, field: str) -> Decimal:
    """Dispatch on a configured unit (used by the generic mapping parser)."""
    if unit == "fen":
        return money_from_fen(value, field)
    if unit == "yuan":
        return money_from_decimal(value, field)
    raise ValueError(f"unknown money unit {unit!r}; expected 'yuan' or 'fen'")


# ---------------------------------------------------------------- time


def _plausible(moment: datetime, raw: object, field: str) -> datetime:
    if not _EARLIEST <= moment < _LATEST:
        raise PayloadError(f"time {raw!r} is outside 2000..2100 (wrong unit or placeholder?)", field=field)
    return moment


def _time_text(value: object, field: str, expected: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"expected {expected}, got {describe(value)}", field=field)
    return value.strip()


def china_time(value: object, field: str) -> datetime:
    """A 'yyyy-MM-dd HH:mm:ss' string in China time (no offset on the wire) -> UTC."""
    raw = _time_text(value, field, "'yyyy-MM-dd HH:mm:ss' China time")
    if not _CHINA_TIME.fullmatch(raw):
        raise PayloadError(f"expected 'yyyy-MM-dd HH:mm:ss' China time, got {raw!r}", field=field)
    try:
        local = datetime.fromisoformat(raw)
    except ValueError as exc:  # shape is right but e.g. month 13
        raise PayloadError(f"not a real date/time: {raw!r}", field=field) from exc
    return _plausible(local.replace(tzinfo=CHINA_TZ).astimezone(UTC), raw, field)


def unix_time(value: object, field: str) -> datetime:
    """Unix seconds (int or digit string) -> UTC; milliseconds are refused rather than guessed."""
    seconds = integer(value, field)
    if abs(seconds) >= 10**11:
        raise PayloadError(f"{seconds} looks like milliseconds; expected unix seconds", field=field)
    return _plausible(datetime.fromtimestamp(seconds, UTC), value, field)


def iso_time(value: object, field: str) -> datetime:
    """ISO-8601 with an explicit offset or 'Z' -> UTC; a time without offset is refused (its zone is unknown)."""
    raw = _time_text(value, field, "an ISO-8601 time")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise PayloadError(f"not an ISO-8601 time: {raw!r}", field=field) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise PayloadError(f"ISO-8601 time {raw!r} has no UTC offset; its timezone is unknown", field=field)
    return _plausible(moment.astimezone(UTC), raw, field)


def timestamp(value: object, fmt: TimeFormat, field: str) -> datetime:
    """Dispatch on a configured time format (used by the generic mapping parser)."""
    converters = {"iso": iso_time, "unix": unix_time, "china": china_time}
    if fmt not in converters:
        raise ValueError(f"unknown time format {fmt!r}; expected one of {sorted(converters)}")
    return converters[fmt](value, field)
