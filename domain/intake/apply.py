"""Applying what a sales channel says about an order: create or update, exactly once, in order.

    result = await apply_order(channel_actor(tenant_id, "tmall"), channel, inbound,
                               Arrival(payload_sha256=sha, delivery_id="b54557e4…"))

One transaction per inbound order:

1. a delivery id already applied → ``duplicate``, nothing changes;
2. the order (tenant, channel, external id) is locked, or created in the
   status the channel reports (``created``); a concurrent twin that loses the
   unique-constraint race retries and finds the order;
3. the source's own modified time decides: equal → ``duplicate`` (nothing
   changes), older → ``stale`` (one lineage row, nothing applied), newer →
   the update is reconciled (``updated`` / ``unchanged``).

How a channel status is reconciled with ours (never silently):

- ours refines the channel's (channel "paid, to ship" while we are ALLOCATED,
  PICKING or PACKED; channel "shipped" while the carrier says DELIVERED) →
  kept, noted in the ``intake.applied`` lineage row;
- the channel is ahead by one legal move (PACKED → SHIPPED, SHIPPED →
  DELIVERED) → the normal state-machine move, as actor ``channel:<code>``;
- the channel is ahead by skipping steps (a "shipped" for an order we hold
  as PAID: fulfilled outside OrderGraph, e.g. from the channel back-end) →
  adopted, so the warehouse does not ship it twice, with the skipped steps in
  the lineage row and an ``intake.skipped_steps`` alert;
- a cancellation is applied while the state machine allows it; after
  shipping it is refused with a critical ``intake.status_conflict`` alert
  (intercept the parcel); a payment regression, or a move while a person
  holds the order, is likewise alerted and not applied;
- a platform hold (Taobao ``PAID_FORBID_CONSIGN``, Pinduoduo group not
  formed) and an unmapped code put the order ON_HOLD with a ``channel: …``
  reason, lifted automatically once the channel (or a new mapping) clears it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError

from domain import orders
from domain.actor import Actor, Role
from domain.alerts.raising import clear_alerts, raise_alert
from domain.allocation import order_stock
from domain.allocation.policy import policy_for
from domain.errors import DomainError
from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.normalized import InboundOrder
from domain.intake import fast_insert
from domain.intake.plan import (
    CONTENT_HOLD,
    OrderPlan,
    address_digest,
    address_fields,
    after_sale_alert,
    check_storable,
    content_holds,
    lines_digest,
    open_after_sales,
    payment_plan,
    plan_new_order,
    unmapped_alert,
)
from domain.intake.reading import (
    CHANNEL_HOLD,
    FORWARD_RANK,
    Reading,
    read,
    skipped_steps,
    tables_for,
)
from domain.masking import phone_hash
from domain.order_machine import HOLDABLE, TRANSITIONS
from domain.orders.create import NewCustomer
from domain.snapshots import order_state
from domain.sql import dialect_sql
from domain.statuses import OrderStatus, PaymentStatus
from domain.stock import reservations
from domain.unit_of_work import unit_of_work
from events import log
from models import (
    Alert,
    Channel,
    ChannelOrderState,
    Customer,
    Order,
    OrderEvent,
    OrderLine,
    OrderTag,
    Payment,
)

O = OrderStatus
#: Statuses a channel "paid, to ship" is consistent with: our own fulfilment steps refine it.
_REFINES_PAID = frozenset({O.ALLOCATED, O.PICKING, O.PACKED})
_SHIPPED_OR_LATER = frozenset({O.PARTIALLY_SHIPPED, O.SHIPPED, O.DELIVERED, O.COMPLETED})


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class Arrival:
    """How an inbound order reached us: its raw payload, the source's delivery id, and the path.

    ``body`` (when given) is kept as an ``InboundPayload`` inside the applying
    transaction, in the same round trip as the delivery-id claim.
    """

    payload_sha256: str = ""
    delivery_id: str = ""
    delivery_source: str = ""
    via: str = "webhook"
    payload_ref: str | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    payload_kind: str = "channel"

    @property
    def ref(self) -> str | None:
        if self.payload_ref:
            return self.payload_ref
        return payloads.ref(self.payload_sha256) if self.payload_sha256 else None


@dataclass(slots=True)
class IntakeResult:
    outcome: Outcome
    order_id: int | None = None
    status: str | None = None
    notes: list[str] = field(default_factory=list)


def channel_actor(tenant_id: int, channel_code: str, via: str = "webhook") -> Actor:
    """The actor lineage shows for a channel's own statements."""
    name = f"channel:{channel_code}" if via in ("webhook", "poller") else f"{via}:{channel_code}"
    return Actor(tenant_id=tenant_id, role=Role.SERVICE, name=name[:100], source="channel")


