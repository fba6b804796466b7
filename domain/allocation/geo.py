"""Where a destination is, and how far from a warehouse: for nearest and lowest-cost allocation.

    >>> round(distance_km((31.23, 121.47), (39.13, 117.20)))
    960
    >>> locate("广东省", "深圳市")
    (22.54, 114.06)

The coordinates are data (``geo_cn.json``): provincial capitals and a few large
cities. A city we do not know falls back to its province's capital.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

EARTH_RADIUS_KM = 6371.0
_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")

Point = tuple[float, float]


def distance_km(a: Point, b: Point) -> float:
    """Great-circle (haversine) distance."""
    lat1, lng1, lat2, lng2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def _short(name: str) -> str:
    name = name.strip()
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@cache
def _places() -> tuple[dict[str, Point], dict[str, Point]]:
    data = json.loads((Path(__file__).with_name("geo_cn.json")).read_text(encoding="utf-8"))
    provinces = {name: tuple(entry["at"]) for name, entry in data["provinces"].items()}
    cities = {entry["capital"]: tuple(entry["at"]) for entry in data["provinces"].values()}
    cities.update({name: tuple(at) for name, at in data["cities"].items()})
    return provinces, cities  # type: ignore[return-value]


def locate(province: str, city: str = "") -> Point | None:
    """Coordinates of a city, else of its province's capital; None if neither is known."""
    provinces, cities = _places()
    return cities.get(_short(city)) or provinces.get(_short(province))


def same_place(rule_name: str, actual: str) -> bool:
    """Do two place names mean the same place ("广东省" and "广东")?"""
    return _short(rule_name) == _short(actual)
