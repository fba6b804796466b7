"""Choosing warehouses for an order: rank them by the configured strategy, then fill.

Pure functions over plain data, so every strategy is testable without a
database, and every plan carries its own explanation: each candidate with its
rank, the figure it was ranked by, and why it won or lost. The order is kept
whole if one warehouse can fill it; lines are split over warehouses only when
the policy allows it and no single warehouse can.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.allocation.geo import Point, distance_km, locate, same_place
from domain.allocation.policy import Policy, RegionRule

ALLOCATED = "ALLOCATED"
SPLIT = "SPLIT"
FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    code: str
    province: str = ""
    city: str = ""
    latitude: float | None = None
    longitude: float | None = None
    priority: int = 100
    #: The warehouse's own handling cost per order (used when the cost policy names none for it).
    handling_cost: Decimal | None = None

    @property
    def point(self) -> Point | None:
        return None if self.latitude is None or self.longitude is None else (self.latitude, self.longitude)


@dataclass(frozen=True, slots=True)
class Need:
    line_id: int
    sku: str
    quantity: int
    category: str = ""


@dataclass(frozen=True, slots=True)
class Destination:
    province: str
    city: str = ""

    @property
    def label(self) -> str:
        return "/".join(part for part in (self.province, self.city) if part) or "an unknown address"


#: (warehouse id, sku) -> units available
Availability = dict[tuple[int, str], int]


@dataclass(frozen=True, slots=True)
class Scored:
    site: Site
    metric: str
    score: float


@dataclass(frozen=True, slots=True)
class Ranking:
    strategy: str
    note: str
    ranked: list[Scored]
    excluded: dict[int, str]
    rule: RegionRule | None = None


@dataclass(slots=True)
class Candidate:
    warehouse_id: int
    code: str
    rank: int | None
    metric: str
    score: float | None
    chosen: bool = False
    line_ids: list[int] = field(default_factory=list)
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "warehouse_id": self.warehouse_id,
            "code": self.code,
            "rank": self.rank,
            "metric": self.metric,
            "score": self.score,
            "chosen": self.chosen,
            "line_ids": self.line_ids,
            "reason": self.reason,
        }


@dataclass(slots=True)
class Plan:
    strategy: str
    outcome: str
    summary: str
    candidates: list[Candidate]
    assignments: dict[int, int] = field(default_factory=dict)  # line id -> warehouse id

    @property
    def ok(self) -> bool:
        return self.outcome != FAILED

    @property
    def chosen(self) -> list[Candidate]:
        return [c for c in self.candidates if c.chosen]


# --- ranking -----------------------------------------------------------------------------------


def _by_priority(sites: list[Site], policy: Policy) -> Ranking:
    listed = {code: index for index, code in enumerate(policy.priority)}

    def metric(site: Site) -> str:
        return f"#{listed[site.code] + 1} in the priority list" if site.code in listed else f"priority {site.priority}"

    ordered = sorted(sites, key=lambda s: (listed.get(s.code, len(listed)), s.priority, s.code))
    return Ranking("priority", "", [Scored(s, metric(s), float(i)) for i, s in enumerate(ordered)], {})


def match_region(policy: Policy, destination: Destination) -> RegionRule | None:
    """The most specific rule: province and city, then province, then "*"."""
    best: tuple[int, RegionRule] | None = None
    for rule in policy.regions:
        if rule.province == "*":
            strength = 0
        elif not same_place(rule.province, destination.province):
            continue
        elif rule.city is None:
            strength = 1
        elif same_place(rule.city, destination.city):
            strength = 2
        else:
            continue
        if best is None or strength > best[0]:
            best = (strength, rule)
    return best[1] if best else None


def _by_region(sites: list[Site], policy: Policy, destination: Destination) -> Ranking | str:
    rule = match_region(policy, destination)
    if rule is None:
        return f"no region rule covers {destination.label}"
    by_code = {site.code: site for site in sites}
    ranked = [
        Scored(by_code[code], f"#{index + 1} in the {rule.label} rule", float(index))
        for index, code in enumerate(rule.warehouses)
        if code in by_code
    ]
    excluded = {site.id: f"not in the region rule for {rule.label}" for site in sites if site.code not in rule.warehouses}
    return Ranking("region", f"rule {rule.label}", ranked, excluded, rule)


def _distances(sites: list[Site], policy: Policy, destination: Destination) -> tuple[dict[int, float], dict[int, str]] | str:
    target = locate(destination.province, destination.city)
    if target is None:
        return f"no coordinates for {destination.label}"
    distances: dict[int, float] = {}
    excluded: dict[int, str] = {}
    radius = policy.service_radius_km
    for site in sites:
        if site.point is None:
            excluded[site.id] = "the warehouse has no coordinates"
            continue
        km = distance_km(site.point, target)
        if radius is not None and km > radius:
            excluded[site.id] = f"{km:,.0f} km away, beyond the {radius:,.0f} km service radius"
        else:
            distances[site.id] = km
    return distances, excluded


def _by_distance(sites: list[Site], policy: Policy, destination: Destination) -> Ranking | str:
    found = _distances(sites, policy, destination)
    if isinstance(found, str):
        return found
    distances, excluded = found
    ranked = sorted((s for s in sites if s.id in distances), key=lambda s: (distances[s.id], s.priority, s.code))
    return Ranking("nearest", "", [Scored(s, f"{distances[s.id]:,.0f} km", round(distances[s.id], 1)) for s in ranked], excluded)


def _by_cost(sites: list[Site], policy: Policy, destination: Destination) -> Ranking | str:
    assert policy.cost is not None
    found = _distances(sites, policy, destination)
    if isinstance(found, str):
        return found
    distances, excluded = found
    model = policy.cost
    scored = []
    for site in sites:
        if site.id not in distances:
            continue
        shipping = model.shipping_base + model.shipping_per_km * Decimal(str(round(distances[site.id], 1)))
        handling, origin = model.handling_for(site.code, site.handling_cost)
        delay = model.delay_penalty_per_day * model.lead_days_of(site.code)
        total = (shipping + handling + delay).quantize(Decimal("0.01"))
        own = " (the warehouse's own)" if origin == "warehouse" else ""
        metric = f"cost {total} = shipping {shipping.quantize(Decimal('0.01'))} + handling {handling}{own} + delay {delay}"
        scored.append(Scored(site, metric, float(total)))
    scored.sort(key=lambda s: (s.score, s.site.priority, s.site.code))
    return Ranking("cost", "", scored, excluded)


_STRATEGIES = {"region": _by_region, "nearest": _by_distance, "cost": _by_cost}


def rank(sites: list[Site], policy: Policy, destination: Destination) -> Ranking:
    """Rank with the policy's strategy; fall back when it cannot judge this destination."""
    notes = []
    for strategy in (policy.strategy, policy.fallback, "priority"):
        if strategy == "priority":
            ranking = _by_priority(sites, policy)
            break
        outcome = _STRATEGIES[strategy](sites, policy, destination)
        if isinstance(outcome, Ranking):
            ranking = outcome
            break
        notes.append(f"{strategy}: {outcome}")
    if notes:
        note = "; ".join(notes) + f"; fell back to {ranking.strategy}"
        return Ranking(ranking.strategy, note + (f"; {ranking.note}" if ranking.note else ""), ranking.ranked, ranking.excluded, ranking.rule)
    return ranking