async def apply_order(
    actor: Actor,
    channel: Channel,
    inbound: InboundOrder,
    arrival: Arrival,
    *,
    mapping_max_age: float = 0.0,
) -> IntakeResult:
    """Create or update one channel order (see module doc). Raises ``PayloadError`` for unstorable input."""
    check_storable(inbound)
    mappings = await mapping_tables.load(
        actor.tenant_id, tables_for(inbound.source, inbound.extra_codes), max_age=mapping_max_age
    )
    reading = read(inbound.source, inbound.status_code, inbound.extra_codes, mappings)
    for attempt in range(3):
        try:
            async with unit_of_work():
                return await _apply(actor, channel, inbound, arrival, reading)
        except IntegrityError:
            # A concurrent twin created the same order first: it exists now, so this becomes an update.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def _apply(actor: Actor, channel: Channel, inbound: InboundOrder, arrival: Arrival, reading: Reading) -> IntakeResult:
    source = arrival.delivery_source or f"channel:{channel.id}"
    if arrival.body is not None:
        claimed = await payloads.record_arrival(
            actor.tenant_id, arrival.payload_kind, channel.code, arrival.body, arrival.headers,
            arrival.headers.get("content-type", ""), delivery_source=source, delivery_id=arrival.delivery_id,
        )
    elif arrival.delivery_id:
        claimed = await payloads.claim_delivery(actor.tenant_id, source, arrival.delivery_id, arrival.payload_sha256)
    else:
        claimed = True
    if not claimed:
        existing = await _find(actor.tenant_id, channel.id, inbound.external_id, lock=False)
        return IntakeResult(Outcome.DUPLICATE, existing.id if existing else None,
                            existing.status if existing else None, ["delivery id already applied"])
    order = await _find(actor.tenant_id, channel.id, inbound.external_id, lock=True)
    if order is None:
        plan = plan_new_order(inbound, reading, channel_id=channel.id, source=inbound.source,
                              payload_sha256=arrival.payload_sha256, received_at=datetime.now(UTC))
        order = await insert_order(actor, channel.id, plan, arrival.ref)
        return IntakeResult(Outcome.CREATED, order.id, order.status, plan.notes)
    state = await ChannelOrderState.filter(order_id=order.id).first()
    stored = order.source_updated_at
    if stored is not None and inbound.updated_at < stored:
        await log.append(
            tenant_id=actor.tenant_id, order_id=order.id, type="intake.stale", actor=actor.name, source=actor.source,
            reason=f"update modified {inbound.updated_at.isoformat()} is older than the applied "
                   f"{stored.isoformat()}; recorded, not applied",
            before={"source_updated_at": stored.isoformat()},
            after={"source_updated_at": inbound.updated_at.isoformat(), "status_code": inbound.status_code,
                   "extra_codes": dict(inbound.extra_codes), "via": arrival.via},
            payload_ref=arrival.ref,
        )
        return IntakeResult(Outcome.STALE, order.id, order.status)
    if stored is not None and inbound.updated_at == stored and not (state and state.unmapped):
        return IntakeResult(Outcome.DUPLICATE, order.id, order.status, ["same source modified time"])
    return await _update(actor, order, state, inbound, reading, arrival)


_FIND_SQL = 'SELECT "id" FROM "orders" WHERE "tenant_id" = ? AND "channel_id" = ? AND "external_id" = ?'


async def _find(tenant_id: int, channel_id: int, external_id: str, *, lock: bool) -> Order | None:
    """The order, locked FOR UPDATE when asked (a plain id lookup first: most deliveries are new orders)."""
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    sql = dialect_sql(_FIND_SQL + (" FOR UPDATE" if lock and postgres else ""), 3)
    rows = await connection.execute_query_dict(sql, [tenant_id, channel_id, external_id])
    if not rows:
        return None
    return await Order.get(id=rows[0]["id"])


