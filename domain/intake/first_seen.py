"""Writing many first-seen orders at once: the same rows, lineage and alerts as a webhook's, in a few statements.

    ids = await insert_first_seen(actor, channel.id, [(plan, payload_ref), ...], via="poller",
                                  reason="channel reports {status_code}", auto_allocate=policy.auto_allocate)

Used by file imports and by the poller's pages, inside the caller's
transaction: customers matched by phone hash (created in bulk when new),
orders inserted in one statement, their lines, payments, channel states,
sealed contacts, waybills and ``order.created`` lineage (``rows.plan_rows``)
in another, then each order's alerts and, when the allocation policy says so,
its reservation — exactly what ``apply.insert_order`` does for one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import connections

from domain.actor import Actor
from domain.allocation import order_stock
from domain.intake import fast_insert
from domain.intake.lookup import by_external_ids
from domain.intake.plan import OrderPlan
from domain.intake.rows import plan_rows, raise_plan_alerts
from domain.orders.holds import hold_alert
from domain.masking import phone_hash
from domain.sql import dialect_sql
from domain.statuses import OrderStatus
from domain.stock.reservation_statement import lock_skus
from models import Customer, Order


async def insert_first_seen(actor: Actor, channel_id: int, fresh: Sequence[tuple[OrderPlan, str | None]], *,
                            via: str, reason: str, auto_allocate: bool) -> dict[str, int]:
    """Insert ``fresh`` (plan, payload reference) orders; their ids by external id.

    ``reason`` is the lineage reason, ``{status_code}`` replaced by the channel's code. An order that exists
    already makes the insert fail with ``IntegrityError`` (the caller's transaction rolls back).
    """
    tenant_id = actor.tenant_id
    customers = await _customers(tenant_id, [plan for plan, _ in fresh])
    built = {
        plan.external_id: Order(tenant_id=tenant_id, channel_id=channel_id, customer_id=customers.get(id(plan)),
                                status=plan.status, status_before_hold=plan.status_before_hold,
                                hold_reasons=plan.hold_reasons, **plan.order_fields)
        for plan, _ in fresh
    }
    await fast_insert.insert_all(list(built.values()))
    ids = {external_id: order_id for external_id, order_id in await by_external_ids(tenant_id, channel_id, built, "id")}
    rows = []
    for plan, payload_ref in fresh:
        rows += plan_rows(actor, built[plan.external_id], ids[plan.external_id], plan, payload_ref=payload_ref,
                          reason=reason.format(status_code=plan.state["status_code"]), via=via)
    await fast_insert.insert_all(rows)
    for plan, _ in fresh:
        order_id = ids[plan.external_id]
        await raise_plan_alerts(actor, order_id, plan)
        if plan.hold_reasons:
            built[plan.external_id].id = order_id
            await hold_alert(actor, built[plan.external_id])  # arrived on hold: on the board like any other hold
    allocated = {ids[plan.external_id] for plan, _ in fresh
                 if auto_allocate and plan.status in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID)}
    if not allocated:
        return ids
    # Everything else is written first: from the first stock lock to the commit, only the allocations run.
    orders = await Order.filter(id__in=allocated).order_by("id")
    if len(orders) > 1:
        await lock_skus(tenant_id, (line["sku"] for plan, _ in fresh for line in plan.lines
                                    if ids[plan.external_id] in allocated))
    for order in orders:
        await order_stock.on_created(actor, order)
    return ids


async def _customers(tenant_id: int, plans: list[OrderPlan]) -> dict[int, int]:
    """Customer id per plan (keyed by ``id(plan)``): matched by phone hash, created in bulk when new."""
    by_hash: dict[str, list[OrderPlan]] = {}
    result: dict[int, int] = {}
    for plan in plans:
        customer = plan.customer
        if customer is None:
            continue
        if customer.phone:
            by_hash.setdefault(phone_hash(customer.phone), []).append(plan)
        else:
            created = await Customer.create(tenant_id=tenant_id, name=customer.name, email=customer.email)
            result[id(plan)] = created.id
    if by_hash:
        known = dict(await Customer.filter(tenant_id=tenant_id, phone_hash__in=list(by_hash))
                     .values_list("phone_hash", "id"))
        missing = [h for h in by_hash if h not in known]
        if missing:
            await Customer.bulk_create([
                Customer(tenant_id=tenant_id, name=by_hash[h][0].customer.name,  # type: ignore[union-attr]
                         phone=by_hash[h][0].customer.phone, phone_hash=h, email=_email(by_hash[h]))  # type: ignore[union-attr]
                for h in missing
            ])
            known.update(await Customer.filter(tenant_id=tenant_id, phone_hash__in=missing).values_list("phone_hash", "id"))
        for digest, group in by_hash.items():
            for plan in group:
                result[id(plan)] = known[digest]
        emails = {known[h]: _email(by_hash[h]) for h in by_hash if h not in missing}
        await _fill_emails({customer_id: email for customer_id, email in emails.items() if email})
    return result


def _email(plans: list[OrderPlan]) -> str | None:
    """The first email one buyer's orders in this batch state."""
    return next((plan.customer.email for plan in plans if plan.customer and plan.customer.email), None)


async def _fill_emails(emails: dict[int, str]) -> None:
    """Give known customers without an email the one this batch states, in one statement."""
    if not emails:
        return
    cases = " ".join("WHEN ? THEN ?" for _ in emails)
    params: list[Any] = [value for pair in emails.items() for value in pair]
    ids = list(emails)
    sql = (f'UPDATE "customer" SET "email" = CASE "id" {cases} END '
           f'WHERE "id" IN ({", ".join("?" for _ in ids)}) AND ("email" IS NULL OR "email" = \'\')')
    await connections.get("default").execute_query(dialect_sql(sql, len(params) + len(ids)), [*params, *ids])
