"""The faults the ERP simulator injects, read from a JSON profile (a file or ``PUT /_sim/profile``).

    {"latency_ms": 50, "error_rate": 0.02, "stale_s": 30, "session_ttl_s": 600,
     "outages": [{"after_s": 10, "for_s": 5}, {"start": "2026-11-30T02:00:00Z", "end": "2026-11-30T02:05:00Z"}],
     "down": false, "stock_drift": {"warehouse": "CK001", "share": 0.08},
     "invoice_mismatch": {"OG000000042": {"amount": 12.5, "quantity": -1}}}

- ``latency_ms``: delay before every API answer;
- ``error_rate``: share of API calls answered HTTP 500 (an IIS error page, not JSON);
- ``stale_s``: queries answer the books as they were this many seconds ago (a lagging replica;
  changes are remembered from when the fault is switched on);
- ``session_ttl_s``: Kingdee sessions expire after this long (0: never);
- ``outages``: windows answered HTTP 503, relative (``after_s``/``for_s``, from
  when the profile was applied) or absolute (``start``/``end``, ISO-8601 with offset);
  ``down``: an outage with no end;
- ``stock_drift``: one warehouse's on-hand reported off by ``share`` (0.08: 8 % more, -0.08: 8 % less);
- ``invoice_mismatch``: per order number (ours or the bill number), an amount and/or whole quantity added to
  what its receivable (``AR_receivable``, REST ``/v1/invoices``) reports: a mis-keyed invoice.

A bad value is a ``ValueError`` naming its key; an unknown key too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

_KEYS = frozenset({"latency_ms", "error_rate", "stale_s", "session_ttl_s", "outages", "down", "stock_drift",
                   "invoice_mismatch"})


@dataclass(frozen=True, slots=True)
class Outage:
    start: datetime
    end: datetime

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Profile:
    latency_ms: int = 0
    error_rate: float = 0.0
    stale_s: float = 0.0
    session_ttl_s: float = 0.0
    outages: tuple[Outage, ...] = ()
    down: bool = False
    drift_warehouse: str = ""
    drift_share: float = 0.0
    applied_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    invoice_mismatch: Mapping[str, tuple[Decimal, int]] = field(default_factory=dict)  # order -> (amount, units) added

    @classmethod
    def read(cls, data: Mapping[str, Any], *, now: datetime | None = None) -> Profile:
        """A profile from JSON; a bad value is a ``ValueError`` naming the key."""
        if not isinstance(data, Mapping):
            raise ValueError("profile: a JSON object")
        for key in data:
            if key not in _KEYS:
                raise ValueError(f"{key}: unknown fault (known: {', '.join(sorted(_KEYS))})")
        now = now or datetime.now(UTC)
        drift = data.get("stock_drift") or {}
        if not isinstance(drift, Mapping) or (drift and not isinstance(drift.get("warehouse"), str)):
            raise ValueError('stock_drift: {"warehouse": "CK001", "share": 0.08}')
        down = data.get("down", False)
        if not isinstance(down, bool):
            raise ValueError("down: true or false")
        return cls(latency_ms=int(_number(data, "latency_ms", 0, 60_000)),
                   error_rate=_number(data, "error_rate", 0, 1),
                   stale_s=_number(data, "stale_s", 0, 86_400),
                   session_ttl_s=_number(data, "session_ttl_s", 0, 86_400),
                   outages=tuple(_outage(item, index, now) for index, item in enumerate(_list(data, "outages"))),
                   down=down, drift_warehouse=str(drift.get("warehouse", "")),
                   drift_share=_number(drift, "share", -1, 10, "stock_drift.") if drift else 0.0, applied_at=now,
                   invoice_mismatch=_mismatches(data.get("invoice_mismatch") or {}))

    def out(self, moment: datetime) -> bool:
        """The ERP is unreachable at ``moment``."""
        return self.down or any(outage.covers(moment) for outage in self.outages)

    def drifted(self, warehouse: str, on_hand: int) -> int:
        """What the ERP reports as on hand in ``warehouse`` when the truth is ``on_hand``."""
        if warehouse != self.drift_warehouse or not self.drift_share:
            return on_hand
        return max(0, round(on_hand * (1 + self.drift_share)))

    def invoiced(self, numbers: tuple[str, ...], amount: Decimal, units: int) -> tuple[Decimal, int]:
        """What the ERP reports as invoiced for an order known by ``numbers`` when the truth is ``(amount, units)``."""
        for number in numbers:
            if number in self.invoice_mismatch:
                extra_amount, extra_units = self.invoice_mismatch[number]
                return amount + extra_amount, units + extra_units
        return amount, units

    def shown(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "stale_s": self.stale_s,
                "session_ttl_s": self.session_ttl_s, "down": self.down,
                "outages": [{"start": o.start.isoformat(), "end": o.end.isoformat()} for o in self.outages],
                "stock_drift": {"warehouse": self.drift_warehouse, "share": self.drift_share}
                if self.drift_warehouse else {},
                "invoice_mismatch": {no: {"amount": format(amount, "f"), "quantity": units}
                                     for no, (amount, units) in self.invoice_mismatch.items()}}


def _number(data: Mapping[str, Any], key: str, low: float, high: float, where: str = "") -> float:
    value = data.get(key, 0 if low <= 0 else low)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}{key}: must be a number")
    if not low <= value <= high:
        raise ValueError(f"{where}{key}: must be between {low:g} and {high:g}")
    return float(value)


def _mismatches(data: Any) -> dict[str, tuple[Decimal, int]]:
    """``{"OG…": {"amount": 12.5, "quantity": -1}}`` read; a bad entry is a ``ValueError`` naming it."""
    if not isinstance(data, Mapping):
        raise ValueError('invoice_mismatch: {"OG000000042": {"amount": 12.5, "quantity": -1}}')
    found = {}
    for number, entry in data.items():
        where = f"invoice_mismatch.{number}"
        if not isinstance(entry, Mapping) or set(entry) - {"amount", "quantity"} or not entry:
            raise ValueError(f"{where}: an object with amount and/or quantity")
        amount, units = entry.get("amount", 0), entry.get("quantity", 0)
        if isinstance(amount, bool) or not isinstance(amount, (int, float, str, Decimal)):
            raise ValueError(f"{where}.amount: a number")
        try:
            extra = Decimal(str(amount))
        except InvalidOperation:
            raise ValueError(f"{where}.amount: a number") from None
        if not extra.is_finite() or isinstance(units, bool) or not isinstance(units, int):
            raise ValueError(f"{where}: a finite amount and a whole quantity")
        found[str(number)] = (extra, units)
    return found


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ValueError(f"{key}: a list")
    return value


def _outage(item: Any, index: int, now: datetime) -> Outage:
    where = f"outages[{index}]."
    if not isinstance(item, Mapping):
        raise ValueError(f"outages[{index}]: an object")
    if "after_s" in item or "for_s" in item:
        start = now + timedelta(seconds=_number(item, "after_s", 0, 86_400 * 7, where))
        return Outage(start, start + timedelta(seconds=_number(item, "for_s", 0, 86_400 * 7, where)))
    return Outage(_moment(item, "start", where), _moment(item, "end", where))


def _moment(item: Mapping[str, Any], key: str, where: str) -> datetime:
    raw = item.get(key)
    try:
        moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}{key}: an ISO-8601 time with offset") from None
    if moment.tzinfo is None:
        raise ValueError(f"{where}{key}: an ISO-8601 time with offset")
    return moment.astimezone(UTC)
