"""Applying what a sales channel says about an order: create or update, exactly once, in order.

    result = await apply_order(channel_actor(tenant_id, "tmall"), channel, inbound,
                               Arrival(payload_sha256=sha, delivery_id="b54557e4…"))

One transaction per inbound order:

1. a delivery id already applied → ``duplicate``, nothing changes;
2. the order (tenant, channel, external id) is locked — in the same
   statement as the channel's SKU aliases for its lines — or created in the
   status the channel reports (``created``); a concurrent twin that loses the
   unique-constraint race retries and finds the order;
3. the source's own modified time decides: older → ``stale`` (one lineage
   row, nothing applied); equal with the same content fingerprint →
   ``duplicate`` (nothing changes); equal with other content → applied like
   a newer one, unless it would move the order backwards, which is recorded
   as a ``conflict`` (lineage row and alert, nothing applied), since which of
   two same-second updates is the later cannot be told; newer → the update
   is reconciled (``updated`` / ``unchanged``).

What an update changes besides the status (receiver, lines, amounts, the
buyer's email) follows ``domain.intake.changes``; the channel's waybills
become shipments (``domain.intake.waybills``) before the status moves, so an
order the channel reports shipped ends SHIPPED with its parcel.

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
  formed), an unmapped code and a buyer's open cancel or refund request put
  the order ON_HOLD, lifted automatically once the channel (or a new
  mapping) clears it; the goods leaving (channel "shipped") lifts them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError

from domain import orders
from domain.actor import Actor, Role
from domain.after_sales import channel as after_sale_reports
from domain.alerts.raising import clear_alerts, raise_alert
from domain.allocation import order_stock
from domain.allocation.policy import policy_for
from domain.errors import DomainError
from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.normalized import InboundOrder
from domain.intake import buyer_requests, fast_insert
from domain.intake.amounts import amount_issues
from domain.intake.changes import (
    Sync,
    effective_status,
    sync_amounts,
    sync_contact,
    sync_customer_email,
    sync_lines,
)
from domain.intake.lookup import Aliases, locate
from domain.intake.plan import (
    OrderPlan,
    after_sale_alert,
    check_storable,
    content_digest,
    content_holds,
    is_content_hold,
    open_after_sales,
    payment_plan,
    plan_new_order,
    state_values,
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
from domain.intake.rows import plan_rows, raise_plan_alerts
from domain.intake.waybills import sync_waybills
from domain.masking import phone_hash
from domain.order_machine import HOLDABLE, TRANSITIONS
from domain.payments import presale
from domain.payments.kinds import INCOMING, PaymentKind
from domain.payments.references import normalize as normalize_reference
from domain.orders.create import NewCustomer
from domain.orders.holds import hold_alert
from domain.snapshots import order_state
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
    Payment,
)

O = OrderStatus
#: Statuses a channel "paid, to ship" is consistent with: our own fulfilment steps refine it.
_REFINES_PAID = frozenset({O.ALLOCATED, O.PICKING, O.PACKED})


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    STALE = "stale"
    CONFLICT = "conflict"


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
    name = f"channel:{channel_code}" if via in ("webhook", "poller", "announced") else f"{via}:{channel_code}"
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
                return await apply_in_transaction(actor, channel, inbound, arrival, reading)
        except IntegrityError:
            # A concurrent twin created the same order first: it exists now, so this becomes an update.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def apply_in_transaction(
    actor: Actor, channel: Channel, inbound: InboundOrder, arrival: Arrival, reading: Reading,
    aliases: Aliases | None = None,
) -> IntakeResult:
    """The body of :func:`apply_order`, inside the caller's transaction; ``aliases`` given = already loaded (imports)."""
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
        existing_id, _ = await locate(actor.tenant_id, channel.id, inbound.external_id, (), lock=False)
        existing = await Order.get(id=existing_id) if existing_id else None
        return IntakeResult(Outcome.DUPLICATE, existing_id, existing.status if existing else None,
                            ["delivery id already applied"])
    skus = () if aliases is not None else [line.sku for line in inbound.lines]
    order_id, found = await locate(actor.tenant_id, channel.id, inbound.external_id, skus, lock=True)
    aliases = found if aliases is None else aliases
    if order_id is None:
        plan = plan_new_order(inbound, reading, channel_id=channel.id, source=inbound.source,
                              payload_sha256=arrival.payload_sha256, received_at=datetime.now(UTC), aliases=aliases)
        order = await insert_order(actor, channel.id, plan, arrival.ref, arrival.via)
        followed = await follow_refunds(actor, order.id, inbound, reading, arrival.ref)
        return IntakeResult(Outcome.CREATED, order.id, order.status, plan.notes + followed)
    order = await Order.get(id=order_id)
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
        digest = content_digest(inbound)
        if state is None or not state.content_digest or state.content_digest == digest:
            return IntakeResult(Outcome.DUPLICATE, order.id, order.status, ["same source modified time and content"])
        backwards = _moves_backwards(order, reading)
        if backwards:
            return await _same_time_conflict(actor, order, state, inbound, reading, arrival, digest, backwards)
    return await _update(actor, order, state, inbound, reading, arrival, aliases)


