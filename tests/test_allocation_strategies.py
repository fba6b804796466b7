"""The allocation planner on plain data: each strategy, fallbacks, service radius, splits, category exceptions."""

from __future__ import annotations

import pytest

from domain.allocation.policy import parse_policy
from domain.allocation.strategies import Destination, Need, Site, manual_plan, plan
from domain.errors import ValidationFailed

SH = Site(1, "SH", "上海", "上海", 31.15, 121.12, 10)
GZ = Site(2, "GZ", "广东", "广州", 23.16, 113.27, 20)
TJ = Site(3, "TJ", "天津", "天津", 39.38, 117.04, 30)
SITES = [SH, GZ, TJ]
CODES = {"SH", "GZ", "TJ"}
PLENTY = {(site.id, sku): 50 for site in SITES for sku in ("TEA", "POT")}
SHENZHEN = Destination("广东省", "深圳市")


def policy(**config):  # noqa: ANN003, ANN201
    return parse_policy(config, CODES)


def reasons(result) -> dict[str, str]:  # noqa: ANN001
    return {c.code: c.reason for c in result.candidates}


def test_priority_uses_the_warehouse_priority_or_an_explicit_list():
    needs = [Need(1, "TEA", 2)]
    assert plan(SITES, needs, PLENTY, policy(strategy="priority"), SHENZHEN).assignments == {1: SH.id}
    listed = plan(SITES, needs, PLENTY, policy(strategy="priority", priority=["TJ", "SH"]), SHENZHEN)
    assert listed.assignments == {1: TJ.id}
    assert reasons(listed)["SH"] == "ranked below TJ (#2 in the priority list vs #1 in the priority list)"


def test_region_rule_most_specific_wins_and_others_are_excluded():
    config = policy(strategy="region", regions=[
        {"province": "广东", "warehouses": ["SH", "GZ"]},
        {"province": "广东", "city": "深圳", "warehouses": ["GZ"]},
        {"province": "*", "warehouses": ["TJ"]},
    ])
    result = plan(SITES, [Need(1, "TEA", 1)], PLENTY, config, SHENZHEN)
    assert result.summary == "region (rule 广东/深圳): GZ"
    assert reasons(result) == {"GZ": "ranked first and can fill the whole order", "SH": "not in the region rule for 广东/深圳",
                               "TJ": "not in the region rule for 广东/深圳"}
    elsewhere = plan(SITES, [Need(1, "TEA", 1)], PLENTY, config, Destination("四川", "成都"))
    assert elsewhere.assignments == {1: TJ.id}


def test_region_without_a_rule_falls_back_and_says_so():
    config = policy(strategy="region", fallback="nearest", regions=[{"province": "北京", "warehouses": ["TJ"]}])
    result = plan(SITES, [Need(1, "TEA", 1)], PLENTY, config, SHENZHEN)
    assert result.strategy == "nearest" and result.assignments == {1: GZ.id}
    assert "region: no region rule covers 广东省/深圳市; fell back to nearest" in result.summary


def test_nearest_respects_the_service_radius():
    result = plan(SITES, [Need(1, "TEA", 1)], PLENTY, policy(strategy="nearest", service_radius_km=1300), SHENZHEN)
    assert result.assignments == {1: GZ.id}
    assert reasons(result)["TJ"].endswith("beyond the 1,300 km service radius")
    assert reasons(result)["SH"] == "ranked below GZ (1,186 km vs 106 km)"
    nowhere = plan(SITES, [Need(1, "TEA", 1)], PLENTY, policy(strategy="nearest", service_radius_km=10), SHENZHEN)
    assert not nowhere.ok and nowhere.outcome == "FAILED"


def test_unknown_destination_falls_back_to_priority():
    result = plan(SITES, [Need(1, "TEA", 1)], PLENTY, policy(strategy="nearest"), Destination("Atlantis"))
    assert result.strategy == "priority" and "no coordinates for Atlantis" in result.summary


