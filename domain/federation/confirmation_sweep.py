"""The confirmation sweep: the second path for WMS confirmations, so no shipment is lost with its callback.

    sweep = ConfirmationSweep(SYSTEMS, after=timedelta(minutes=10))
    reports = await sweep.round()      # every active WMS connection of every tenant, once
    reports[0].recovered               # ["OG000000042-SH"]: shipped here from the WMS's answer

An order pushed to a WMS ships in OrderGraph when the WMS calls back
``deliveryorder.confirm``. A callback can be lost (the WMS gave up on it, a
process died mid-request), and the order would wait in ALLOCATED for ever.
So the leader asks: each round, for every active WMS connection, the
delivery orders it accepted (``pushed``) more than ``after`` ago and never
confirmed, and not asked about in the last ``every`` (the WMS is asked about
each open delivery order once per ``every``, not once per round) — at most ``limit`` of them, oldest first; when there are more, a
round carries on after where the last one stopped, so a backlog larger than
the limit is walked through instead of its oldest rows being asked for ever
— are asked about ``batch`` codes per call (``views.ask_deliveries``), and
by what the WMS says:

- **shipped**: applied exactly as the diagnosis repair applies it
  (``repair.recover_confirmation``, the callback's own path), with a lineage
  row ``wms.confirmation_recovered`` by ``wms sweep`` saying the callback
  never arrived; a callback that arrives afterwards is a duplicate. One the
  order cannot take (held, cancelled) raises ``wms_confirm_conflict``, as the
  callback would have;
- **unknown**: the push was lost after it was counted as sent; the delivery
  order is pushed again by the same code (``repair.repush_to_wms``);
- **cancelled** there while still open here: an alert for a person
  (``federation.escalated``, code ``WMS_CANCELLED``, as the diagnosis suggests);
- anything else (still being picked): asked again next round.

Alerts are raised once per delivery order (their subject is its code), so a
person who resolves one is not asked again each round. A WMS that cannot be
asked (down, too slow for ``budget``) is left alone until the next round
with nothing changed; the failed exchange is kept like any other.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.errors import DomainError
from domain.federation import delivery_orders as rows_of
from domain.federation import wms_shipping
from domain.federation.asking import Answer
from domain.federation.ports import DeliveryState, Systems, WmsStatus
from domain.federation.repair import recover_confirmation, repush_to_wms, shipped_there
from domain.federation.views import ask_deliveries, delivery_groups
from domain.unit_of_work import unit_of_work
from models import Alert, DeliveryOrder, Order, SystemConnection

log = logging.getLogger("ordergraph.wms")

#: Who the sweep is in lineage and on the board.
ACTOR_NAME = "wms sweep"
#: The discrepancy code of a delivery order the WMS cancelled while the order is open here (as the diagnosis says).
CANCELLED_THERE = "WMS_CANCELLED"


@dataclass(slots=True)
class SweepReport:
    """What one round did for one WMS connection (codes of delivery orders)."""

    tenant_id: int
    connection: str
    asked: int = 0
    recovered: list[str] = field(default_factory=list)
    repushed: list[str] = field(default_factory=list)
    cancelled_there: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    unreachable: str = ""

    @property
    def acted(self) -> bool:
        return bool(self.recovered or self.repushed or self.cancelled_there or self.conflicts or self.unreachable)


def sweep_actor(tenant_id: int) -> Actor:
    """The sweep as lineage shows it: a system, not a person."""
    return Actor(tenant_id=tenant_id, role=Role.SERVICE, name=ACTOR_NAME, source="ordergraph")


class ConfirmationSweep:
    """The rounds (see the module docstring); keeps, per connection, where the last bounded round stopped."""

    def __init__(self, systems: Systems, *, after: timedelta = timedelta(minutes=10), every: timedelta = timedelta(0),
                 limit: int = 500, batch: int = 100, budget: float | None = 60.0) -> None:
        self.systems = systems
        self.after = after
        self.every = every
        self.limit = limit
        self.batch = batch
        self.budget = budget
        self._resume: dict[int, tuple[datetime, int]] = {}

    async def round(self) -> list[SweepReport]:
        """Sweep every active WMS connection once, all at the same time: a slow or failing WMS neither delays
        nor stops the others."""
        connections = await SystemConnection.filter(kind="wms", active=True).order_by("id")
        reports = await asyncio.gather(*(self._sweep_logged(connection) for connection in connections))
        return [report for report in reports if report is not None]

    async def _sweep_logged(self, connection: SystemConnection) -> SweepReport | None:
        try:
            return await self.sweep_connection(connection)
        except Exception:  # a database blip or a bad answer: the next round tries again
            log.exception("confirmation sweep of WMS connection %s failed", connection.id)
            return None

    async def sweep_connection(self, connection: SystemConnection) -> SweepReport:
        """Ask about this connection's unconfirmed delivery orders and act on the answers."""
        report = SweepReport(connection.tenant_id, connection.code)  # type: ignore[attr-defined]
        rows = await self._due(connection)
        for start in range(0, len(rows), self.batch):
            batch = rows[start:start + self.batch]
            if not await self._ask_and_act(connection, batch, report):
                return report  # the WMS could not be asked: the rest waits for the next round, where it stopped
            await DeliveryOrder.filter(id__in=[row.id for row in batch]).update(swept_at=datetime.now(UTC))
            self._resume[connection.id] = (batch[-1].pushed_at, batch[-1].id)  # type: ignore[assignment]
        if len(rows) < self.limit:
            self._resume.pop(connection.id, None)  # all seen: the next round starts from the oldest again
        return report

    async def _due(self, connection: SystemConnection) -> list[DeliveryOrder]:
        """Pushed, unconfirmed, older than ``after``: up to ``limit``, oldest first after where the last round stopped,
        then from the oldest again (a bounded round still fills up)."""
        now = datetime.now(UTC)
        query = DeliveryOrder.filter(Q(swept_at__isnull=True) | Q(swept_at__lte=now - self.every),
                                     connection_id=connection.id, status=rows_of.PUSHED, pushed_at__lte=now - self.after)
        resume = self._resume.get(connection.id)
        if resume is None:
            return list(await query.order_by("pushed_at", "id").limit(self.limit))
        pushed_at, row_id = resume
        later = list(await query.filter(Q(pushed_at__gt=pushed_at) | Q(pushed_at=pushed_at, id__gt=row_id))
                     .order_by("pushed_at", "id").limit(self.limit))
        if len(later) == self.limit:
            return later
        earlier = await query.filter(Q(pushed_at__lt=pushed_at) | Q(pushed_at=pushed_at, id__lte=row_id)) \
            .order_by("pushed_at", "id").limit(self.limit - len(later))
        return later + list(earlier)

    async def _ask_and_act(self, connection: SystemConnection, batch: Sequence[DeliveryOrder],
                           report: SweepReport) -> bool:
        """One call per warehouse code the WMS knows the batch under; False when the WMS could not be asked."""
        tenant_id: int = connection.tenant_id  # type: ignore[attr-defined]
        wanted = {row.code for row in batch}
        groups = [group for group in await delivery_groups(tenant_id, sorted({row.order_id for row in batch}))  # type: ignore[attr-defined]
                  if group.connection.id == connection.id]
        for group in groups:
            codes = [code for code in group.codes if code in wanted]
            if not codes:
                continue
            answer = await ask_deliveries(tenant_id, group, self.systems, codes=codes, budget=self.budget)
            if answer.error is not None:
                report.unreachable = answer.error.message[:300]
                return False
            report.asked += len(codes)
            await self._act(sweep_actor(tenant_id), connection, [row for row in group.rows if row.code in codes],
                            answer, report)
        return True

    async def _act(self, actor: Actor, connection: SystemConnection, rows: Sequence[DeliveryOrder],
                   answer: Answer[dict[str, DeliveryState]], report: SweepReport) -> None:
        lost: dict[int, list[DeliveryOrder]] = defaultdict(list)
        for row in rows:
            state = (answer.value or {}).get(row.code)
            exchange_ids = answer.evidence_about(row.code)
            if shipped_there(state):
                await self._recover(actor, row, state, exchange_ids, report)
            elif state is not None and state.status == WmsStatus.UNKNOWN:
                lost[row.order_id].append(row)  # type: ignore[attr-defined]
            elif state is not None and state.status == WmsStatus.CANCELLED:
                await _cancelled_there(actor, connection, row, exchange_ids)
                report.cancelled_there.append(row.code)
            else:
                report.waiting.append(row.code)
        for order_id, missing in lost.items():
            codes = [row.code for row in missing]
            reason = (f"the WMS {connection.code} does not know {', '.join(codes)}, counted as sent: the push was "
                      "lost; the WMS sweep pushes it again by the same code")
            try:
                await repush_to_wms(actor, order_id, reason, only=codes)
            except DomainError as refusal:  # being pushed right now, or no longer pushable: nothing to add
                log.info("confirmation sweep: %s not pushed again: %s", ", ".join(codes), refusal.message[:200])
                continue
            report.repushed.extend(codes)

    async def _recover(self, actor: Actor, row: DeliveryOrder, state: DeliveryState, exchange_ids: list[int],
                       report: SweepReport) -> None:
        why = (f"the WMS's confirmation of {row.code} never arrived; the WMS sweep found it shipped there "
               f"(accepted {row.pushed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC) and applied it")  # type: ignore[union-attr]
        outcome = await recover_confirmation(actor, row, state, exchange_ids, why=why)
        if outcome.outcome in (wms_shipping.APPLIED, wms_shipping.PARTIAL):
            report.recovered.append(row.code)
        elif outcome.outcome == wms_shipping.CONFLICT:
            await _once(actor, row, AlertKind.WMS_CONFIRM_CONFLICT,
                        f"WMS confirmation of {row.code} (found by the WMS sweep) not applied: {outcome.reason}",
                        {"code": row.code, "exchange_ids": exchange_ids})
            report.conflicts.append(row.code)


async def _cancelled_there(actor: Actor, connection: SystemConnection, row: DeliveryOrder,
                           exchange_ids: list[int]) -> None:
    status = await Order.filter(id=row.order_id).first().values_list("status", flat=True)  # type: ignore[attr-defined]
    await _once(actor, row, AlertKind.FEDERATION_ESCALATED,
                f"{CANCELLED_THERE}: the WMS {connection.code} cancelled delivery order {row.code} while the order "
                f"is {status} here; nothing ships for it unless a person re-allocates or cancels the order",
                {"code": CANCELLED_THERE, "delivery_order": row.code, "wms": connection.code,
                 "escalated_by": ACTOR_NAME, "exchange_ids": exchange_ids})


async def _once(actor: Actor, row: DeliveryOrder, kind: AlertKind, message: str, details: dict[str, object]) -> None:
    """Raise an alert about one delivery order unless one was raised about it already (open or resolved)."""
    key = {"tenant_id": actor.tenant_id, "order_id": row.order_id, "kind": kind, "subject": row.code}  # type: ignore[attr-defined]
    if await Alert.exists(**key):
        return
    async with unit_of_work():
        await raise_alert(**key, severity="critical", message=message, details=details,
                          actor=actor.name, source=actor.source)