def _moves_backwards(order: Order, reading: Reading) -> str | None:
    """Why applying ``reading`` would move the order backwards, or ``None``."""
    effective = effective_status(order)
    if reading.cancelled:
        return None
    if effective == O.CANCELLED:
        return f"it would reopen the {effective} order"
    target = reading.forward
    if target is None or effective not in FORWARD_RANK:
        return None
    if FORWARD_RANK[target] < FORWARD_RANK[effective] and not _consistent(target, effective):
        return f"it would move the order back from {effective} to {target}"
    return None


async def _same_time_conflict(
    actor: Actor, order: Order, state: ChannelOrderState, inbound: InboundOrder, reading: Reading, arrival: Arrival,
    digest: str, why: str,
) -> IntakeResult:
    """Two updates with one source time disagree and this one points backwards: record it for a person."""
    when = inbound.updated_at.isoformat()
    reason = (f"update modified {when}, the same time as the applied one, says {reading.describe() or inbound.status_code}; "
              f"{why}: recorded as a conflict, not applied")
    await log.append(
        tenant_id=actor.tenant_id, order_id=order.id, type="intake.conflict", actor=actor.name, source=actor.source,
        reason=reason, before={"status": order.status, "status_code": state.status_code,
                               "content_digest": state.content_digest, "source_updated_at": when},
        after={"status_code": inbound.status_code, "extra_codes": dict(inbound.extra_codes), "mapped": reading.labels,
               "content_digest": digest, "via": arrival.via},
        payload_ref=arrival.ref,
    )
    await _conflict(actor, order, "warning", reason, reading, arrival.ref)
    return IntakeResult(Outcome.CONFLICT, order.id, order.status, [reason])


async def insert_order(actor: Actor, channel_id: int, plan: OrderPlan, payload_ref: str | None,
                       via: str = "") -> Order:
    """Write a planned first-seen order: order, then its other rows and lineage in one round trip, then alerts."""
    customer_id = await customer_for(actor.tenant_id, plan.customer)
    order = await Order.create(
        tenant_id=actor.tenant_id, channel_id=channel_id, customer_id=customer_id, status=plan.status,
        status_before_hold=plan.status_before_hold, hold_reasons=plan.hold_reasons, **plan.order_fields,
    )
    await fast_insert.insert_all(plan_rows(actor, order, order.id, plan, payload_ref=payload_ref,
                                           reason=f"channel reports {plan.state['status_code']}", via=via))
    await raise_plan_alerts(actor, order.id, plan)
    if plan.hold_reasons:
        await hold_alert(actor, order)  # arrived on hold: on the board like any other hold
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
        await order_stock.on_created(actor, order)  # moves ``order`` itself: nothing to read back under the stock locks


async def customer_for(tenant_id: int, new: NewCustomer | None) -> int | None:
    """The buyer's customer id: matched by phone hash (an empty email filled in), else created."""
    if new is None or not (new.phone or new.name or new.email):
        return None
    row = Customer(tenant_id=tenant_id, name=new.name, phone=new.phone,
                   phone_hash=phone_hash(new.phone) if new.phone else None, email=new.email)
    if not new.phone:
        await row.save()
        return row.pk
    return await fast_insert.find_or_insert(row, {"tenant_id": tenant_id, "phone_hash": row.phone_hash},
                                            fill={"email": new.email})


