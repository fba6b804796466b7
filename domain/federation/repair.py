"""The actions a diagnosis suggests, as use cases: each goes through the one write path and leaves lineage.

    order = await apply_wms_confirmation(actor, 42, SYSTEMS)   # the WMS shipped, the callback was lost: ship it
    await repush_to_wms(actor, 42, "WMS lost the delivery order")
    order = await resync_from_channel(actor, 42)               # re-apply what the channel last said
    alert = await escalate(actor, 42, "WMS_AHEAD", "customer called twice")

``apply_wms_confirmation`` asks the WMS again (it does not trust a cached or
earlier answer), keeps that exchange as evidence, and applies the WMS's word
as the lost callback would have been applied (``wms_shipping``): the order
ships with the WMS's own waybill, time and warehouse through
``domain.orders``, walking through PICKING and PACKED if it must.
``recover_confirmation`` is that last step on its own, shared with the
leader's confirmation sweep (``confirmation_sweep``), which finds lost
callbacks without a person asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TypeGuard

from domain.actor import Actor
from domain.alerts.raising import raise_alert
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.federation import delivery_orders, evidence, wms_shipping
from domain.federation.ports import DeliveryConfirmation, DeliveryState, Systems, WmsStatus
from domain.federation.views import ask_deliveries, delivery_groups
from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.intake.apply import channel_actor, reconcile_status
from domain.intake.changes import Sync
from domain.intake.reading import read, tables_for
from domain.order_writes import lock_order, require_writer
from domain.unit_of_work import unit_of_work
from events import log, signals
from models import Alert, Channel, ChannelOrderState, DeliveryOrder, Order

#: The alert an escalation raises.
ESCALATED = "federation.escalated"


async def apply_wms_confirmation(actor: Actor, order_id: int, systems: Systems, *, budget: float | None = 10.0,
                                 reason: str = "") -> Order:
    """Ship the order as the WMS says it shipped (its waybills, time, warehouse); refuse if the WMS does not say so.

    The confirmation that never arrived is rebuilt from the WMS's answer and
    applied by ``wms_shipping.apply_confirmation``, the very path the callback
    takes, with the fresh exchange as its evidence.
    """
    require_writer(actor)
    order = await Order.filter(id=order_id, tenant_id=actor.tenant_id).first()
    if order is None:
        raise NotFound("no such order", field="order")
    groups = await delivery_groups(actor.tenant_id, [order_id])
    if not groups:
        raise Conflict("no delivery order of this order was pushed to a WMS", field="order")
    answers = await asyncio.gather(*(ask_deliveries(actor.tenant_id, group, systems, budget=budget) for group in groups))
    shipped: list[tuple[DeliveryOrder, DeliveryState, list[int]]] = []
    said: list[str] = []
    applied: list[str] = []
    for group, answer in zip(groups, answers, strict=True):
        if answer.error is not None:
            raise Conflict(f"the WMS {group.connection.code} could not be asked ({answer.error.message}); "
                           "nothing changed", field="order")
        for row in group.rows:
            state = (answer.value or {}).get(row.code)
            said.append(f"{row.code}: {(state.raw_status or state.status.value) if state else 'unknown'}")
            if shipped_there(state):
                if row.status == delivery_orders.CONFIRMED:
                    applied.append(row.code)
                else:
                    shipped.append((row, state, answer.evidence_about(row.code)))
    if not shipped and applied:
        raise Conflict(f"the WMS's confirmation of {', '.join(applied)} is applied already; nothing to do", field="order")
    if not shipped:
        raise Conflict(f"the WMS does not say this order shipped ({'; '.join(said)}); nothing to apply", field="order")
    for row, state, exchange_ids in shipped:
        why = f"applied the WMS's confirmation of {row.code}, which never arrived" + (f": {reason}" if reason else "")
        outcome = await recover_confirmation(actor, row, state, exchange_ids, why=why)
        if outcome.outcome not in (wms_shipping.APPLIED, wms_shipping.PARTIAL):
            raise Conflict(f"the WMS's confirmation of {row.code} was not applied: "
                           f"{outcome.reason or outcome.outcome}", field="order")
    return await Order.get(id=order_id)


def shipped_there(state: DeliveryState | None) -> TypeGuard[DeliveryState]:
    """The WMS says the delivery order left, with at least one parcel: a confirmation can be rebuilt from it."""
    return state is not None and state.status == WmsStatus.SHIPPED and bool(state.parcels)


async def recover_confirmation(actor: Actor, row: DeliveryOrder, state: DeliveryState, exchange_ids: list[int], *,
                               why: str) -> wms_shipping.ConfirmOutcome:
    """Apply the WMS's answer that ``row`` shipped as its lost callback would have been; lineage says ``why``.

    The confirmation is rebuilt from ``state`` (a fresh answer, ``exchange_ids``
    its evidence) and goes through ``wms_shipping.apply_confirmation``, the
    callback's own path, so a confirmation applied already is a duplicate that
    changes nothing. Only an applied (or partial) one adds the lineage row
    ``wms.confirmation_recovered``.
    """
    confirmation = DeliveryConfirmation(
        code=row.code, wms_order_id=row.wms_order_id, warehouse_code="", parcels=tuple(state.parcels),
        shipped=dict(state.shipped), confirmed_at=state.updated_at or datetime.now(UTC),
        final=state.raw_status.upper() != "PARTDELIVERED")
    proof = evidence.ref(exchange_ids[-1]) if exchange_ids else None
    outcome = await wms_shipping.apply_confirmation(actor, row.warehouse_id, confirmation,  # type: ignore[attr-defined]
                                                    evidence_ref=proof)
    if outcome.outcome in (wms_shipping.APPLIED, wms_shipping.PARTIAL):
        async with unit_of_work():
            await log.append(
                tenant_id=actor.tenant_id, order_id=row.order_id, type="wms.confirmation_recovered",  # type: ignore[attr-defined]
                actor=actor.name, source=actor.source, reason=why[:500],
                after={"code": row.code, "wms_status": state.raw_status or state.status.value,
                       "parcels": [{"carrier": p.carrier, "tracking_no": p.tracking_no} for p in state.parcels],
                       "shipment_ids": outcome.shipments, "exchange_ids": exchange_ids},
                payload_ref=proof)
    return outcome


async def repush_to_wms(actor: Actor, order_id: int, reason: str, *, only: Collection[str] | None = None) -> Order:
    """Send the order's delivery orders (or ``only`` those codes) to the WMS again, by the same codes (so the WMS
    cannot hold two)."""
    require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say why the order is pushed again", field="reason")
    now = datetime.now(UTC)
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        queued = await delivery_orders.queue_for_order(order.id, actor.tenant_id, None)
        rows = list(await DeliveryOrder.filter(order_id=order.id, tenant_id=actor.tenant_id).select_for_update())
        # a row a sender holds right now (lease running) is being pushed already: leave it to that sender
        held = {row.id for row in rows if row.lease_until is not None and row.lease_until > now}
        again = [row for row in rows if row.id not in held and (only is None or row.code in only) and (
            row.status in (delivery_orders.PUSHED, delivery_orders.FAILED)
            or (row.status == delivery_orders.PENDING and row.id not in {q.id for q in queued}))]
        if not again and not queued:
            shown = ", ".join(f"{row.code} {row.status}" for row in rows) or "the order is not allocated to a WMS"
            raise Conflict(f"no delivery order of this order can be pushed again ({shown})", field="order")
        await DeliveryOrder.filter(id__in=[row.id for row in again]).update(
            status=delivery_orders.PENDING, next_attempt_at=now, last_error="", updated_at=now)
        await log.append(
            tenant_id=actor.tenant_id, order_id=order.id, type="wms.repush_requested", actor=actor.name,
            source=actor.source, reason=reason[:500],
            before={"delivery_orders": [{"code": r.code, "status": r.status} for r in again]},
            after={"delivery_orders": [{"code": r.code, "status": "pending"} for r in again + queued]})
    signals.ring(delivery_orders.WMS_PUSH)
    return order


async def resync_from_channel(actor: Actor, order_id: int, reason: str = "") -> Order:
    """Re-apply the channel's last word about the order (its stored codes, mapped by today's tables)."""
    require_writer(actor)
    state = await ChannelOrderState.filter(order_id=order_id, tenant_id=actor.tenant_id).first()
    if state is None:
        raise Conflict("the channel has never told us about this order", field="order")
    order = await Order.filter(id=order_id, tenant_id=actor.tenant_id).first()
    assert order is not None  # the channel state belongs to the tenant's order
    channel = await Channel.get(id=order.channel_id)  # type: ignore[attr-defined]
    mappings = await mapping_tables.load(actor.tenant_id, tables_for(state.source, state.extra_codes or {}))
    reading = read(state.source, state.status_code, state.extra_codes or {}, mappings)
    ref = payloads.ref(state.payload_sha256) if state.payload_sha256 else None
    sync = Sync()
    async with unit_of_work():
        locked = await lock_order(actor, order_id)
        before = locked.status
        locked = await reconcile_status(channel_actor(actor.tenant_id, channel.code, via="resync"), locked, reading, sync, ref)
        await log.append(
            tenant_id=actor.tenant_id, order_id=order_id, type="order.resynced_from_channel", actor=actor.name,
            source=actor.source, reason=(reason or f"re-applied {reading.describe() or state.status_code}")[:500],
            before={"status": before}, after={"status": locked.status, "changes": sync.changes, "kept": sync.kept},
            payload_ref=ref)
    return await Order.get(id=order_id)


async def escalate(actor: Actor, order_id: int, code: str, reason: str) -> Alert:
    """Raise an alert for a person about a discrepancy (once per order while it is open)."""
    require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say what a person should look at", field="reason")
    if len(code) > 40:
        raise ValidationFailed("a discrepancy code is at most 40 characters", field="code")
    async with unit_of_work():
        order = await lock_order(actor, order_id)
        alert = await raise_alert(tenant_id=actor.tenant_id, order_id=order.id, kind=ESCALATED, severity="critical",
                                  message=f"{code or 'escalated'}: {reason}"[:500],
                                  details={"code": code, "escalated_by": actor.name}, actor=actor.name,
                                  source=actor.source)
    return alert