def test_lowest_total_cost_counts_handling_and_delay():
    cost = {"shipping_base": "5", "shipping_per_km": "0.01", "handling": {"*": "2", "GZ": "30"}, "lead_days": {"SH": 0, "*": 1},
            "delay_penalty_per_day": "4"}
    result = plan(SITES, [Need(1, "TEA", 1)], PLENTY, policy(strategy="cost", cost=cost), SHENZHEN)
    # GZ is 106 km away but its handling is expensive; SH is far but fast and cheap.
    by_code = {c.code: c for c in result.candidates}
    assert by_code["GZ"].metric == "cost 40.06 = shipping 6.06 + handling 30 + delay 4"
    assert result.assignments == {1: SH.id} and by_code["SH"].score < by_code["GZ"].score


def test_whole_order_preferred_split_only_when_allowed_and_needed():
    stocked = {(SH.id, "TEA"): 5, (SH.id, "POT"): 0, (GZ.id, "TEA"): 0, (GZ.id, "POT"): 5, (TJ.id, "TEA"): 5, (TJ.id, "POT"): 5}
    needs = [Need(1, "TEA", 2), Need(2, "POT", 1)]
    whole = plan(SITES, needs, stocked, policy(strategy="priority", allow_split=True), SHENZHEN)
    assert whole.outcome == "ALLOCATED" and set(whole.assignments.values()) == {TJ.id}  # TJ fills it all: no split
    assert reasons(whole)["SH"] == "cannot fill: POT: needs 1, 0 available"
    no_tj = {k: v for k, v in stocked.items() if k[0] != TJ.id}
    refused = plan(SITES, needs, no_tj, policy(strategy="priority"), SHENZHEN)
    assert refused.outcome == "FAILED" and "splitting is not allowed" in refused.summary
    split = plan(SITES, needs, no_tj, policy(strategy="priority", allow_split=True), SHENZHEN)
    assert split.outcome == "SPLIT" and split.assignments == {1: SH.id, 2: GZ.id}
    assert [c.code for c in split.chosen] == ["SH", "GZ"]


def test_category_exception_overrides_the_strategy():
    config = policy(strategy="region", allow_split=True, regions=[{"province": "广东", "warehouses": ["GZ"]}], categories={"bulky": ["TJ"]})
    needs = [Need(1, "TEA", 1, "tea"), Need(2, "POT", 1, "bulky")]
    result = plan(SITES, needs, PLENTY, config, SHENZHEN)
    assert result.outcome == "SPLIT" and result.assignments == {1: GZ.id, 2: TJ.id}
    only_bulky = plan(SITES, [Need(2, "POT", 1, "bulky")], PLENTY, config, SHENZHEN)
    assert only_bulky.assignments == {2: TJ.id}
    assert reasons(only_bulky)["GZ"] == "cannot fill: bulky items ship only from TJ"


def test_shortage_names_what_each_warehouse_has():
    result = plan(SITES, [Need(1, "TEA", 60)], PLENTY, policy(strategy="priority"), SHENZHEN)
    assert result.summary.endswith("(no warehouse has 60 of TEA (SH 50, GZ 50, TJ 50))")


def test_manual_plan():
    assert manual_plan(GZ, [Need(1, "TEA", 2)], PLENTY, "customer pickup").assignments == {1: GZ.id}
    short = manual_plan(GZ, [Need(1, "TEA", 2), Need(2, "TEA", 49)], PLENTY, "")
    assert not short.ok and "TEA: needs 51, 50 available" in short.summary


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"strategy": "priority", "allow_split": "yes"}, "config.allow_split"),
        ({"strategy": "region", "regions": [{"province": "", "warehouses": ["SH"]}]}, "config.regions.0.province"),
        ({"strategy": "region", "regions": [{"province": "广东", "warehouses": ["SH", "SH"]}]}, "config.regions.0.warehouses"),
        ({"strategy": "priority", "categories": {"bulky": []}}, "config.categories.bulky"),
        ({"strategy": "cost", "cost": {"handling": {"XX": 1}}}, "config.cost.handling.XX"),
        ({"strategy": "cost", "cost": {"delay_penalty_per_day": "-1"}}, "config.cost.delay_penalty_per_day"),
        ({"strategy": "nearest", "fallback": "nearest"}, "config.fallback"),
        ({"strategy": "priority", "presale_hold_hours": 0}, "config.presale_hold_hours"),
        ("priority", "config"),
    ],
)
def test_invalid_configs_name_the_offending_path(config, field):  # noqa: ANN001
    with pytest.raises(ValidationFailed) as refused:
        parse_policy(config, CODES)
    assert refused.value.field == field
