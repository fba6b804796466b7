"""Allocation use cases: place an order's lines in warehouses, reserve them, and record why.

The plan is made from a snapshot of availability (no locks), then the
reservations are taken with conditional UPDATEs inside a savepoint. If another
order took the stock in between, the savepoint rolls back and the order is
planned again from fresh levels, a few times at most. (When a refusal writes
nothing, as on PostgreSQL, the savepoint and its two round
trips are skipped: ``reservations.refusal_writes_nothing``.) Every decision, also a
failed automatic one, is stored with its candidates and reasons.

On PostgreSQL an order in no merge group is allocated in six statements:
the group lock (two, first in the transaction so it needs no savepoint), the
plan's inputs with the policy (``one_trip.read``), the reservation, and the
decision with the order's move and lineage (``one_trip.write``). SQLite and
merged groups take the step-by-step path; both write the same rows.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from domain.actor import Actor
from domain.alerts.kinds import AlertState
from domain.alerts.raising import clear_alerts
from domain.allocation import groups, one_trip
from domain.allocation.freezes import SCOPE as FREEZE_SCOPE
from domain.allocation.freezes import frozen_skus
from domain.allocation import strategies as allocation
from domain.allocation.pick_queue import default_ship_by
from domain.allocation.policy import TENANT_SCOPE, Policy, policy_among, policy_for, scope_of
from domain.errors import (
    Conflict,
    IllegalTransition,
    InsufficientStock,
    NotFound,
    ValidationFailed,
)
from domain.order_machine import MoveContext, check_transition
from domain.order_writes import lock_order, require_writer, save_with_event
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.stock import reservations
from domain.stock.reservations import Claim, ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from events import reasons
from models import (
    Alert,
    AllocationDecision,
    Order,
    OrderLine,
    Reservation,
    Sku,
    Stock,
    Warehouse,
    WarehouseSystems,
)
from models.order import order_no

#: Plan-and-reserve rounds before giving up when other orders keep taking the stock.
ATTEMPTS = 3
#: The alert an order carries while it is paid but could not be allocated (a backorder).
ALLOCATION_FAILED = "allocation_failed"


class AllocationFailed(InsufficientStock):
    """No warehouse (or allowed combination) can fill the order; ``plan`` says why for each candidate."""

    def __init__(self, plan: allocation.Plan) -> None:
        super().__init__(f"cannot allocate: {plan.summary}", field="id")
        self.plan = plan


async def unallocated_lines(order: Order) -> list[OrderLine]:
    """Lines with no live (active or shipped) reservation."""
    taken = Subquery(Reservation.filter(order_id=order.id, line_slot__isnull=False).values("line_id"))
    return list(await OrderLine.filter(order_id=order.id).exclude(id__in=taken).order_by("id"))


async def _inputs(
    order: Order, lines: list[OrderLine], *, manual: bool = False
) -> tuple[list[Warehouse], list[allocation.Need], allocation.Availability]:
    """Active unpaused warehouses, the lines as needs, and availability.

    ``manual`` (an operator named the warehouse): the plan ignores SKU categories, so they are not read.
    """
    paused = Subquery(WarehouseSystems.filter(tenant_id=order.tenant_id, breaker_open=True).values("warehouse_id"))  # type: ignore[attr-defined]
    warehouses = list(await Warehouse.filter(tenant_id=order.tenant_id, active=True).exclude(id__in=paused).order_by("id"))  # type: ignore[attr-defined]
    skus = {line.sku for line in lines}
    categories: dict[str, str] = {}
    if not manual:
        categories = dict(await Sku.filter(tenant_id=order.tenant_id, code__in=skus).values_list("code", "category"))  # type: ignore[attr-defined]
    needs = [allocation.Need(line.id, line.sku, line.quantity, categories.get(line.sku, "")) for line in lines]
    levels = await Stock.filter(warehouse_id__in=[w.id for w in warehouses], sku__in=skus).values_list(
        "warehouse_id", "sku", "on_hand", "reserved"
    )
    return warehouses, needs, {(wid, sku): on_hand - reserved for wid, sku, on_hand, reserved in levels}


async def breaker_paused(tenant_id: int) -> dict[int, str]:
    """Warehouses whose stock-drift breaker is open (ERP and WMS disagree): skipped like paused ones, with why."""
    return dict(await WarehouseSystems.filter(tenant_id=tenant_id, breaker_open=True).values_list("warehouse_id", "breaker_reason"))


async def refuse_if_breaker_open(tenant_id: int, warehouse_id: int) -> None:
    reason = (await breaker_paused(tenant_id)).get(warehouse_id)
    if reason is not None:
        raise Conflict(f"allocation from this warehouse is paused by its stock-drift breaker: {reason}"[:300],
                       field="warehouseId")


def _site(warehouse: Warehouse) -> allocation.Site:
    return allocation.Site(warehouse.id, warehouse.code, warehouse.province, warehouse.city,
                           warehouse.latitude, warehouse.longitude, warehouse.priority, warehouse.handling_cost)


async def _plan(order: Order, lines: list[OrderLine], policy: Policy, warehouse_id: int | None, reason: str) -> tuple[allocation.Plan, dict[int, Warehouse]]:
    warehouses, needs, available = await _inputs(order, lines, manual=warehouse_id is not None)
    return await _decide(order, warehouses, needs, available, policy, warehouse_id, reason)


async def _decide(
    order: Order, warehouses: list[Warehouse], needs: list[allocation.Need], available: allocation.Availability,
    policy: Policy, warehouse_id: int | None, reason: str,
) -> tuple[allocation.Plan, dict[int, Warehouse]]:
    """The plan from its inputs, however they were read; the warehouses by id."""
    by_id = {w.id: w for w in warehouses}
    if warehouse_id is not None:
        if warehouse_id not in by_id:
            await refuse_if_breaker_open(order.tenant_id, warehouse_id)  # type: ignore[attr-defined]
            raise NotFound("no such active warehouse", field="warehouseId")
        return allocation.manual_plan(_site(by_id[warehouse_id]), needs, available, reason), by_id
    destination = allocation.Destination(order.ship_province, order.ship_city)
    return allocation.plan([_site(w) for w in warehouses], needs, available, policy, destination), by_id


async def place(
    actor: Actor,
    order: Order,
    *,
    policy: Policy,
    warehouse_id: int | None = None,
    kind: ReservationKind = ReservationKind.ORDER,
    expires_at: datetime | None = None,
    reason: str = "",
    members: list[Order] | None = None,
) -> allocation.Plan:
    """Plan and reserve the order's unallocated lines (order locked, in a transaction), or raise ``AllocationFailed``.

    A merge leader's members (``groups``) are planned with it as one parcel (no
    split, all at one warehouse), each reserved under its own order in the same
    savepoint, and move to ALLOCATED with it. A member is placed only at the
    warehouse its leader is reserved at, and refused while the leader has none.
    ``members``: the leader's live members when the caller has already locked them
    (``groups.lock_group``); read and locked here when ``None``.
    """
    if order.merged_into_id is not None:  # type: ignore[attr-defined]
        members = []
        at = await groups.reserved_warehouse([order.merged_into_id])  # type: ignore[attr-defined]
        if at is None:
            groups.refuse_member(order, "allocate")
        warehouse_id = groups.pinned(warehouse_id, at)  # type: ignore[arg-type]
    elif members is None:
        members = await groups.members_of(order)
    if members:
        held = [m for m in members if m.status == OrderStatus.ON_HOLD]
        if held:
            raise Conflict(f"{order_no(held[0].id)}, merged into this order, is on hold: release it or unmerge it first", field="id")
        policy = replace(policy, allow_split=False)
        at = await groups.reserved_warehouse([order.id, *(m.id for m in members)])
        if at is not None:
            warehouse_id = groups.pinned(warehouse_id, at)
    for attempt in range(ATTEMPTS):
        batches = [(owner, await unallocated_lines(owner)) for owner in (order, *members)]
        lines = [line for _, owned in batches for line in owned]
        if not lines:
            raise Conflict("every line of the order is already allocated", field="id")
        frozen = await frozen_skus(order.tenant_id, order.channel_id, (line.sku for line in lines))  # type: ignore[attr-defined]
        if frozen:
            raise AllocationFailed(allocation.Plan(policy.strategy, allocation.FAILED,
                                                   f"allocation of {', '.join(frozen)} is frozen", []))
        plan, warehouses = await _plan(order, lines, policy, warehouse_id, reason)
        if not plan.ok:
            raise AllocationFailed(plan)
        claimed = [(owner, [Claim(line, warehouses[plan.assignments[line.id]]) for line in owned]) for owner, owned in batches if owned]
        if not await _reserve_or_lose(actor, claimed, plan, kind, expires_at, last=attempt == ATTEMPTS - 1):
            continue
        for owner, owned in batches:
            if owned:
                await record_decision(actor, owner, plan, policy)
        for member, owned in batches[1:]:
            if owned and member.status == OrderStatus.PAID:
                await mark_allocated(actor, member, f"merged into {order_no(order.id)}: {plan.summary}")
        return plan
    raise AssertionError("unreachable")  # pragma: no cover


async def _reserve_or_lose(
    actor: Actor, claimed: list[tuple[Order, list[Claim]]], plan: allocation.Plan, kind: ReservationKind,
    expires_at: datetime | None, *, last: bool,
) -> bool:
    """Reserve the planned claims; False when another order took the stock first (plan again), or on the
    ``last`` attempt ``AllocationFailed``."""
    # A savepoint, so a lost race undoes only this attempt; not needed when a refusal writes nothing.
    undo = nullcontext() if len(claimed) == 1 and reservations.refusal_writes_nothing(claimed[0][1]) else in_transaction()
    try:
        async with undo:
            for owner, claims in claimed:
                await reservations.reserve(actor, owner, claims, kind=kind, expires_at=expires_at, reason=plan.summary)
    except InsufficientStock as lost:
        if last:
            plan.outcome, plan.summary = allocation.FAILED, f"{plan.summary}; then lost the stock to other orders: {lost.message}"
            raise AllocationFailed(plan) from lost
        return False
    return True


async def _allocate_alone(actor: Actor, order: Order, warehouse_id: int | None, reason: str) -> allocation.Plan:
    """``policy_for``, ``place`` then ``mark_allocated`` for an order in no merge group, on PostgreSQL: the same checks
    and rows, with the reads before the reservation in one statement and the writes after it in one more (``one_trip``).
    The policy is the one read on the first attempt, as ``policy_for`` reads it once."""
    policy: Policy | None = None
    for attempt in range(ATTEMPTS):
        seen = await one_trip.read(order.id, order.tenant_id, order.channel_id, freeze_scope=FREEZE_SCOPE,  # type: ignore[attr-defined]
                                   alert_kind=ALLOCATION_FAILED, policy_scopes=(scope_of(order.channel_id), TENANT_SCOPE))  # type: ignore[attr-defined]
        if policy is None:
            policy = policy_among(seen.policies, order.channel_id, seen.warehouse_codes)  # type: ignore[attr-defined]
        if not seen.lines:
            raise Conflict("every line of the order is already allocated", field="id")
        if seen.frozen:
            raise AllocationFailed(allocation.Plan(policy.strategy, allocation.FAILED,
                                                   f"allocation of {', '.join(seen.frozen)} is frozen", []))
        manual = warehouse_id is not None
        needs = [allocation.Need(line.id, line.sku, line.quantity, "" if manual else seen.categories.get(line.sku, ""))
                 for line in seen.lines]
        plan, warehouses = await _decide(order, seen.warehouses, needs, seen.available, policy, warehouse_id, reason)
        if not plan.ok:
            raise AllocationFailed(plan)
        claims = [Claim(line, warehouses[plan.assignments[line.id]]) for line in seen.lines]
        if await _reserve_or_lose(actor, [(order, claims)], plan, ReservationKind.ORDER, None, last=attempt == ATTEMPTS - 1):
            break
    else:
        raise AssertionError("unreachable: the last attempt reserves or raises")  # pragma: no cover
    check_transition(OrderStatus(order.status), OrderStatus.ALLOCATED, MoveContext(actor.role, actor.source, plan.summary))
    now, before = datetime.now(UTC), order_state(order)
    order.status = OrderStatus.ALLOCATED
    order.warehouse_id = Counter([*seen.live_warehouses, *(c.warehouse.id for c in claims)]).most_common(1)[0][0]  # as primary_warehouse
    order.ship_by = order.ship_by or default_ship_by(order)
    order.version += 1
    order.updated_at = now
    await one_trip.write(one_trip.Move(
        tenant_id=order.tenant_id, order_id=order.id, decision=_decision_row(plan, policy),  # type: ignore[attr-defined]
        status=order.status, warehouse_id=order.warehouse_id, ship_by=order.ship_by, version=order.version,  # type: ignore[attr-defined]
        event_type="order.allocated", actor=actor.name, source=actor.source, reason=reasons.combined(plan.summary),
        before=before, after=order_state(order), now=now,
    ))
    if seen.open_alerts:
        await clear_alerts(tenant_id=order.tenant_id, order_id=order.id, kind=ALLOCATION_FAILED, actor=actor.name)  # type: ignore[attr-defined]
    return plan


def _decision_row(plan: allocation.Plan, policy: Policy) -> dict:
    return {
        "strategy": plan.strategy,
        "outcome": plan.outcome,
        "split": plan.outcome == allocation.SPLIT,
        "summary": plan.summary[:500],
        "chosen": [c.as_json() for c in plan.chosen],
        "candidates": [c.as_json() for c in plan.candidates],
        "policy_scope": policy.scope,
        "policy_version": policy.version,
    }


async def record_decision(actor: Actor, order: Order, plan: allocation.Plan, policy: Policy) -> AllocationDecision:
    return await AllocationDecision.create(
        tenant_id=order.tenant_id,  # type: ignore[attr-defined]
        order_id=order.id,
        actor=actor.name,
        **_decision_row(plan, policy),
    )


async def primary_warehouse(order_id: int) -> int | None:
    """The warehouse holding most of the order's live reservations (the order's own warehouse field)."""
    rows = await Reservation.filter(order_id=order_id, line_slot__isnull=False).values_list("warehouse_id", flat=True)
    return Counter(rows).most_common(1)[0][0] if rows else None


async def mark_allocated(actor: Actor, order: Order, reason: str, *, event: str = "order.allocated") -> None:
    """Move a locked order to ALLOCATED now that every line is reserved."""
    check_transition(OrderStatus(order.status), OrderStatus.ALLOCATED, MoveContext(actor.role, actor.source, reason))
    before = order_state(order)
    order.status = OrderStatus.ALLOCATED
    order.warehouse_id = await primary_warehouse(order.id)  # type: ignore[attr-defined]
    order.ship_by = order.ship_by or default_ship_by(order)
    await save_with_event(actor, order, before, event, reason)
    await clear_alerts(tenant_id=order.tenant_id, order_id=order.id, kind=ALLOCATION_FAILED, actor=actor.name)  # type: ignore[attr-defined]


async def allocate_alone_possible(order: Order) -> bool:
    """True when ``allocate_locked`` takes the one-trip path: on PostgreSQL, for an order in no merge group."""
    return order.merged_into_id is None and one_trip.available() and not await groups.members_of(order)  # type: ignore[attr-defined]


async def allocate_locked(
    actor: Actor, order: Order, *, warehouse_id: int | None = None, reason: str = "", members: list[Order] | None = None
) -> allocation.Plan:
    """Reserve every line by the policy (or at ``warehouse_id``) and move the locked order to ALLOCATED (``members``: see ``place``)."""
    if order.merged_into_id is None and one_trip.available():  # type: ignore[attr-defined]
        if members is None:
            members = await groups.members_of(order)
        if not members:
            return await _allocate_alone(actor, order, warehouse_id, reason)
    policy = await policy_for(order.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    plan = await place(actor, order, policy=policy, warehouse_id=warehouse_id, reason=reason, members=members)
    await mark_allocated(actor, order, plan.summary)
    return plan


async def allocate_order(actor: Actor, order_id: int, warehouse_id: int | None = None, reason: str = "") -> Order:
    """Allocate a paid order: at the given warehouse, or where the tenant's policy says. Nothing changes on failure.

    A merge leader takes its members along; a member goes where its leader is reserved (``place``).
    """
    require_writer(actor)
    for _ in range(groups.LOCK_ATTEMPTS):
        try:
            async with unit_of_work():
                # A merged group is locked whole, in id order; first in the transaction, so a merge committing
                # meanwhile rolls back only these locks and the transaction runs again (no savepoint needed).
                group = await groups.lock_group(actor, order_id, first_in_transaction=True)
                order = group.order
                check_transition(OrderStatus(order.status), OrderStatus.ALLOCATED, MoveContext(actor.role, actor.source, reason))
                live = [m for m in group.members if m.status != OrderStatus.CANCELLED] if order is group.leader else None
                await allocate_locked(actor, order, warehouse_id=warehouse_id, reason=reason, members=live)
            return order
        except groups.Moved:
            continue
    raise Conflict(groups.MOVED_TOO_OFTEN, field="id")


#: Order statuses in which a line may still change warehouse.
MOVABLE = frozenset({OrderStatus.DEPOSIT_PAID, OrderStatus.PAID, OrderStatus.ALLOCATED})


def effective_status(order: Order) -> OrderStatus:
    """What a held order will return to; otherwise its status."""
    if order.status == OrderStatus.ON_HOLD and order.status_before_hold:
        return OrderStatus(order.status_before_hold)
    return OrderStatus(order.status)


async def move_line(actor: Actor, line_id: int, warehouse_id: int, reason: str) -> Order:
    """Re-allocate one line to another warehouse: the old reservation is released and the new one taken atomically."""
    require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say why the line moves", field="reason")
    line = await OrderLine.filter(id=line_id, order__tenant_id=actor.tenant_id).first()
    if line is None:
        raise NotFound("no such order line", field="lineId")
    async with unit_of_work():
        order = await lock_order(actor, line.order_id)  # type: ignore[attr-defined]
        current = await Reservation.filter(line_slot=line.id).first()  # the live (or shipped) one, by its unique slot
        if current is None:
            raise Conflict("the line is not allocated; allocate the order instead", field="lineId")
        if current.status == ReservationStatus.CONSUMED:
            raise Conflict("the line has shipped and cannot move", field="lineId")
        if effective_status(order) not in MOVABLE or current.picker:
            raise Conflict(f"the order is {order.status} and picking has started; it can no longer move", field="lineId")
        if current.warehouse_id == warehouse_id:  # type: ignore[attr-defined]
            raise ValidationFailed("the line is already allocated there", field="warehouseId")
        await refuse_if_breaker_open(actor.tenant_id, warehouse_id)
        target = await Warehouse.filter(id=warehouse_id, tenant_id=actor.tenant_id, active=True).first()
        if target is None:
            raise NotFound("no such active warehouse", field="warehouseId")
        target_stock = await Stock.filter(warehouse_id=target.id, sku=line.sku).first()
        if target_stock is None:
            raise InsufficientStock(f"{target.code} does not stock {line.sku}", field="warehouseId")
        # Both hot rows locked in id order first, so two opposite moves cannot deadlock.
        await Stock.filter(id__in=[current.stock_id, target_stock.id]).order_by("id").select_for_update()  # type: ignore[attr-defined]
        note = f"moved to {target.code}: {reason}"
        await reservations.release(actor, order, [current], note)
        await reservations.reserve(actor, order, [Claim(line, target)], kind=ReservationKind(current.kind),
                                   expires_at=current.expires_at, reason=note)
        plan = allocation.manual_plan(_site(target), [allocation.Need(line.id, line.sku, line.quantity)],
                                      {(target.id, line.sku): line.quantity}, note)
        await record_decision(actor, order, plan, await policy_for(order.tenant_id, order.channel_id))  # type: ignore[attr-defined]
        before = order_state(order)
        order.warehouse_id = await primary_warehouse(order.id)  # type: ignore[attr-defined]
        await save_with_event(actor, order, before, "order.line_moved", f"{line.sku}: {note}")
    return order


def presale_deadline(order: Order, policy: Policy) -> datetime:
    return order.balance_due_at or datetime.now(UTC) + timedelta(hours=policy.presale_hold_hours)


@dataclass(frozen=True, slots=True)
class BackorderRun:
    allocated: int
    still_waiting: int


async def resume_waiting(actor: Actor, reason: str) -> BackorderRun:
    """Allocate again every paid order whose automatic allocation failed (an open ``allocation_failed`` alert),
    most urgent first — when a warehouse's allocation resumes (its drift breaker closed, say).

    Orders a person is meant to allocate (no failed attempt on record) are left alone.
    """
    require_writer(actor)
    failed = Subquery(Alert.filter(tenant_id=actor.tenant_id, kind=ALLOCATION_FAILED, state__not=AlertState.RESOLVED,
                                   order_id__isnull=False).values("order_id"))
    waiting = await Order.filter(tenant_id=actor.tenant_id, status=OrderStatus.PAID, id__in=failed).order_by(
        "priority_rank", "placed_at", "id").values_list("id", flat=True)
    allocated = 0
    for order_id in waiting:
        try:
            await allocate_order(actor, order_id, reason=reason)
            allocated += 1
        except (InsufficientStock, Conflict, IllegalTransition):  # still short, or it moved on meanwhile
            continue
    return BackorderRun(allocated=allocated, still_waiting=len(waiting) - allocated)


async def allocate_backorders(actor: Actor, limit: int = 50) -> BackorderRun:
    """Try again to allocate paid orders that are waiting for stock, most urgent first (after a receipt, say)."""
    require_writer(actor)
    if not 1 <= limit <= 500:
        raise ValidationFailed("limit must be between 1 and 500", field="first")
    waiting = await Order.filter(tenant_id=actor.tenant_id, status=OrderStatus.PAID).order_by(
        "priority_rank", "placed_at", "id"
    ).limit(limit).values_list("id", flat=True)
    allocated = 0
    for order_id in waiting:
        try:
            await allocate_order(actor, order_id, reason="backorder run")
            allocated += 1
        except (InsufficientStock, Conflict, IllegalTransition):  # still short, or it moved on meanwhile
            continue
    return BackorderRun(allocated=allocated, still_waiting=len(waiting) - allocated)
