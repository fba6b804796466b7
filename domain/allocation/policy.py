"""Allocation strategies as data: a JSON config per tenant (optionally per channel), validated on save.

    {
      "strategy": "region",              # priority | region | nearest | cost
      "fallback": "priority",            # when region has no rule, or nearest/cost has no coordinates
      "allow_split": false,              # split lines over warehouses if no single one can fill
      "auto_allocate": true,             # allocate (and reserve) as soon as an order is paid
      "presale_hold_hours": 72,          # deposit orders keep their reservation this long for the balance
      "priority": ["SH", "GZ", "TJ"],    # optional: overrides the warehouses' own priority
      "regions": [{"province": "广东", "city": "深圳", "warehouses": ["GZ", "SH"],
                   "categories": {"bulky": ["TJ"]}}],
      "categories": {"bulky": ["TJ"]},   # SKU category -> the only warehouses it ships from
      "service_radius_km": 1500,
      "cost": {"shipping_base": "6", "shipping_per_km": "0.004", "handling": {"*": "2.5", "TJ": "1.8"},
               "lead_days": {"*": 0, "TJ": 1}, "delay_penalty_per_day": "8"}
    }

A tenant with no config allocates by warehouse priority and only when asked.

Handling cost per warehouse: a code the policy's ``cost.handling`` names
wins; else the warehouse's own ``handling_cost`` (set with the warehouse);
else the policy's ``"*"``; else 0. A policy may name a paused warehouse: it
stays valid, and allocation skips that warehouse while it is paused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from domain.actor import Actor, Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.unit_of_work import unit_of_work
from events import log
from models import AllocationPolicy, Channel, Warehouse

STRATEGIES = ("priority", "region", "nearest", "cost")
TENANT_SCOPE = "tenant"
_KEYS = {
    "strategy", "fallback", "allow_split", "auto_allocate", "presale_hold_hours", "priority", "regions",
    "categories", "service_radius_km", "cost",
}
_COST_KEYS = {"shipping_base", "shipping_per_km", "handling", "lead_days", "delay_penalty_per_day"}


@dataclass(frozen=True, slots=True)
class RegionRule:
    province: str
    city: str | None
    warehouses: tuple[str, ...]
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.province}/{self.city}" if self.city else self.province


@dataclass(frozen=True, slots=True)
class CostModel:
    shipping_base: Decimal
    shipping_per_km: Decimal
    handling: dict[str, Decimal]
    lead_days: dict[str, int]
    delay_penalty_per_day: Decimal

    def handling_of(self, code: str) -> Decimal:
        return self.handling_for(code, None)[0]

    def handling_for(self, code: str, own: Decimal | None) -> tuple[Decimal, str]:
        """The handling cost of a warehouse and where it came from: the policy by code, the warehouse, the policy's "*"."""
        if code in self.handling:
            return self.handling[code], "policy"
        if own is not None:
            return own, "warehouse"
        return self.handling.get("*", Decimal("0")), "policy"

    def lead_days_of(self, code: str) -> int:
        return self.lead_days.get(code, self.lead_days.get("*", 0))


@dataclass(frozen=True, slots=True)
class Policy:
    strategy: str = "priority"
    fallback: str = "priority"
    allow_split: bool = False
    auto_allocate: bool = False
    presale_hold_hours: int = 72
    priority: tuple[str, ...] = ()
    regions: tuple[RegionRule, ...] = ()
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    service_radius_km: float | None = None
    cost: CostModel | None = None
    scope: str = ""
    version: int | None = None


DEFAULT_POLICY = Policy()