async def insert_order(actor: Actor, channel_id: int, plan: OrderPlan, payload_ref: str | None) -> Order:
    """Write a planned first-seen order: order, lines, tags, payment, channel state, lineage, alerts."""
    customer_id = await customer_for(actor.tenant_id, plan.customer)
    order = await Order.create(
        tenant_id=actor.tenant_id, channel_id=channel_id, customer_id=customer_id, status=plan.status,
        status_before_hold=plan.status_before_hold, hold_reasons=plan.hold_reasons, **plan.order_fields,
    )
    rows: list[Any] = [OrderLine(order_id=order.id, **line) for line in plan.lines]
    rows += [OrderTag(order_id=order.id, tag=tag) for tag in plan.tags]
    if plan.payment:
        rows.append(Payment(order_id=order.id, gateway=plan.payment.gateway, reference=plan.payment.reference,
                            amount=plan.payment.amount, currency=order.currency or "CNY", status=plan.payment.status))
    rows.append(ChannelOrderState(order_id=order.id, tenant_id=actor.tenant_id, **plan.state))
    # The lineage row, as events.log.append writes it, in the same round trip as the rest.
    rows.append(OrderEvent(
        tenant_id=actor.tenant_id, order_id=order.id, type="order.created", actor=actor.name, source=actor.source,
        reason=f"channel reports {plan.state['status_code']}"[:500], before=None,
        after=created_after(order, plan), payload_ref=payload_ref,
    ))
    await fast_insert.insert_all(rows)
    for kind, severity, message, details in plan.alerts:
        await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind=kind, severity=severity,
                                 message=message, details=details, actor=actor.name, source=actor.source)
    await reserve_if_policy_says(actor, order)
    return order


async def reserve_if_policy_says(actor: Actor, order: Order) -> None:
    """A paid order reserves stock when the tenant's allocation policy allocates on payment.

    ``order_stock.on_created`` does exactly this; it is asked only when the policy
    auto-allocates, because for an order inserted a moment ago its other step
    (converting pre-sale reservations) has nothing to find, and the lookup is a
    round trip on every webhook.
    """
    if order.status not in (OrderStatus.PAID, OrderStatus.DEPOSIT_PAID):
        return
    policy = await policy_for(actor.tenant_id, order.channel_id)  # type: ignore[attr-defined]
    if policy.auto_allocate:
        await order_stock.on_created(actor, order)
        await order.refresh_from_db(fields=["status", "warehouse_id"])


async def customer_for(tenant_id: int, new: NewCustomer | None) -> int | None:
    """The buyer's customer id: matched by phone hash, else created (as ``orders.create_order`` does)."""
    if new is None or not (new.phone or new.name or new.email):
        return None
    row = Customer(tenant_id=tenant_id, name=new.name, phone=new.phone,
                   phone_hash=phone_hash(new.phone) if new.phone else None, email=new.email)
    if not new.phone:
        await row.save()
        return row.pk
    return await fast_insert.find_or_insert(row, {"tenant_id": tenant_id, "phone_hash": row.phone_hash})


def created_after(order: Order, plan: OrderPlan) -> dict[str, Any]:
    return {
        **order_state(order),
        "lines": len(plan.lines),
        "total": str(plan.order_fields["total_amount"]),
        "status_code": plan.state["status_code"],
        "extra_codes": plan.state["extra_codes"],
        "mapped": plan.state["mapped"]["labels"],
        "unmapped": plan.state["unmapped"],
        "payment": plan.payment.status.value if plan.payment else None,
    }


# ------------------------------------------------------------------ updates


@dataclass(slots=True)
class _Sync:
    """What one update changed or refused, for the summary lineage row."""

    changes: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