# --- filling -----------------------------------------------------------------------------------


def category_sites(need: Need, policy: Policy, rule: RegionRule | None) -> tuple[str, ...] | None:
    """The only warehouses a line may ship from because of its SKU category, if any rule says so."""
    if not need.category:
        return None
    if rule is not None and need.category in rule.categories:
        return rule.categories[need.category]
    return policy.categories.get(need.category)


class _Filler:
    """Which candidates can take which lines, given eligibility and what is available."""

    def __init__(self, ranking: Ranking, sites: list[Site], needs: list[Need], available: Availability, policy: Policy) -> None:
        self.ranking = ranking
        self.needs = needs
        self.available = dict(available)
        self.allowed = {need.line_id: category_sites(need, policy, ranking.rule) for need in needs}
        ranked_ids = {scored.site.id for scored in ranking.ranked}
        admitted = [
            site
            for codes in self.allowed.values()
            if codes
            for code in codes
            for site in sites
            if site.code == code and site.id not in ranked_ids
        ]
        self.pool: list[Scored] = list(ranking.ranked) + [
            Scored(site, "admitted by a category rule", float("inf")) for site in dict.fromkeys(admitted)
        ]
        self.ranked_ids = ranked_ids

    def refusal(self, site: Site, need: Need) -> str | None:
        allowed = self.allowed[need.line_id]
        if allowed is not None:
            return None if site.code in allowed else f"{need.category} items ship only from {', '.join(allowed)}"
        if site.id not in self.ranked_ids:
            return self.ranking.excluded.get(site.id, "not ranked by the strategy")
        return None

    def problems(self, site: Site, needs: Iterable[Need]) -> list[str]:
        needs = list(needs)
        problems = [why for need in needs if (why := self.refusal(site, need))]
        wanted = Counter[str]()
        for need in needs:
            wanted[need.sku] += need.quantity
        for sku, quantity in wanted.items():
            have = self.available.get((site.id, sku), 0)
            if have < quantity:
                problems.append(f"{sku}: needs {quantity}, {have} available")
        return list(dict.fromkeys(problems))

    def take(self, site: Site, needs: list[Need], *, commit: bool = True) -> list[Need]:
        """The lines this site can fill from what is left; ``commit`` takes their units."""
        left = self.available if commit else dict(self.available)
        taken = []
        for need in needs:
            key = (site.id, need.sku)
            if self.refusal(site, need) is None and left.get(key, 0) >= need.quantity:
                left[key] -= need.quantity
                taken.append(need)
        return taken


