"""Fault profiles: the bundled ones read, a mistake is named, and the day's settings follow its clock."""

from __future__ import annotations

import pytest

from chaos.profile import ProfileError, load, parse, silent_after_hours


def test_the_bundled_profiles_read_and_the_default_day_injects_every_incident_kind() -> None:
    chaos = load("chaos")
    assert chaos.name == "chaos" and chaos.settle_s == 300 and chaos.settle_max_s == 1800
    assert {incident.kind for incident in chaos.incidents} == {"wms_outage", "erp_drift", "process_kill",
                                                                "redis_restart", "channel_throttle"}
    assert load("small").scan_after_s == (3600.0, 3 * 3600.0, 6 * 3600.0, 8 * 3600.0)


@pytest.mark.parametrize(("data", "named"), [
    ({"dya": {}}, "dya: unknown key"),
    ({"day": {"scans_after": ["3h", "1h", "8h", "10h"]}}, "day.scans_after"),
    ({"channels": ["ebay"]}, "'ebay'"),
])
def test_a_mistake_in_a_profile_is_refused_with_where_it_is(data: dict, named: str) -> None:
    with pytest.raises(ProfileError) as refused:
        parse(data)
    assert named in str(refused.value)


def test_a_parcel_is_asked_about_only_after_the_days_longest_normal_silence_at_that_speed() -> None:
    day = load("chaos")  # scans 1 h, 3 h, 8 h, 10 h after shipping: the longest gap is 5 business hours
    at_100 = silent_after_hours(day, 100) * 3600
    assert 180 < at_100 < 220                      # 5 h / 100 = 180 wall seconds, and a margin
    assert silent_after_hours(day, 1000) * 3600 < at_100 / 5