class _Check:
    """Walks a config, raising ``ValidationFailed`` with the JSON path of the first problem."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes

    @staticmethod
    def fail(path: str, message: str) -> NoReturn:
        raise ValidationFailed(f"{path}: {message}", field=path)

    def obj(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
        unknown = sorted(set(value) - allowed)
        if unknown:
            self.fail(path, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        return value

    def choice(self, value: Any, path: str, options: tuple[str, ...]) -> str:
        if value not in options:
            self.fail(path, f"must be one of {', '.join(options)}")
        return value

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, "must be true or false")
        return value

    def number(self, value: Any, path: str, *, positive: bool = False) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(path, "must be a number (a string keeps decimals exact)")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, f"{value!r} is not a number")
        if not number.is_finite() or number < 0 or (positive and number == 0):
            self.fail(path, "must be positive" if positive else "must not be negative")
        return number

    def whole(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(path, "must be a whole number, not negative")
        return value

    def codes_list(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value or not all(isinstance(code, str) for code in value):
            self.fail(path, "must be a non-empty list of warehouse codes")
        unknown = [code for code in value if code not in self.codes]
        if unknown:
            self.fail(path, f"unknown warehouse code(s) {', '.join(unknown)}")
        if len(set(value)) != len(value):
            self.fail(path, "lists a warehouse twice")
        return tuple(value)

    def categories(self, value: Any, path: str) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            self.fail(path, "must map SKU categories to warehouse code lists")
        return {str(category): self.codes_list(codes, f"{path}.{category}") for category, codes in value.items()}

    def per_warehouse(self, value: Any, path: str, convert: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, 'must map warehouse codes (or "*") to values')
        for code in value:
            if code != "*" and code not in self.codes:
                self.fail(f"{path}.{code}", "unknown warehouse code")
        return {code: convert(amount, f"{path}.{code}") for code, amount in value.items()}

    def region(self, value: Any, path: str) -> RegionRule:
        rule = self.obj(value, path, {"province", "city", "warehouses", "categories"})
        province = rule.get("province")
        if not isinstance(province, str) or not province.strip():
            self.fail(f"{path}.province", 'must name a province (or "*" for everywhere else)')
        city = rule.get("city")
        if city is not None and (not isinstance(city, str) or not city.strip()):
            self.fail(f"{path}.city", "must be a city name or left out")
        return RegionRule(
            province=province.strip(),
            city=city.strip() if city else None,
            warehouses=self.codes_list(rule.get("warehouses"), f"{path}.warehouses"),
            categories=self.categories(rule.get("categories", {}), f"{path}.categories"),
        )

    def cost(self, value: Any, path: str) -> CostModel:
        raw = self.obj(value, path, _COST_KEYS)
        return CostModel(
            shipping_base=self.number(raw.get("shipping_base", 0), f"{path}.shipping_base"),
            shipping_per_km=self.number(raw.get("shipping_per_km", 0), f"{path}.shipping_per_km"),
            handling=self.per_warehouse(raw.get("handling", {}), f"{path}.handling", self.number),
            lead_days=self.per_warehouse(raw.get("lead_days", {}), f"{path}.lead_days", self.whole),
            delay_penalty_per_day=self.number(raw.get("delay_penalty_per_day", 0), f"{path}.delay_penalty_per_day"),
        )


def parse_policy(config: Any, warehouse_codes: set[str], *, scope: str = "", version: int | None = None) -> Policy:
    """Validate a config against the tenant's warehouses and turn it into a ``Policy``."""
    check = _Check(warehouse_codes)
    raw = check.obj(config, "config", _KEYS)
    strategy = check.choice(raw.get("strategy"), "config.strategy", STRATEGIES)
    fallback = check.choice(raw.get("fallback", "priority"), "config.fallback", ("priority", "region", "nearest"))
    regions = raw.get("regions", [])
    if not isinstance(regions, list):
        check.fail("config.regions", "must be a list of rules")
    radius = raw.get("service_radius_km")
    policy = Policy(
        strategy=strategy,
        fallback=fallback,
        allow_split=check.flag(raw.get("allow_split", False), "config.allow_split"),
        auto_allocate=check.flag(raw.get("auto_allocate", True), "config.auto_allocate"),
        presale_hold_hours=check.whole(raw.get("presale_hold_hours", 72), "config.presale_hold_hours"),
        priority=check.codes_list(raw["priority"], "config.priority") if "priority" in raw else (),
        regions=tuple(check.region(rule, f"config.regions.{i}") for i, rule in enumerate(regions)),
        categories=check.categories(raw.get("categories", {}), "config.categories"),
        service_radius_km=float(check.number(radius, "config.service_radius_km", positive=True)) if radius is not None else None,
        cost=check.cost(raw["cost"], "config.cost") if "cost" in raw else None,
        scope=scope,
        version=version,
    )
    if strategy == "region" and not policy.regions:
        check.fail("config.regions", "the region strategy needs at least one rule")
    if strategy == "cost" and policy.cost is None:
        check.fail("config.cost", "the cost strategy needs a cost model")
    if fallback == strategy and strategy != "priority":
        check.fail("config.fallback", "must differ from the strategy")
    if fallback == "region" and not policy.regions:
        check.fail("config.fallback", "falling back to region needs region rules")
    if policy.presale_hold_hours == 0:
        check.fail("config.presale_hold_hours", "must be at least 1")
    return policy