async def _update(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, reading: Reading, arrival: Arrival
) -> IntakeResult:
    sync = _Sync()
    ref = arrival.ref
    version = order.version
    await _sync_address(actor, order, state, inbound, sync, ref)
    await _sync_lines(actor, order, state, inbound, sync, ref)
    order = await reconcile_status(actor, order, reading, sync, ref, content=content_holds(inbound))
    await sync_payment(actor, order, reading, sync, ref, inbound=inbound)
    previous_after_sale = dict(state.after_sale) if state else {}
    await sync_side_alerts(actor, order, reading, previous_after_sale, sync, ref, issues=list(inbound.issues))
    order = await Order.get(id=order.id)
    order.source_updated_at = inbound.updated_at
    if order.version == version and sync.changes:
        order.version += 1
    await order.save(update_fields=["source_updated_at", "version", "updated_at"])
    await _save_state(actor, order, state, inbound, reading, arrival)
    outcome = Outcome.UPDATED if sync.changes else Outcome.UNCHANGED
    await log.append(
        tenant_id=actor.tenant_id, order_id=order.id, type="intake.applied", actor=actor.name, source=actor.source,
        reason="; ".join(sync.changes + sync.kept)[:500] or "nothing to change",
        before={"status_code": state.status_code if state else None,
                "source_updated_at": state.source_updated_at.isoformat() if state else None},
        after={"status_code": inbound.status_code, "extra_codes": dict(inbound.extra_codes),
               "mapped": reading.labels, "unmapped": reading.unmapped, "status": order.status,
               "source_updated_at": inbound.updated_at.isoformat(), "via": arrival.via, "outcome": outcome.value},
        payload_ref=ref,
    )
    return IntakeResult(outcome, order.id, order.status, sync.changes + sync.kept)


async def _save_state(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, reading: Reading, arrival: Arrival
) -> None:
    values = {
        "source": inbound.source[:64],
        "status_code": inbound.status_code[:64],
        "extra_codes": dict(inbound.extra_codes),
        "mapped": {"labels": reading.labels, "versions": reading.versions},
        "unmapped": list(reading.unmapped),
        "after_sale": dict(reading.after_sale),
        "lines_digest": lines_digest(inbound),
        "address_digest": address_digest(inbound.address),
        "source_updated_at": inbound.updated_at,
        "payload_sha256": arrival.payload_sha256,
    }
    if state is None:
        await ChannelOrderState.create(order_id=order.id, tenant_id=actor.tenant_id, **values)
    else:
        await ChannelOrderState.filter(id=state.id).update(**values, updated_at=datetime.now(UTC))


async def _sync_address(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, sync: _Sync, ref: str | None
) -> None:
    """A buyer's address change applies until the parcel leaves; after that it needs a person."""
    if state is None or state.address_digest == address_digest(inbound.address):
        return
    notes: list[str] = []
    wanted = address_fields(inbound.address, notes)
    changed = sorted(name for name, value in wanted.items() if getattr(order, name) != value)
    if not changed:
        return
    effective = OrderStatus(order.status_before_hold or order.status) if order.status == O.ON_HOLD else OrderStatus(order.status)
    if effective in _SHIPPED_OR_LATER or effective == O.CANCELLED:
        await raise_alert(
            tenant_id=actor.tenant_id, order_id=order.id, kind="intake.address_changed_after_shipping",
            severity="critical", message=f"the channel changed the delivery address ({', '.join(changed)}) "
                                         f"but the order is {effective}: contact the carrier",
            details={"fields": changed}, actor=actor.name, source=actor.source,
        )
        sync.kept.append(f"address change not applied ({effective})")
        return
    for name in changed:
        setattr(order, name, wanted[name])
    order.version += 1
    await order.save(update_fields=[*changed, "version", "updated_at"])
    # Only the names of the fields: lineage is readable by roles that may not see personal data.
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.address_changed", actor=actor.name,
                     source=actor.source, reason="the channel reports a new delivery address",
                     after={"fields": changed}, payload_ref=ref)
    sync.changes.append(f"address changed ({', '.join(changed)})")