# ------------------------------------------------------------------ updates


async def _update(
    actor: Actor, order: Order, state: ChannelOrderState | None, inbound: InboundOrder, reading: Reading,
    arrival: Arrival, aliases: Aliases,
) -> IntakeResult:
    sync = Sync()
    ref = arrival.ref
    version = order.version
    await sync_contact(actor, order, state, inbound, sync, ref)
    await sync_lines(actor, order, state, inbound, sync, ref, aliases)
    await sync_amounts(actor, order, inbound, sync, ref)
    await sync_customer_email(order, inbound)
    added = await sync_waybills(actor, order.id, inbound, ref)
    if added:
        sync.changes.append(f"waybill {', '.join(added)} reported")
    order = await reconcile_status(actor, order, reading, sync, ref, content=content_holds(inbound))
    await sync_payment(actor, order, reading, sync, ref, inbound=inbound)
    previous_after_sale = dict(state.after_sale) if state else {}
    await sync_side_alerts(actor, order, reading, previous_after_sale, sync, ref,
                           issues=list(inbound.issues) + amount_issues(inbound, reading))
    sync.changes.extend(await follow_refunds(actor, order.id, inbound, reading, ref))
    order = await Order.get(id=order.id)
    settled = await buyer_requests.sync_alert(actor.name, actor.source, actor.tenant_id, order.id, inbound,
                                              effective_status(order))
    if settled:
        sync.changes.append(settled)
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
    values = state_values(inbound, reading, arrival.payload_sha256)
    if state is None:
        await ChannelOrderState.create(order_id=order.id, tenant_id=actor.tenant_id, **values)
    else:
        await ChannelOrderState.filter(id=state.id).update(**values, updated_at=datetime.now(UTC))


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
    target = reading.forward
    # Goods that left (fulfilled from the channel's back-end) make the holds we manage moot: they would only
    # block the move; a person's hold still does, and the buyer's request stays alerted.
    leaving = target is not None and FORWARD_RANK[target] >= FORWARD_RANK[O.PARTIALLY_SHIPPED]
    managed = [r for r in order.hold_reasons or [] if r.startswith(CHANNEL_HOLD) or (content is not None and is_content_hold(r))]
    lift = [reason for reason in managed if reason not in wanted or leaving]
    if lift and order.status == O.ON_HOLD:
        order = await orders.release_hold(actor, order.id, lift)
        sync.changes.append(f"released {', '.join(lift)}")
    if target is not None:
        order = await _move_forward(actor, order, target, label, sync, ref)
    add = sorted(wanted - set(order.hold_reasons or []))
    if add:
        current = OrderStatus(order.status)
        if leaving:
            sync.kept.append(f"not held (the channel reports {target}): {', '.join(add)}")
        elif current == O.ON_HOLD or current in HOLDABLE:
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


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


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
    """Follow the channel's payment stage; the first non-pending stage creates the payment row.

    A pre-sale order gets a ``deposit`` payment in its deposit phase and a
    separate ``balance`` payment when the channel reports it paid
    (``domain.payments.presale``); refunds (after-sales' rows) are never touched here.
    """
    stage = presale.channel_stage(reading.forward, reading.payment)
    if stage is None:
        return
    payments = list(await Payment.filter(order_id=order.id, kind__in=[k.value for k in INCOMING]).order_by("id"))
    if not payments:
        await _first_payment(actor, order, reading, stage, sync, ref, inbound)
        return
    if presale.needs_balance(reading.forward, stage, [payment.kind for payment in payments]):
        await _balance_payment(actor, order, payments, stage, sync, ref, inbound)
        return
    paid_total = inbound.paid_amount if inbound is not None and stage == PaymentStatus.PAID else None
    share = presale.latest_share(paid_total, [payment.amount for payment in payments[:-1]])
    latest = payments[-1]
    for payment in payments if stage in presale.WHOLE_ORDER_STAGES else [latest]:
        await _follow_payment(actor, order, payment, stage, sync, ref, amount=share if payment is latest else None,
                              paid_at=inbound.paid_at if inbound is not None and payment is latest else None)