def plan(sites: list[Site], needs: list[Need], available: Availability, policy: Policy, destination: Destination) -> Plan:
    """Where each line should be reserved, with every candidate's reason."""
    ranking = rank(sites, policy, destination)
    filler = _Filler(ranking, sites, needs, available, policy)
    label = ranking.strategy + (f" ({ranking.note})" if ranking.note else "")
    candidates = {
        scored.site.id: Candidate(scored.site.id, scored.site.code, index + 1 if scored.site.id in filler.ranked_ids else None,
                                  scored.metric, scored.score if scored.score != float("inf") else None)
        for index, scored in enumerate(filler.pool)
    }
    for site in sites:
        if site.id not in candidates:
            candidates[site.id] = Candidate(site.id, site.code, None, "", None, reason=ranking.excluded.get(site.id, "not considered"))
    problems = {scored.site.id: filler.problems(scored.site, needs) for scored in filler.pool}
    ordered = [candidates[scored.site.id] for scored in filler.pool] + [c for c in candidates.values() if c.rank is None and c.metric == ""]

    winner = next((scored for scored in filler.pool if not problems[scored.site.id]), None)
    if winner is not None:
        won = candidates[winner.site.id]
        won.chosen, won.line_ids = True, [need.line_id for need in needs]
        won.reason = "ranked first and can fill the whole order" if ordered[0] is won else "the best-ranked warehouse that can fill the whole order"
        passed = True
        for candidate in ordered:
            if candidate is won:
                passed = False
            elif candidate.metric and passed:
                candidate.reason = "cannot fill: " + "; ".join(problems[candidate.warehouse_id])
            elif candidate.metric:
                candidate.reason = f"ranked below {won.code} ({candidate.metric} vs {won.metric})"
        return Plan(ranking.strategy, ALLOCATED, f"{label}: {won.code}", ordered, {need.line_id: won.warehouse_id for need in needs})

    for candidate in ordered:
        if candidate.metric:
            candidate.reason = "cannot fill the whole order: " + "; ".join(problems[candidate.warehouse_id])
    if policy.allow_split:
        assignments, unplaced = _split(filler, needs)
        if not unplaced:
            for site_id, line_ids in _grouped(assignments).items():
                chosen = candidates[site_id]
                chosen.chosen, chosen.line_ids = True, line_ids
                chosen.reason = "fills " + ", ".join(f"{n.sku} x{n.quantity}" for n in needs if n.line_id in line_ids)
            codes = ", ".join(c.code for c in ordered if c.chosen)
            return Plan(ranking.strategy, SPLIT, f"{label}: split over {codes}; no single warehouse can fill the order", ordered, assignments)
        lines = ", ".join(f"{n.sku} x{n.quantity}" for n in unplaced)
        why = f"even split over warehouses, nowhere can take {lines}"
    else:
        why = "no single warehouse can fill the whole order and splitting is not allowed"
    shortage = _shortage(needs, sites, available)
    return Plan(ranking.strategy, FAILED, f"{label}: {why}" + (f" ({shortage})" if shortage else ""), ordered)


