"""A reconciliation day is a calendar day in the tenant's time zone; storage is UTC, so the day becomes a UTC range.

    start, end = day_window(date(2026, 11, 30), zone_of("Asia/Shanghai"))
    # 2026-11-29T16:00Z .. 2026-11-30T16:00Z: the orders placed that day in Shanghai
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"


def zone_of(name: str | None) -> ZoneInfo:
    """The tenant's zone; an empty or unknown name falls back to Asia/Shanghai (the merchants' home)."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of ``day`` in ``zone`` (23 or 25 hours across a daylight-saving change)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()