async def _first_payment(actor: Actor, order: Order, reading: Reading, stage: PaymentStatus, sync: Any,
                         ref: str | None, inbound: InboundOrder | None) -> None:
    plan = payment_plan(inbound, reading, inbound.source) if inbound else None
    if plan is None:
        if stage == PaymentStatus.PENDING:
            return
        if presale.deposit_phase(reading.forward):
            sync.kept.append("deposit paid but its amount not stated: no deposit payment recorded")
            return
        amount, gateway, reference, kind = order.total_amount, "channel", "", PaymentKind.PAYMENT.value
    else:
        amount, gateway, reference, kind = plan.amount, plan.gateway, plan.reference, plan.kind
    await _record_payment(actor, order, kind, gateway, reference, amount, stage, inbound.paid_at if inbound else None,
                          sync, ref)


async def _balance_payment(actor: Actor, order: Order, payments: list[Payment], stage: PaymentStatus, sync: Any,
                           ref: str | None, inbound: InboundOrder | None) -> None:
    """The channel reports a pre-sale order paid: the balance is a payment of its own."""
    stated = inbound is not None and inbound.paid_amount is not None
    paid_total = inbound.paid_amount if stated else order.total_amount  # type: ignore[union-attr]
    amount = presale.balance_amount(paid_total, [payment.amount for payment in payments])  # type: ignore[arg-type]
    if amount <= 0:
        sync.kept.append(f"balance not recorded: paid {paid_total} is not above the deposit")
        return
    deposit = payments[-1]
    gateway = (inbound.payment_gateway if inbound and inbound.payment_gateway else deposit.gateway)[:32]
    reference = (inbound.payment_reference if inbound else "")[:64]
    await _record_payment(actor, order, PaymentKind.BALANCE.value, gateway, reference, amount, stage,
                          inbound.paid_at if inbound else None, sync, ref)


async def _record_payment(actor: Actor, order: Order, kind: str, gateway: str, reference: str, amount: Any,
                          stage: PaymentStatus, paid_at: datetime | None, sync: Any, ref: str | None) -> None:
    created = await Payment.create(order_id=order.id, gateway=gateway, reference=reference, amount=amount,
                                   normalized_reference=normalize_reference(reference, gateway), kind=kind,
                                   currency=order.currency or "CNY", status=stage, paid_at=paid_at)
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="payment.recorded", actor=actor.name,
                     source=actor.source, reason=f"channel reports {kind} {stage}",
                     after={"payment_id": created.id, "kind": kind, "status": stage.value, "amount": str(amount)},
                     payload_ref=ref)
    sync.changes.append(f"payment {stage}" if kind == PaymentKind.PAYMENT else f"{kind} {stage}")


async def _follow_payment(actor: Actor, order: Order, payment: Payment, stage: PaymentStatus, sync: Any,
                          ref: str | None, *, amount: Any, paid_at: datetime | None) -> None:
    """One payment row follows the channel's stage (and, for the latest, its paid amount and time)."""
    updates: dict[str, Any] = {}
    if payment.status != stage:
        updates["status"] = stage.value
    if amount is not None and amount > 0 and payment.amount != amount:
        updates["amount"] = amount
    if paid_at is not None and payment.paid_at != paid_at:
        updates["paid_at"] = paid_at
    if not updates:
        return
    before = {"payment_id": payment.id, "status": payment.status, "amount": str(payment.amount),
              "paid_at": _text(payment.paid_at) if payment.paid_at else None}
    await Payment.filter(id=payment.id).update(**updates)
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type="payment.status_changed", actor=actor.name,
                     source=actor.source, reason=f"channel reports payment {stage}", before=before,
                     after={"payment_id": payment.id, **{k: _text(v) for k, v in updates.items()}}, payload_ref=ref)
    sync.changes.append(f"payment {payment.status} → {stage}" if "status" in updates
                        else f"payment {', '.join(sorted(updates))} reported")


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


async def follow_refunds(actor: Actor, order_id: int, inbound: InboundOrder, reading: Reading,
                         ref: str | None) -> list[str]:
    """The channel's refunds that carry an id open or move after-sales (``domain.after_sales.channel``)."""
    if not inbound.refunds:
        return []
    return await after_sale_reports.follow_channel(actor, order_id, inbound.refunds, reading.after_sale,
                                                   payload_ref=ref)


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
            sync = Sync()
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
