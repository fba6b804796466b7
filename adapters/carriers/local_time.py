"""Carrier times without a UTC offset, placed on the UTC axis in the zone of the place they name.

    zone = zone_for("USA", "WA")                     # America/Los_Angeles
    stamp = scan_time("2024-03-02T22:40:00", "checkpoint_time", zone)
    stamp.at, stamp.zone                             # 2024-03-03 06:40 UTC, "America/Los_Angeles"

A carrier's scanner writes local wall-clock time; a time that carries its own
offset (``Z``, ``-08:00``) is taken as given and is not inferred. A local time
is read in the scan's zone with :mod:`zoneinfo`, so daylight saving is
honoured; a wall time that occurs twice (the autumn hour) is read as the
first of the two, one that does not exist (the spring gap) keeps the offset
from before the change. Estimated delivery *dates* mean "by the end of that
day where the parcel is delivered": :func:`delivery_estimate` turns
``2024-03-05`` into 23:59:59 local time of the destination's zone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from adapters import wire
from adapters.carriers.zone_table import COUNTRIES, REGIONS
from domain.inbound.normalized import PayloadError

#: Chinese carriers and tracking providers report Beijing time.
CHINA = ZoneInfo("Asia/Shanghai")
#: Last resort for a local time whose place nobody names (said so in lineage, like any inferred zone).
FALLBACK = ZoneInfo("UTC")
END_OF_DAY = time(23, 59, 59)
T = TypeVar("T")

_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:?\d{2})?")
#: Words around a region's name that carriers add or drop ("Novosibirsk Oblast", "Republic of Tatarstan").
_REGION_NOISE = frozenset({"oblast", "obl", "krai", "kray", "republic", "respublika", "of", "the", "region",
                           "province", "state", "territory", "autonomous", "okrug", "ao"})


@dataclass(frozen=True, slots=True)
class Stamp:
    """A time on the UTC axis; ``zone`` names the zone it was read in when the wire gave no offset."""

    at: datetime
    zone: str = ""

    @property
    def inferred(self) -> bool:
        return bool(self.zone)


def region_key(name: str) -> str:
    """A region's name reduced to what spellings share: "São Paulo", "SAO PAULO" and "Sao Paulo State" -> "saopaulo"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in re.split(r"[^a-z0-9]+", plain) if w and w not in _REGION_NOISE]
    return "".join(words)


_REGION_ZONES: dict[tuple[str, str], str] = {(country, region_key(name)): zone for country, name, zone in REGIONS}


def zone_for(country: str, region: str = "") -> ZoneInfo | None:
    """The zone of a place: its region's where the country spans several and the region is known, else the country's.

    ``None`` when the country is not a known ISO code (the caller decides the fallback).
    """
    found = COUNTRIES.get(country.strip().upper()) if country else None
    if found is None:
        return None
    alpha2, zone = found
    if region:
        region = region.strip()
        if region.upper().startswith(f"{alpha2}-"):  # ISO 3166-2 "US-CA"
            region = region[len(alpha2) + 1:]
        zone = _REGION_ZONES.get((alpha2, region_key(region)), zone)
    return ZoneInfo(zone)  # zoneinfo caches instances by key


def _plausible(moment: datetime, raw: str, field: str) -> datetime:
    if not _EARLIEST <= moment < _LATEST:
        raise PayloadError(f"time {raw!r} is outside 2000..2100 (wrong unit or placeholder?)", field=field)
    return moment


def _text(value: object, field: str, expected: str) -> str:
    if not isinstance(value, str):
        raise PayloadError(f"expected {expected}, got {wire.describe(value)}", field=field)
    return value.strip()


def _real(raw: str, field: str, parse: Callable[[str], T]) -> T:
    try:
        return parse(raw)
    except ValueError as exc:  # the shape is right but e.g. month 13
        raise PayloadError(f"not a real date/time: {raw!r}", field=field) from exc


def _placed(local: datetime, zone: ZoneInfo | None, raw: str, field: str) -> Stamp:
    if local.tzinfo is not None:
        return Stamp(_plausible(local.astimezone(UTC), raw, field))
    if zone is None:
        raise PayloadError(f"{raw!r} is a local date/time and the place it is local to is not given", field=field)
    return Stamp(_plausible(local.replace(tzinfo=zone).astimezone(UTC), raw, field), str(zone.key))


def scan_time(value: object, field: str, zone: ZoneInfo) -> Stamp:
    """An ISO-8601 date and time; without an offset it is local time in ``zone`` (``stamp.zone`` says so)."""
    expected = "an ISO-8601 date and time"
    raw = _text(value, field, expected)
    if not _DATE_TIME.fullmatch(raw):
        raise PayloadError(f"expected {expected}, got {raw!r}", field=field)
    return _placed(_real(raw, field, datetime.fromisoformat), zone, raw, field)


def china_scan_time(value: object, field: str) -> Stamp:
    """A Chinese provider's 'yyyy-MM-dd HH:mm:ss' (Beijing time, no offset on the wire)."""
    return Stamp(wire.china_time(value, field), CHINA.key)


def delivery_estimate(value: object, field: str, zone: ZoneInfo | None) -> datetime:
    """An estimated delivery: a date means the end of that day in ``zone``; a local time is read in ``zone``.

    Accepts ``YYYY-MM-DD``, ``YYYY-MM-DD HH[:mm[:ss]]`` (or with ``T``) and ISO-8601 with an offset.
    With ``zone`` ``None`` (the destination is not known) only a time with its own offset can be placed.
    """
    expected = "a date or an ISO-8601 date and time"
    raw = _text(value, field, expected)
    if _DATE.fullmatch(raw):
        local = datetime.combine(_real(raw, field, date.fromisoformat), END_OF_DAY)
    elif _DATE_TIME.fullmatch(raw):
        local = _real(raw, field, datetime.fromisoformat)
    else:
        raise PayloadError(f"expected {expected}, got {raw!r}", field=field)
    return _placed(local, zone, raw, field).at
