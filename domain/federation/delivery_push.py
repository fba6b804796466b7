"""Sending due delivery orders to their WMS (and cancellations of them), with retries, leases and evidence.

    pusher = DeliveryPusher(SYSTEMS, PushPolicy(concurrency=8))
    await pusher.run()          # the leader's loop; pusher.drain() does one pass to the end (tests, CLI)

Claiming a row is a compare-and-set on ``attempts`` that also sets a lease
(``lease_until``): only one process ever holds a row, and a process killed
mid-call leaves a lease that expires, after which the row is claimed again
and sent again with the SAME code — the WMS de-duplicates it, so a lost
answer costs a duplicate answer, never a second delivery order. Only the
holder (the one whose ``attempts`` value is still on the row) records the
outcome.

Each attempt, in one transaction afterwards: the exchanges kept as evidence,
the row moved (``pushed`` / back to ``pending`` with ``next_attempt_at`` on
the backoff schedule / ``failed`` once the attempts run out or the WMS
refuses), lineage (``wms.delivery_pushed``, ``wms.delivery_push_failed``,
``wms.delivery_cancelled``, ``wms.delivery_cancel_refused``) pointing at the
evidence, and an alert when a person must act. While a WMS fails for
transport reasons the leader's loop probes it every ``probe_interval``
seconds (``wms_probe``) instead of shortening the backoff: the outage is on
the board within seconds (``reachability``, ``system.unreachable``), and when
the WMS answers again the rows that failed meanwhile are due at once, with
their attempts unspent. Nothing here runs inside an
order's transaction: a slow or dead WMS delays deliveries, never intake.
Held orders wait (their rows are not claimed) until released.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from domain.alerts.raising import raise_alert
from domain.federation import delivery_orders as rows_of
from domain.federation import reachability
from domain.federation.connections import connection_key
from domain.federation.evidence import keep, ref
from domain.federation.ports import (
    DeliveryLine,
    DeliveryRequest,
    Exchange,
    Receiver,
    Systems,
    SystemRefused,
    SystemUnavailable,
)
from domain.federation.wms_probe import probe_failing
from domain.statuses import OrderStatus
from domain.stock.reservations import ReservationKind, ReservationStatus
from domain.unit_of_work import unit_of_work
from events import log, signals
from events.signals import wait_or_timeout
from events.tasks import slots_to_claim
from models import DeliveryOrder, Order, OrderEvent, OrderLine, Reservation, SystemExchange, WarehouseSystems
from models.order import order_no

logger = logging.getLogger("ordergraph.wms")

PUSH_FAILED_ALERT = "wms_push_failed"
CANCEL_REFUSED_ALERT = "wms_cancel_refused"
CANCEL_FAILED_ALERT = "wms_cancel_failed"
#: Orders whose delivery orders may go to the WMS (held ones wait; the feed withdraws the rest).
SENDABLE = frozenset({OrderStatus.ALLOCATED, OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED})
JITTER = 0.2


@dataclass(frozen=True, slots=True)
class PushPolicy:
    """How hard to try: in flight at once, lease per attempt, the backoff schedule, when to give up, how often
    a failing WMS is probed."""

    concurrency: int = 8
    lease: float = 60.0
    poll_interval: float = 1.0
    delays: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800)
    max_attempts: int = 10
    probe_interval: float = 5.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        base = self.delays[min(max(attempt, 1), len(self.delays)) - 1] if self.delays else 0.0
        return base * (1 + (rng or random).uniform(-JITTER, JITTER))


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    attempt: int     # the ``attempts`` value this holder wrote: its proof of holding the row


def _free(now: datetime) -> Q:
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


async def claim(limit: int, lease: float) -> list[Claim]:
    """Lease up to ``limit`` due rows (pushes of orders not on hold, and cancellations), oldest due first."""
    if limit <= 0:
        return []
    now = datetime.now(UTC)
    due = DeliveryOrder.filter(_free(now), next_attempt_at__lte=now)
    candidates = await due.filter(status=rows_of.CANCEL_PENDING).order_by("next_attempt_at", "id").limit(limit) \
        .values("id", "attempts", "next_attempt_at")
    candidates += await due.filter(status=rows_of.PENDING).exclude(order__status=OrderStatus.ON_HOLD) \
        .order_by("next_attempt_at", "id").limit(limit).values("id", "attempts", "next_attempt_at")
    candidates.sort(key=lambda c: (c["next_attempt_at"], c["id"]))
    until = now + timedelta(seconds=lease)
    won = []
    for candidate in candidates[:limit]:
        taken = await DeliveryOrder.filter(_free(now), id=candidate["id"], attempts=candidate["attempts"],
                                           status__in=[rows_of.PENDING, rows_of.CANCEL_PENDING]) \
            .update(attempts=candidate["attempts"] + 1, lease_until=until)
        if taken:
            won.append(Claim(candidate["id"], candidate["attempts"] + 1))
    return won


class DeliveryPusher:
    """The loop (see the module docstring). ``systems`` is the adapters registry, handed in."""

    def __init__(self, systems: Systems, policy: PushPolicy | None = None) -> None:
        self.systems = systems
        self.policy = policy or PushPolicy()
        self._inflight: set[asyncio.Task[None]] = set()
        self._logged_at = 0.0
        self._probe: asyncio.Task[int] | None = None

    async def run(self) -> None:
        """Run until cancelled (the leader's job): claim, send, wait for the doorbell or the poll interval."""
        doorbell = signals.listen(rows_of.WMS_PUSH)
        try:
            while True:
                doorbell.clear()
                free = slots_to_claim(self.policy.concurrency, len(self._inflight))
                try:
                    if free:
                        for claimed in await claim(free, self.policy.lease):
                            task = asyncio.create_task(self.attempt(claimed), name=f"wms-push-{claimed.id}")
                            self._inflight.add(task)
                            task.add_done_callback(self._finished)
                except Exception:  # the database is away: try again at the next tick
                    self._log("claiming delivery orders failed; retrying")
                if reachability.failing() and (self._probe is None or self._probe.done()):
                    self._probe = asyncio.create_task(self._probe_failing(), name="wms-probe")
                await wait_or_timeout(doorbell, self.policy.poll_interval)
        finally:
            signals.stop_listening(doorbell, rows_of.WMS_PUSH)
            running: list[asyncio.Task[Any]] = [*self._inflight, *([self._probe] if self._probe else [])]
            for task in running:
                task.cancel()
            for task in running:
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass

    async def _probe_failing(self) -> int:
        try:
            return await probe_failing(self.systems, every=self.policy.probe_interval)
        except Exception:  # the database is away: probe again at the next tick
            self._log("probing failing WMSs failed; retrying")
            return 0

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception():
            logger.error("delivery order attempt crashed", exc_info=task.exception())
        signals.ring(rows_of.WMS_PUSH)

    async def drain(self, rounds: int = 100) -> int:
        """Claim and send what is due now, until nothing is; how many attempts were made."""
        made = 0
        for _ in range(rounds):
            claimed = await claim(self.policy.concurrency, self.policy.lease)
            if not claimed:
                break
            await asyncio.gather(*(self.attempt(c) for c in claimed))
            made += len(claimed)
        return made

    def _log(self, message: str) -> None:
        now = time.monotonic()
        if now - self._logged_at > 10:
            self._logged_at = now
            logger.exception(message)

    # -------------------------------------------------------------- one attempt

    async def attempt(self, claimed: Claim) -> None:
        row = await DeliveryOrder.filter(id=claimed.id).select_related("connection", "warehouse", "order").first()
        if row is None or row.attempts != claimed.attempt:
            return
        try:
            async with asyncio.timeout(self.policy.lease * 0.8):
                if row.status == rows_of.CANCEL_PENDING:
                    await self._cancel(row, claimed)
                else:
                    await self._push(row, claimed)
        except TimeoutError:
            await self._unavailable(row, claimed, [], f"no outcome within {self.policy.lease * 0.8:g} s",
                                    cancelling=row.status == rows_of.CANCEL_PENDING)

    async def _push(self, row: DeliveryOrder, claimed: Claim) -> None:
        order: Order = row.order  # type: ignore[attr-defined]
        if order.status not in SENDABLE:
            # The feed decides what a cancelled or de-allocated order's rows become; look again shortly.
            await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt).update(
                attempts=claimed.attempt - 1, lease_until=None,
                next_attempt_at=datetime.now(UTC) + timedelta(seconds=self.policy.poll_interval * 5))
            return
        connection = row.connection  # type: ignore[attr-defined]
        request = await _request(row, order)
        if request is None:
            async with unit_of_work():
                if await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=rows_of.PENDING).update(
                        status=rows_of.CANCELLED, cancelled_at=datetime.now(UTC), lease_until=None,
                        last_error="nothing is allocated to this warehouse any more"):
                    await _lineage(row, "wms.delivery_withdrawn", f"{row.code} not sent: nothing is allocated here any more",
                                   {"code": row.code, "status": rows_of.CANCELLED})
            return
        trace: list[Exchange] = []
        try:
            if not connection.active:
                raise SystemUnavailable(f"WMS connection {connection.code} is switched off", code="INACTIVE")
            wms = self.systems.wms(connection.adapter, connection.config, key=connection_key(connection))
            result = await wms.push_delivery(request, trace=trace)
        except SystemUnavailable as error:
            await self._unavailable(row, claimed, trace, error.message)
            return
        except SystemRefused as error:
            await self._refused_push(row, claimed, trace, error)
            return
        except ValueError as error:  # the stored config no longer reads: a person must fix it
            await self._refused_push(row, claimed, trace, SystemRefused(f"connection config: {error}", code="CONFIG"))
            return
        now = datetime.now(UTC)
        async with unit_of_work():
            ids = await keep(row.tenant_id, connection, trace, order_id=row.order_id)  # type: ignore[attr-defined]
            recorded = await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=rows_of.PENDING).update(
                status=rows_of.PUSHED, wms_order_id=result.wms_order_id or row.wms_order_id, pushed_at=now,
                lease_until=None, last_error="")
            if not recorded:  # confirmed or withdrawn meanwhile: keep what the WMS said, leave the status
                await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt).update(
                    wms_order_id=result.wms_order_id or row.wms_order_id, pushed_at=now, lease_until=None)
            await _lineage(row, "wms.delivery_pushed",
                           f"{row.code} is in {connection.code}" + (" (it already had it)" if result.duplicate else ""),
                           {"code": row.code, "wms": connection.code, "wms_order_id": result.wms_order_id,
                            "duplicate": result.duplicate, "attempt": claimed.attempt},
                           ref(ids[-1]) if ids else None)

    async def _unavailable(self, row: DeliveryOrder, claimed: Claim, trace: list[Exchange], why: str, *,
                           cancelling: bool = False) -> None:
        """No answer: back on the schedule, or failed for good once the attempts are spent."""
        now = datetime.now(UTC)
        final = claimed.attempt >= self.policy.max_attempts
        status = row.status
        next_at = now + timedelta(seconds=self.policy.delay(claimed.attempt))
        async with unit_of_work():
            ids = await keep(row.tenant_id, row.connection, trace, order_id=row.order_id)  # type: ignore[attr-defined]
            moved = await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=status).update(
                status=rows_of.FAILED if final else status, next_attempt_at=None if final else next_at,
                lease_until=None, last_error=why[:500])
            if not moved:  # withdrawn or confirmed meanwhile: let go, the row's new state decides
                await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt).update(lease_until=None)
                return
            kind = "wms.delivery_cancel_failed" if cancelling else "wms.delivery_push_failed"
            await _lineage(row, kind, f"{row.code}: {why}" + ("; giving up" if final else f"; retry at {next_at:%H:%M:%S} UTC"),
                           {"code": row.code, "attempt": claimed.attempt, "final": final,
                            "next_attempt_at": None if final else next_at.isoformat()},
                           ref(ids[-1]) if ids else None)
            if final:
                what = "cancel" if cancelling else "send"
                await raise_alert(
                    tenant_id=row.tenant_id, order_id=row.order_id,  # type: ignore[attr-defined]
                    kind=CANCEL_FAILED_ALERT if cancelling else PUSH_FAILED_ALERT, severity="critical",
                    message=f"Could not {what} delivery order {row.code} to the WMS after {claimed.attempt} attempts: {why}",
                    details={"code": row.code, "exchange_ids": ids}, actor=rows_of.ACTOR, source=rows_of.SOURCE)

    async def _refused_push(self, row: DeliveryOrder, claimed: Claim, trace: list[Exchange], error: SystemRefused) -> None:
        """The WMS said no (unknown SKU, bad address…): retrying the same request cannot help."""
        async with unit_of_work():
            ids = await keep(row.tenant_id, row.connection, trace, order_id=row.order_id)  # type: ignore[attr-defined]
            await _as_error(ids, error.message)
            if not await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=rows_of.PENDING).update(
                    status=rows_of.FAILED, next_attempt_at=None, lease_until=None, last_error=error.message[:500]):
                await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt).update(lease_until=None)
                return
            await _lineage(row, "wms.delivery_push_failed", f"{row.code} refused by the WMS: {error.message}",
                           {"code": row.code, "attempt": claimed.attempt, "final": True, "wms_code": error.code},
                           ref(ids[-1]) if ids else None)
            await raise_alert(
                tenant_id=row.tenant_id, order_id=row.order_id, kind=PUSH_FAILED_ALERT,  # type: ignore[attr-defined]
                severity="critical", message=f"The WMS refused delivery order {row.code}: {error.message}",
                details={"code": row.code, "wms_code": error.code, "exchange_ids": ids},
                actor=rows_of.ACTOR, source=rows_of.SOURCE)

    async def _cancel(self, row: DeliveryOrder, claimed: Claim) -> None:
        connection = row.connection  # type: ignore[attr-defined]
        link = await WarehouseSystems.filter(warehouse_id=row.warehouse_id).first()  # type: ignore[attr-defined]
        warehouse_code = (link.wms_warehouse_code if link else "") or row.warehouse.code  # type: ignore[attr-defined]
        reason = await _cancel_reason(row)
        trace: list[Exchange] = []
        try:
            wms = self.systems.wms(connection.adapter, connection.config, key=connection_key(connection))
            await wms.cancel_delivery(row.code, warehouse_code, reason=reason, trace=trace)
        except (SystemUnavailable, ValueError) as error:
            await self._unavailable(row, claimed, trace, getattr(error, "message", str(error)), cancelling=True)
            return
        except SystemRefused as error:
            await self._cancel_refused(row, claimed, trace, error)
            return
        async with unit_of_work():
            ids = await keep(row.tenant_id, connection, trace, order_id=row.order_id)  # type: ignore[attr-defined]
            if await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=rows_of.CANCEL_PENDING).update(
                    status=rows_of.CANCELLED, cancelled_at=datetime.now(UTC), lease_until=None, last_error=""):
                await _lineage(row, "wms.delivery_cancelled", f"{connection.code} cancelled {row.code}",
                               {"code": row.code, "wms": connection.code, "reason": reason},
                               ref(ids[-1]) if ids else None)

    async def _cancel_refused(self, row: DeliveryOrder, claimed: Claim, trace: list[Exchange], error: SystemRefused) -> None:
        """Typically "already shipped": the parcel is gone, so a person must stop it or take it back."""
        connection = row.connection  # type: ignore[attr-defined]
        async with unit_of_work():
            ids = await keep(row.tenant_id, connection, trace, order_id=row.order_id)  # type: ignore[attr-defined]
            await _as_error(ids, error.message)
            if not await DeliveryOrder.filter(id=row.id, attempts=claimed.attempt, status=rows_of.CANCEL_PENDING).update(
                    status=rows_of.CANCEL_REFUSED, lease_until=None, last_error=error.message[:500]):
                return
            await _lineage(row, "wms.delivery_cancel_refused", f"{connection.code} refused to cancel {row.code}: {error.message}",
                           {"code": row.code, "wms": connection.code, "wms_code": error.code, "wms_reason": error.message},
                           ref(ids[-1]) if ids else None)
            await raise_alert(
                tenant_id=row.tenant_id, order_id=row.order_id, kind=CANCEL_REFUSED_ALERT,  # type: ignore[attr-defined]
                severity="critical",
                message=f"{connection.code} refused to cancel delivery order {row.code}: {error.message}",
                details={"code": row.code, "wms_code": error.code, "wms_reason": error.message, "exchange_ids": ids},
                actor=rows_of.ACTOR, source=rows_of.SOURCE)