def scope_of(channel_id: int | None) -> str:
    return TENANT_SCOPE if channel_id is None else f"channel:{channel_id}"


async def _codes(tenant_id: int) -> set[str]:
    return set(await Warehouse.filter(tenant_id=tenant_id).values_list("code", flat=True))


async def policy_for(tenant_id: int, channel_id: int | None) -> Policy:
    """The channel's own policy, else the tenant's, else the default."""
    rows = {row.scope: row for row in await AllocationPolicy.filter(tenant_id=tenant_id, scope__in=[scope_of(channel_id), TENANT_SCOPE])}
    row = rows.get(scope_of(channel_id)) or rows.get(TENANT_SCOPE)
    if row is None:
        return DEFAULT_POLICY
    return parse_policy(row.config, await _codes(tenant_id), scope=row.scope, version=row.version)


def policy_among(stored: dict[str, tuple[Any, int]], channel_id: int | None, warehouse_codes: set[str]) -> Policy:
    """``policy_for`` from rows already read: ``stored`` maps a scope to its (config, version)."""
    scope = scope_of(channel_id) if scope_of(channel_id) in stored else TENANT_SCOPE
    if scope not in stored:
        return DEFAULT_POLICY
    config, version = stored[scope]
    return parse_policy(config, warehouse_codes, scope=scope, version=version)


async def save_policy(actor: Actor, config: Any, channel_code: str | None = None) -> AllocationPolicy:
    """Validate and store a config for the tenant (or one channel); the previous one is kept in the lineage."""
    if actor.role not in (Role.ADMIN, Role.OPS):
        raise Forbidden(f"role {actor.role} may not change allocation policy")
    channel_id = None
    if channel_code is not None:
        channel = await Channel.filter(tenant_id=actor.tenant_id, code=channel_code).first()
        if channel is None:
            raise NotFound(f"no channel with code {channel_code!r}", field="channel")
        channel_id = channel.id
    parse_policy(config, await _codes(actor.tenant_id))
    scope = scope_of(channel_id)
    async with unit_of_work():
        row = await AllocationPolicy.filter(tenant_id=actor.tenant_id, scope=scope).select_for_update().first()
        before = {"version": row.version, "config": row.config} if row else None
        if row is None:
            row = await AllocationPolicy.create(
                tenant_id=actor.tenant_id, scope=scope, channel_id=channel_id, config=config, updated_by=actor.name
            )
        else:
            row.config, row.version, row.updated_by = config, row.version + 1, actor.name
            await row.save()
        await log.append(
            tenant_id=actor.tenant_id,
            order_id=None,
            type="allocation.policy_set",
            actor=actor.name,
            source=actor.source,
            reason=f"allocation policy for {scope}",
            before=before,
            after={"scope": scope, "version": row.version, "config": config},
        )
    return row