async def _sync_lines(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, sync: _Sync, ref: str | None
) -> None:
    """Lines and total follow the channel only before payment; afterwards stock may be committed, so a person decides."""
    if state is None or state.lines_digest == lines_digest(inbound):
        return
    before = [(line.sku, line.quantity, str(line.unit_price)) for line in await OrderLine.filter(order_id=order.id).order_by("id")]
    after = [(line.sku, line.quantity, str(line.unit_price)) for line in inbound.lines]
    if sorted(before) == sorted(after) and order.total_amount == inbound.total_amount:
        return
    if order.status in (O.PENDING_PAYMENT, O.DEPOSIT_PAID):
        await OrderLine.filter(order_id=order.id).delete()
        await OrderLine.bulk_create([
            OrderLine(order_id=order.id, sku=line.sku, title=line.title[:200], quantity=line.quantity,
                      unit_price=line.unit_price)
            for line in inbound.lines
        ])
        old_total = order.total_amount
        order.total_amount = inbound.total_amount
        order.version += 1
        await order.save(update_fields=["total_amount", "version", "updated_at"])
        await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.lines_changed", actor=actor.name,
                         source=actor.source, reason="the channel changed the order before payment",
                         before={"lines": before, "total": str(old_total)},
                         after={"lines": after, "total": str(inbound.total_amount)}, payload_ref=ref)
        sync.changes.append("lines changed")
        return
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order.id, kind="intake.lines_changed", severity="warning",
        message=f"the channel changed the lines or total of a {order.status} order; not applied, please review",
        details={"ours": before, "channel": after, "channel_total": str(inbound.total_amount)},
        actor=actor.name, source=actor.source,
    )
    sync.kept.append("line change not applied")


# ------------------------------------------------------------------ status


async def reconcile_status(
    actor: Actor, order: Order, reading: Reading, sync: Any, ref: str | None, *, content: list[str] | None = None
) -> Order:
    """Bring the fulfilment status in line with what the codes say (module doc); returns the fresh order."""
    label = reading.describe()
    if reading.cancelled:
        return await _cancel(actor, order, reading, sync, ref)
    wanted = set(reading.channel_holds())
    if content is not None:
        wanted |= set(content)
    managed = [r for r in order.hold_reasons or [] if r.startswith(CHANNEL_HOLD) or (content is not None and r.startswith(CONTENT_HOLD))]
    lift = [reason for reason in managed if reason not in wanted]
    if lift and order.status == O.ON_HOLD:
        order = await orders.release_hold(actor, order.id, lift)
        sync.changes.append(f"released {', '.join(lift)}")
    target = reading.forward
    if target is not None:
        order = await _move_forward(actor, order, target, label, sync, ref)
    add = sorted(wanted - set(order.hold_reasons or []))
    if add:
        current = OrderStatus(order.status)
        if current == O.ON_HOLD or current in HOLDABLE:
            order = await orders.hold_order(actor, order.id, add)
            sync.changes.append(f"held: {', '.join(add)}")
        else:
            sync.kept.append(f"not held ({current}): {', '.join(add)}")
    return order


async def _cancel(actor: Actor, order: Order, reading: Reading, sync: Any, ref: str | None) -> Order:
    current = OrderStatus(order.status)
    if current == O.CANCELLED:
        return order
    effective = OrderStatus(order.status_before_hold) if current == O.ON_HOLD and order.status_before_hold else current
    reason = f"channel reports cancelled ({', '.join(reading.cancelled_by)})"
    if (effective, O.CANCELLED) in TRANSITIONS:
        order = await orders.cancel_order(actor, order.id, reason)
        sync.changes.append(reason)
        return order
    await _conflict(actor, order, "critical",
                    f"{reason} but the order is {effective}: intercept the parcel or handle the return", reading, ref)
    sync.kept.append(f"cancellation not applied ({effective})")
    return order


async def _move_forward(actor: Actor, order: Order, target: OrderStatus, label: str, sync: Any, ref: str | None) -> Order:
    current = OrderStatus(order.status)
    reason = f"channel reports {label}"
    if current == target:
        return order
    if current in (O.CANCELLED, O.ON_HOLD):
        effective = OrderStatus(order.status_before_hold) if current == O.ON_HOLD and order.status_before_hold else None
        if effective is not None and (effective == target or _consistent(target, effective)):
            return order
        await _conflict(actor, order, "warning",
                        f"{reason} while the order is {current}"
                        + (f" for: {'; '.join(order.hold_reasons or [])}" if current == O.ON_HOLD else "")
                        + "; not applied", None, ref)
        sync.kept.append(f"{target} not applied to a {current} order")
        return order
    if _consistent(target, current):
        sync.kept.append(f"kept {current} (channel says {target})")
        return order
    if FORWARD_RANK[target] < FORWARD_RANK[current]:
        if FORWARD_RANK[target] < FORWARD_RANK[O.PAID] <= FORWARD_RANK[current]:
            await _conflict(actor, order, "warning", f"{reason}: payment no longer confirmed while the order is "
                                                     f"{current}; not applied", None, ref)
        sync.kept.append(f"kept {current} (channel behind: {target})")
        return order
    if (current, target) in TRANSITIONS:
        try:
            order = await orders.transition_order(actor, order.id, target, reason)
        except DomainError as error:
            await _conflict(actor, order, "warning", f"{reason}: {error.message}", None, ref)
            sync.kept.append(f"{target} refused")
            return order
        sync.changes.append(f"{current} → {target}")
        return order
    return await _fast_forward(actor, order, current, target, reason, sync, ref)


