"""Decisions owed to a sales channel, pushed after commit: a small outbox on the after-sale row itself.

    await push_due(CHANNEL_AFTER_SALE_APIS)      # the leader's job (api/after_sale_tasks.py), woken after commits

Why this shape: a decision (a person's, or the policy's automatic approval)
commits with ``push_state = pending`` on the after-sale, in the same
transaction as the decision, so a crash can lose no push; the channel is
called outside any transaction; the outcome is written back:

- accepted → ``done``, lineage ``after_sale.pushed``;
- throttled or unavailable → tried again after 2 s, 10 s, 1 min, 5 min, 30 min,
  then ``failed``;
- refused (credentials, a refund the platform no longer takes), or out of
  tries → ``failed``, lineage ``after_sale.push_failed`` and an
  ``after_sale.push_failed`` alert for a person to settle on the platform;
- a channel with no after-sale API (or none configured for its kind) →
  ``unsupported``, recorded once: the decision stays ours.

Only the outbox leader pushes, so a decision is never pushed twice at once;
a push the channel took but whose answer was lost is pushed again, which
the platforms treat as a repeat of the same decision.
"""

from __future__ import annotations

from datetime import timedelta

from domain.actor import Actor, Role
from domain.after_sales import records
from domain.after_sales.moves import APPROVE, DONE, FAILED, PENDING, UNSUPPORTED, now
from domain.after_sales.ports import ChannelAfterSaleApis
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import clear_alerts, raise_alert
from domain.inbound.channel_api import ApiRefused, ChannelApiError, Throttled
from domain.unit_of_work import unit_of_work
from models import AfterSale, Channel, Order

#: Seconds before each further try of a push the channel could not take (then it has failed).
RETRY_DELAYS = (2.0, 10.0, 60.0, 300.0, 1800.0)
PUSHER = "ordergraph: channel push"


async def due_ids(limit: int = 20) -> list[int]:
    """Pending pushes whose time has come, oldest first."""
    return list(await AfterSale.filter(push_state=PENDING, push_due_at__lte=now()).order_by("push_due_at", "id")
                .limit(limit).values_list("id", flat=True))


async def push_due(apis: ChannelAfterSaleApis, limit: int = 20) -> int:
    """Push every due decision once; how many were tried."""
    ids = await due_ids(limit)
    for after_sale_id in ids:
        await push_one(apis, after_sale_id)
    return len(ids)


async def push_one(apis: ChannelAfterSaleApis, after_sale_id: int) -> str:
    """Push one pending decision and record the outcome (``done``, ``retry``, ``failed``, ``unsupported``, ``skipped``)."""
    sale = await AfterSale.filter(id=after_sale_id, push_state=PENDING).first()
    if sale is None:
        return "skipped"
    order = await Order.get(id=sale.order_id)  # type: ignore[attr-defined]
    channel = await Channel.get(id=order.channel_id)  # type: ignore[attr-defined]
    action, attempt = sale.push_action, sale.push_attempts + 1
    error: ChannelApiError | None = None
    try:
        api = apis.for_channel(channel.kind, (channel.config or {}).get("api") or {})
        if api is None:
            return await _record(sale.id, action, UNSUPPORTED, attempt,
                                 f"channel {channel.code} ({channel.kind}) takes no after-sale decisions from us")
        if action == APPROVE:
            amount = sale.approved_amount if sale.approved_amount is not None else sale.requested_amount
            await api.approve_refund(sale.external_id or "", amount)
        else:
            await api.reject_refund(sale.external_id or "", sale.decision_note or "rejected")
    except ChannelApiError as caught:
        error = caught
    if error is None:
        return await _record(sale.id, action, DONE, attempt, f"{action} pushed to {channel.code}")
    final = isinstance(error, ApiRefused) or attempt > len(RETRY_DELAYS)
    if final:
        return await _record(sale.id, action, FAILED, attempt, error.message)
    delay = RETRY_DELAYS[attempt - 1]
    if isinstance(error, Throttled):
        delay = max(delay, error.retry_after)
    return await _record(sale.id, action, PENDING, attempt, error.message, retry_in=delay)


async def _record(after_sale_id: int, action: str, state: str, attempt: int, message: str, *,
                  retry_in: float | None = None) -> str:
    """Write the push outcome, unless the decision changed while the channel was asked."""
    async with unit_of_work():
        tenant_id = await AfterSale.filter(id=after_sale_id).first().values_list("tenant_id", flat=True)
        actor = Actor(tenant_id=int(tenant_id), role=Role.SERVICE, name=PUSHER, source="ordergraph")  # type: ignore[arg-type]
        sale, _ = await records.lock(actor, after_sale_id)
        if sale.push_state != PENDING or sale.push_action != action:
            return "skipped"
        before = records.snapshot(sale)
        sale.push_attempts, sale.push_error = attempt, ("" if state == DONE else message[:300])
        sale.push_state = state
        if state == PENDING:
            sale.push_due_at = now() + timedelta(seconds=retry_in or RETRY_DELAYS[0])
            await sale.save(update_fields=["push_attempts", "push_error", "push_state", "push_due_at", "updated_at"])
            return "retry"
        extra = {"action": action, "attempts": attempt}
        subject = f"after_sale:{sale.id}"
        if state == DONE:
            await records.save(actor, sale, before, "after_sale.pushed", message, extra=extra)
            await clear_alerts(tenant_id=sale.tenant_id, order_id=sale.order_id,  # type: ignore[attr-defined]
                               kind=AlertKind.AFTER_SALE_PUSH_FAILED, subject=subject, actor=actor.name)
        elif state == UNSUPPORTED:
            await records.save(actor, sale, before, "after_sale.push_skipped", message, extra=extra)
        else:
            await records.save(actor, sale, before, "after_sale.push_failed", message, extra=extra)
            await raise_alert(tenant_id=sale.tenant_id, order_id=sale.order_id,  # type: ignore[attr-defined]
                              kind=AlertKind.AFTER_SALE_PUSH_FAILED, subject=subject, severity="warning",
                              message=f"the channel did not take our {action} of refund {sale.external_id}: "
                                      f"{message[:200]}; settle it on the platform",
                              details={"after_sale_id": sale.id, "action": action, "attempts": attempt},
                              actor=actor.name)
    return state if state != DONE else "done"
