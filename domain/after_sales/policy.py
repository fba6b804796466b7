"""A tenant's after-sale policy as data: small refunds approved at once, risky buyers never, and the deadlines.

    policy = await policy_for(tenant_id, channel_id)       # the channel's row, else the tenant's, else the defaults
    policy.auto_approve_refund_up_to                       # Decimal("200")
    await set_policy(actor, None, {"auto_approve_refund_up_to": "150", "respond_hours": 24})

Rows are ``AfterSalePolicy`` (one per channel, or tenant-wide with no
channel); ``config`` keys, all optional:

- ``auto_approve_refund_up_to``: a refund-only request of at most this amount
  is approved on arrival (default ¥200; 0 turns it off). Returns and
  exchanges are never auto-approved: goods have to come back first.
- ``respond_hours`` (48): ``respond_by`` of a new request.
- ``return_days`` (7): ``return_by`` of an approved return or exchange.
- ``risky_requests_in_30_days`` (3): the risk signal. A buyer is risky when
  they already opened this many after-sales (rejected ones aside) in the
  last 30 days, on any channel of the tenant, or when the order carries a
  risky tag; a risky buyer's requests always wait for a person.
- ``risky_tags`` (``["high_risk"]``): order tags that mark a risky buyer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.expressions import Q

from domain.actor import Actor, Role
from domain.after_sales.machine import Kind
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.statuses import AfterSaleStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import AfterSale, AfterSalePolicy, Channel, Order, OrderTag

RISK_WINDOW = timedelta(days=30)
DEFAULTS: dict[str, Any] = {
    "auto_approve_refund_up_to": "200",
    "respond_hours": 48,
    "return_days": 7,
    "risky_requests_in_30_days": 3,
    "risky_tags": ["high_risk"],
}
POLICY_ROLES = frozenset({Role.ADMIN, Role.OPS})


@dataclass(frozen=True, slots=True)
class Policy:
    auto_approve_refund_up_to: Decimal
    respond_hours: int
    return_days: int
    risky_requests_in_30_days: int
    risky_tags: tuple[str, ...]

    def as_config(self) -> dict[str, Any]:
        return {"auto_approve_refund_up_to": str(self.auto_approve_refund_up_to), "respond_hours": self.respond_hours,
                "return_days": self.return_days, "risky_requests_in_30_days": self.risky_requests_in_30_days,
                "risky_tags": list(self.risky_tags)}

    @property
    def actor_name(self) -> str:
        """Who an automatic approval is, in the lineage: ``policy: auto-approve ≤ ¥200``."""
        return f"policy: auto-approve ≤ ¥{_yuan(self.auto_approve_refund_up_to)}"


def _yuan(amount: Decimal) -> str:
    return str(amount.quantize(Decimal(1))) if amount == amount.to_integral_value() else str(amount)


def _whole(config: dict[str, Any], key: str, low: int, high: int) -> int:
    value = config[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{key} must be a whole number from {low} to {high}", field=key)
    return value


def parse(config: Any) -> Policy:
    """A policy from its JSON (missing keys take the defaults); ``ValidationFailed`` naming a bad key."""
    if not isinstance(config, dict):
        raise ValidationFailed("the policy must be a JSON object", field="config")
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValidationFailed(f"unknown policy keys: {', '.join(unknown)[:200]} (known: {', '.join(DEFAULTS)})",
                               field=unknown[0])
    merged = {**DEFAULTS, **config}
    raw = merged["auto_approve_refund_up_to"]
    try:
        if isinstance(raw, (bool, float)):
            raise InvalidOperation
        threshold = Decimal(str(raw))
    except InvalidOperation:
        raise ValidationFailed("auto_approve_refund_up_to must be an amount like \"200\" or \"199.50\"",
                               field="auto_approve_refund_up_to") from None
    if not threshold.is_finite() or threshold < 0 or threshold > Decimal("1000000") or threshold != round(threshold, 2):
        raise ValidationFailed("auto_approve_refund_up_to must be 0 to 1000000 with at most 2 decimals",
                               field="auto_approve_refund_up_to")
    tags = merged["risky_tags"]
    if not isinstance(tags, list) or len(tags) > 20 or not all(isinstance(t, str) and 0 < len(t.strip()) <= 64 for t in tags):
        raise ValidationFailed("risky_tags must be a list of at most 20 tags", field="risky_tags")
    return Policy(
        auto_approve_refund_up_to=threshold.quantize(Decimal("0.01")),
        respond_hours=_whole(merged, "respond_hours", 1, 24 * 30),
        return_days=_whole(merged, "return_days", 1, 90),
        risky_requests_in_30_days=_whole(merged, "risky_requests_in_30_days", 1, 1000),
        risky_tags=tuple(sorted({t.strip() for t in tags})),
    )


DEFAULT_POLICY = parse({})


async def policy_for(tenant_id: int, channel_id: int | None) -> Policy:
    """The channel's policy, else the tenant-wide one, else the defaults."""
    where = Q(channel_id__isnull=True) | Q(channel_id=channel_id) if channel_id is not None else Q(channel_id__isnull=True)
    rows = {row.channel_id: row for row in await AfterSalePolicy.filter(where, tenant_id=tenant_id)}  # type: ignore[attr-defined]
    row = (rows.get(channel_id) if channel_id is not None else None) or rows.get(None)
    return parse(row.config) if row is not None else DEFAULT_POLICY