def _consistent(channel: OrderStatus, ours: OrderStatus) -> bool:
    """Ours refines the channel's word: "paid, to ship" vs our fulfilment steps."""
    return channel == O.PAID and ours in _REFINES_PAID


async def _fast_forward(
    actor: Actor, order: Order, current: OrderStatus, target: OrderStatus, reason: str, sync: Any, ref: str | None
) -> Order:
    """Adopt a status the channel reached by steps OrderGraph never saw — visibly (lineage + alert)."""
    skipped = [step.value for step in skipped_steps(current, target)]
    before = order_state(order)
    order.status = target
    order.version += 1
    await order.save(update_fields=["status", "version", "updated_at"])
    await log.append(
        tenant_id=actor.tenant_id, order_id=order.id, type="order.status_changed", actor=actor.name,
        source=actor.source, reason=f"{reason}; skipped {', '.join(skipped) or 'no main steps'}",
        before=before, after={**order_state(order), "skipped": skipped}, payload_ref=ref,
    )
    if FORWARD_RANK[target] >= FORWARD_RANK[O.SHIPPED]:
        # The goods left (outside OrderGraph): what was reserved for them is consumed, not left hanging.
        held = await reservations.live_for_order(order.id)
        if held:
            await reservations.consume(actor, order, held, f"channel reports {target}")
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order.id, kind="intake.skipped_steps", severity="warning",
        message=f"{reason} while OrderGraph had {current}: adopted {target}, skipping {', '.join(skipped)}. "
                "Fulfilled outside OrderGraph? Check stock and do not ship again.",
        details={"from": current.value, "to": target.value, "skipped": skipped}, actor=actor.name, source=actor.source,
    )
    sync.changes.append(f"{current} → {target} (skipped {', '.join(skipped)})")
    return order


async def _conflict(actor: Actor, order: Order, severity: str, message: str, reading: Reading | None, ref: str | None) -> None:
    await raise_alert(
        tenant_id=actor.tenant_id, order_id=order.id, kind="intake.status_conflict", severity=severity,
        message=message, details={"status": order.status, "payload_ref": ref}, actor=actor.name, source=actor.source,
    )


# ------------------------------------------------------------------ payment, after-sale, alerts


async def sync_payment(
    actor: Actor, order: Order, reading: Reading, sync: Any, ref: str | None, *, inbound: InboundOrder | None = None
) -> None:
    """Follow the channel's payment stage; the first non-pending stage creates the payment row."""
    stage = reading.payment
    if stage is None:
        return
    payment = await Payment.filter(order_id=order.id).order_by("-id").first()
    if payment is None:
        plan = payment_plan(inbound, reading, inbound.source) if inbound else None
        if plan is None:
            if stage == PaymentStatus.PENDING:
                return
            amount, gateway, reference = order.total_amount, "channel", ""
        else:
            amount, gateway, reference = plan.amount, plan.gateway, plan.reference
        created = await Payment.create(order_id=order.id, gateway=gateway, reference=reference, amount=amount,
                                       currency=order.currency or "CNY", status=stage)
        await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="payment.recorded", actor=actor.name,
                         source=actor.source, reason=f"channel reports payment {stage}",
                         after={"payment_id": created.id, "status": stage.value, "amount": str(amount)}, payload_ref=ref)
        sync.changes.append(f"payment {stage}")
        return
    updates: dict[str, Any] = {}
    if payment.status != stage:
        updates["status"] = stage.value
    if inbound is not None and inbound.paid_amount is not None and stage == PaymentStatus.PAID \
            and payment.amount != inbound.paid_amount:
        updates["amount"] = inbound.paid_amount
    if not updates:
        return
    before = {"payment_id": payment.id, "status": payment.status, "amount": str(payment.amount)}
    await Payment.filter(id=payment.id).update(**updates)
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="payment.status_changed", actor=actor.name,
                     source=actor.source, reason=f"channel reports payment {stage}", before=before,
                     after={"payment_id": payment.id, **{k: str(v) for k, v in updates.items()}}, payload_ref=ref)
    sync.changes.append(f"payment {payment.status} → {stage}")


