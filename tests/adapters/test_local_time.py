"""Local carrier times -> UTC: the zone table checked against the tz database, and the reading rules."""

from __future__ import annotations

from importlib import resources
from zoneinfo import ZoneInfo

import pytest
from adapters_samples import utc

from adapters.carriers.local_time import delivery_estimate, region_key, scan_time, zone_for
from adapters.carriers.zone_table import COUNTRIES, REGIONS
from domain.inbound.normalized import PayloadError


def _zone_tab() -> dict[str, set[str]]:
    """ISO alpha-2 -> zones, from the tz database's own zone.tab (shipped with the tzdata package)."""
    text = resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(encoding="utf-8")
    zones: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _coordinates, zone = line.split("\t")[:3]
            zones.setdefault(country, set()).add(zone)
    return zones


def test_every_country_zone_is_one_the_tz_database_lists_for_that_country() -> None:
    tab = _zone_tab()
    alpha2 = {code for code, (two, _) in COUNTRIES.items() if code == two}
    assert alpha2 >= set(tab)  # every country the tz database knows is covered
    for code, (two, zone) in COUNTRIES.items():
        if two != "XK":  # Kosovo is not in ISO 3166; it keeps Belgrade time
            assert zone in tab[two], (code, zone)
    assert len(COUNTRIES) == 2 * len(alpha2)  # alpha-2 and alpha-3 are both unique


def test_region_names_are_unambiguous_and_every_zone_exists() -> None:
    seen: dict[tuple[str, str], str] = {}
    for country, name, zone in REGIONS:
        ZoneInfo(zone)
        key = (country, region_key(name))
        assert seen.setdefault(key, zone) == zone, (country, name)


@pytest.mark.parametrize(
    ("country", "region", "zone"),
    [("USA", "WA", "America/Los_Angeles"), ("US", "Washington", "America/Los_Angeles"),
     ("USA", "US-TX", "America/Chicago"), ("USA", "", "America/New_York"), ("USA", "Atlantis", "America/New_York"),
     ("CAN", "British Columbia", "America/Vancouver"), ("CAN", "QC", "America/Toronto"), ("CAN", "", "America/Toronto"),
     ("AUS", "WA", "Australia/Perth"), ("AUS", "", "Australia/Sydney"),
     ("BRA", "São Paulo", "America/Sao_Paulo"), ("BRA", "AM", "America/Manaus"),
     ("MEX", "CDMX", "America/Mexico_City"), ("MEX", "Quintana Roo", "America/Cancun"),
     ("RUS", "Novosibirsk Oblast", "Asia/Novosibirsk"), ("RUS", "Republic of Tatarstan", "Europe/Moscow"),
     ("RUS", "", "Europe/Moscow"), ("CHN", "Xinjiang", "Asia/Shanghai"), ("deu", "", "Europe/Berlin")],
)
def test_zone_for_a_place(country: str, region: str, zone: str) -> None:
    assert zone_for(country, region) == ZoneInfo(zone)


def test_an_unknown_country_has_no_zone() -> None:
    assert zone_for("ZZZ", "CA") is None and zone_for("", "CA") is None


def test_daylight_saving_is_honoured_both_ways() -> None:
    new_york = ZoneInfo("America/New_York")
    assert scan_time("2024-07-01T12:00:00", "t", new_york).at == utc(2024, 7, 1, 16, 0, 0)  # EDT
    assert scan_time("2024-12-01T12:00:00", "t", new_york).at == utc(2024, 12, 1, 17, 0, 0)  # EST
    # 01:30 happens twice on 3 November 2024: read as the first (still EDT)
    assert scan_time("2024-11-03T01:30:00", "t", new_york).at == utc(2024, 11, 3, 5, 30, 0)


def test_a_time_with_its_own_offset_is_not_inferred() -> None:
    stamp = scan_time("2024-03-02T22:40:00Z", "t", ZoneInfo("Asia/Tokyo"))
    assert (stamp.at, stamp.inferred, stamp.zone) == (utc(2024, 3, 2, 22, 40, 0), False, "")


@pytest.mark.parametrize(("value", "reason"), [
    ("2024-13-02T10:00:00", "not a real date/time: '2024-13-02T10:00:00'"),
    ("02.03.2024 10:00", "expected an ISO-8601 date and time, got '02.03.2024 10:00'"),
    ("1970-01-01T00:00:00", "time '1970-01-01T00:00:00' is outside 2000..2100 (wrong unit or placeholder?)"),
    (1709424000, "expected an ISO-8601 date and time, got int 1709424000"),
])
def test_unreadable_times_name_the_field_and_the_reason(value: object, reason: str) -> None:
    with pytest.raises(PayloadError) as err:
        scan_time(value, "msg.checkpoints[0].checkpoint_time", ZoneInfo("UTC"))
    assert (err.value.field, err.value.reason) == ("msg.checkpoints[0].checkpoint_time", reason)


def test_a_delivery_date_means_the_end_of_that_local_day() -> None:
    assert delivery_estimate("2024-03-05", "d", ZoneInfo("Europe/Berlin")) == utc(2024, 3, 5, 22, 59, 59)
    assert delivery_estimate("2024-07-05", "d", ZoneInfo("Europe/Berlin")) == utc(2024, 7, 5, 21, 59, 59)
    assert delivery_estimate("2024-03-05T10:00:00+01:00", "d", None) == utc(2024, 3, 5, 9, 0, 0)