async def set_policy(actor: Actor, channel_id: int | None, config: dict[str, Any]) -> AfterSalePolicy:
    """Save the tenant-wide policy (``channel_id`` None) or one channel's; validated first, lineage after."""
    if actor.role not in POLICY_ROLES:
        raise Forbidden(f"role {actor.role} may not change the after-sale policy; an admin or ops key may")
    policy = parse(config)
    if channel_id is not None and not await Channel.exists(id=channel_id, tenant_id=actor.tenant_id):
        raise NotFound("no such channel", field="channel")
    async with unit_of_work():
        scope = {"channel_id": channel_id} if channel_id is not None else {"channel_id__isnull": True}
        existing = await AfterSalePolicy.filter(tenant_id=actor.tenant_id, **scope).select_for_update().first()
        before = dict(existing.config) if existing else None
        if existing is None:
            row = await AfterSalePolicy.create(tenant_id=actor.tenant_id, channel_id=channel_id, config=policy.as_config())
        else:
            existing.config = policy.as_config()
            await existing.save()
            row = existing
        await log.append(tenant_id=actor.tenant_id, order_id=None, type="after_sale.policy_set", actor=actor.name,
                         source=actor.source, reason=f"channel {channel_id}" if channel_id else "tenant-wide",
                         before=before, after={"channel_id": channel_id, **policy.as_config()})
    return row


async def risk_of(policy: Policy, order: Order, *, excluding: int | None = None) -> str | None:
    """Why the buyer of ``order`` is risky (see the module docstring), or ``None``."""
    if policy.risky_tags:
        tags = await OrderTag.filter(order_id=order.id, tag__in=list(policy.risky_tags)).values_list("tag", flat=True)
        if tags:
            return f"the order is tagged {', '.join(sorted(tags))}"
    customer_id = order.customer_id  # type: ignore[attr-defined]
    if customer_id is None:
        return None
    since = datetime.now(UTC) - RISK_WINDOW
    recent = AfterSale.filter(tenant_id=order.tenant_id, order__customer_id=customer_id,  # type: ignore[attr-defined]
                              created_at__gte=since).exclude(status=AfterSaleStatus.REJECTED)
    if excluding is not None:
        recent = recent.exclude(id=excluding)
    count = await recent.count()
    if count >= policy.risky_requests_in_30_days:
        return f"the buyer opened {count} after-sales in the last 30 days"
    return None


def auto_approvable(policy: Policy, kind: str, amount: Decimal, risk: str | None) -> bool:
    """Refund-only, within the threshold, not risky."""
    return kind == Kind.REFUND_ONLY and risk is None and Decimal(0) < amount <= policy.auto_approve_refund_up_to