async def sync_side_alerts(
    actor: Actor, order: Order, reading: Reading, previous_after_sale: dict[str, str], sync: Any, ref: str | None,
    *, issues: list[str] | None = None,
) -> None:
    """After-sale lineage and alerts, unmapped-code alerts, payload-issue alerts: raised and cleared as they change."""
    if reading.after_sale != previous_after_sale:
        await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="order.after_sale_reported",
                         actor=actor.name, source=actor.source, reason="the channel reports after-sale changes",
                         before={"after_sale": previous_after_sale}, after={"after_sale": reading.after_sale},
                         payload_ref=ref)
        sync.changes.append("after-sale " + ", ".join(f"{k} {v}" for k, v in sorted(reading.after_sale.items())))
    open_items = open_after_sales(reading.after_sale)
    if open_items:
        kind, severity, message, details = after_sale_alert(open_items)
        await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind=kind, severity=severity,
                                 message=message, details=details, actor=actor.name, source=actor.source)
    else:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order.id, kind="after_sale.open", actor=actor.name)
    if reading.unmapped:
        kind, severity, message, details = unmapped_alert(reading)
        await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind=kind, severity=severity,
                                 message=message, details=details, actor=actor.name, source=actor.source)
    else:
        await clear_alerts(tenant_id=actor.tenant_id, order_id=order.id, kind="intake.unmapped_code",
                                  actor=actor.name)
    if issues:
        await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind="intake.payload_issues",
                                 severity="warning", message="the channel payload has problems: " + "; ".join(issues),
                                 details={"issues": issues}, actor=actor.name, source=actor.source)


# ------------------------------------------------------------------ re-evaluation after a mapping fix


async def reevaluate_unmapped(actor: Actor, table: str, *, limit: int = 500) -> list[int]:
    """Re-read the stored codes of orders that had unmapped codes in ``table`` (after a mapping save).

    Returns the ids of the orders whose reading changed. Runs one transaction per order.
    """
    alerted = await Alert.filter(
        tenant_id=actor.tenant_id, kind="intake.unmapped_code", cleared_at__isnull=True, order_id__isnull=False
    ).values_list("order_id", flat=True)
    candidates = await ChannelOrderState.filter(tenant_id=actor.tenant_id, order_id__in=list(alerted)).order_by("id")
    touched: list[int] = []
    for state in candidates:
        if not any(code.split(":", 1)[0] == table for code in state.unmapped):
            continue
        if len(touched) >= limit:
            break
        async with unit_of_work():
            locked = await Order.filter(id=state.order_id, tenant_id=actor.tenant_id).select_for_update().first()
            fresh = await ChannelOrderState.filter(id=state.id).first()
            if locked is None or fresh is None:
                continue
            mappings = await mapping_tables.load(actor.tenant_id, tables_for(fresh.source, fresh.extra_codes))
            reading = read(fresh.source, fresh.status_code, fresh.extra_codes, mappings)
            sync = _Sync()
            order = await reconcile_status(actor, locked, reading, sync, None)
            await sync_payment(actor, order, reading, sync, None)
            await sync_side_alerts(actor, order, reading, dict(fresh.after_sale), sync, None)
            await ChannelOrderState.filter(id=fresh.id).update(
                unmapped=list(reading.unmapped), after_sale=dict(reading.after_sale),
                mapped={"labels": reading.labels, "versions": reading.versions}, updated_at=datetime.now(UTC),
            )
            await log.append(
                tenant_id=actor.tenant_id, order_id=order.id, type="intake.reevaluated", actor=actor.name,
                source=actor.source, reason="; ".join(sync.changes + sync.kept)[:500] or "nothing to change",
                before={"unmapped": list(fresh.unmapped)},
                after={"unmapped": reading.unmapped, "mapped": reading.labels, "status": order.status},
                payload_ref=payloads.ref(fresh.payload_sha256) if fresh.payload_sha256 else None,
            )
            touched.append(order.id)
    return touched