# ------------------------------------------------------------------ helpers


async def _request(row: DeliveryOrder, order: Order) -> DeliveryRequest | None:
    """The delivery order as it goes now: the order's lines reserved at this warehouse, the receiver, the codes."""
    held = await Reservation.filter(order_id=order.id, warehouse_id=row.warehouse_id,  # type: ignore[attr-defined]
                                    status=ReservationStatus.ACTIVE, kind=ReservationKind.ORDER).values("line_id", "quantity")
    if not held:
        return None
    lines = {line.id: line for line in await OrderLine.filter(id__in=[r["line_id"] for r in held]).order_by("id")}
    link = await WarehouseSystems.filter(warehouse_id=row.warehouse_id).first()  # type: ignore[attr-defined]
    await order.fetch_related("channel")
    masked: dict[str, Any] = order.contact_masked if isinstance(order.contact_masked, dict) else {}
    return DeliveryRequest(
        code=row.code,
        order_no=order_no(order.id),
        warehouse_code=(link.wms_warehouse_code if link else "") or row.warehouse.code,  # type: ignore[attr-defined]
        owner_code=link.owner_code if link else "",
        receiver=Receiver(name=order.ship_name or str(masked.get("name") or ""),
                          phone=order.ship_phone or str(masked.get("phone") or ""),
                          province=order.ship_province, city=order.ship_city, district=order.ship_district,
                          address=order.ship_address or str(masked.get("address") or ""),
                          postal_code=order.ship_postal_code, country_code=order.ship_country_code or "CN"),
        lines=tuple(DeliveryLine(line_ref=str(lines[r["line_id"]].id), sku=lines[r["line_id"]].sku,
                                 quantity=r["quantity"], title=lines[r["line_id"]].title)
                    for r in sorted(held, key=lambda r: r["line_id"])),
        placed_at=order.placed_at,
        shop=getattr(order.channel, "name", "")[:60],  # type: ignore[attr-defined]
    )


async def _cancel_reason(row: DeliveryOrder) -> str:
    """Why the order is not going: the latest cancellation's reason, else the withdrawal's."""
    reason = await OrderEvent.filter(order_id=row.order_id, type="order.cancelled").order_by("-id") \
        .first().values_list("reason", flat=True)  # type: ignore[attr-defined]
    return (f"order cancelled: {reason}" if reason else "withdrawn by OrderGraph")[:200]


async def _as_error(ids: list[int], message: str) -> None:
    """A business refusal arrives as HTTP 200: its exchange counts as failed, with the WMS's words."""
    if ids:
        await SystemExchange.filter(id=ids[-1], outcome="ok").update(outcome="error", error=message[:500])


async def _lineage(row: DeliveryOrder, type: str, reason: str, after: dict[str, Any], payload_ref: str | None = None) -> None:
    await log.append(tenant_id=row.tenant_id, order_id=row.order_id, type=type, actor=rows_of.ACTOR,  # type: ignore[attr-defined]
                     source=rows_of.SOURCE, reason=reason, after=after, payload_ref=payload_ref)