def _grouped(assignments: dict[int, int]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = {}
    for line_id, site_id in assignments.items():
        groups.setdefault(site_id, []).append(line_id)
    return groups


def _split(filler: _Filler, needs: list[Need]) -> tuple[dict[int, int], list[Need]]:
    """Greedy set cover: repeatedly take the warehouse that fills the most remaining lines (best rank on ties).

    Returns the assignments and the lines nowhere could take.
    """
    remaining = list(needs)
    assignments: dict[int, int] = {}
    while remaining:
        best: tuple[int, Site] | None = None
        for scored in filler.pool:
            count = len(filler.take(scored.site, remaining, commit=False))
            if count and (best is None or count > best[0]):
                best = (count, scored.site)
        if best is None:
            break
        taken = filler.take(best[1], remaining)
        assignments.update({need.line_id: best[1].id for need in taken})
        remaining = [need for need in remaining if need not in taken]
    return assignments, remaining


def _shortage(needs: list[Need], sites: list[Site], available: Availability) -> str:
    """Lines that no warehouse at all can fill, with what each has."""
    short = []
    for need in needs:
        if not any(available.get((site.id, need.sku), 0) >= need.quantity for site in sites):
            have = ", ".join(f"{site.code} {available.get((site.id, need.sku), 0)}" for site in sites)
            short.append(f"no warehouse has {need.quantity} of {need.sku} ({have})")
    return "; ".join(short)


def manual_plan(site: Site, needs: list[Need], available: Availability, reason: str) -> Plan:
    """An operator's choice: the given warehouse or nothing."""
    wanted = Counter[str]()
    for need in needs:
        wanted[need.sku] += need.quantity
    problems = [
        f"{sku}: needs {quantity}, {available.get((site.id, sku), 0)} available"
        for sku, quantity in wanted.items()
        if available.get((site.id, sku), 0) < quantity
    ]
    candidate = Candidate(site.id, site.code, 1, "chosen by an operator", None)
    if problems:
        candidate.reason = "cannot fill: " + "; ".join(problems)
        return Plan("manual", FAILED, f"manual: {site.code} cannot fill the order ({'; '.join(problems)})", [candidate])
    candidate.chosen, candidate.line_ids = True, [need.line_id for need in needs]
    candidate.reason = reason or "chosen by an operator"
    return Plan("manual", ALLOCATED, f"manual: {site.code}" + (f" ({reason})" if reason else ""), [candidate],
                {need.line_id: site.id for need in needs})
