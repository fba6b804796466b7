"""The stock-drift breaker: when the ERP and the WMS disagree about a warehouse's stock, stop promising from it.

    report = await check_warehouse(warehouse_id, SYSTEMS, actor=SYSTEM_ACTOR)    # periodic task or checkStockDrift
    report.drift.sku_share, report.action      # 0.12, "opened"
    await reset_breaker(actor, warehouse_id, "counted by hand, ERP corrected")

For every SKU the warehouse stocks, the WMS's on-hand is compared with the
ERP's. When the share of differing SKUs, or of differing units, exceeds the
threshold (``drift_threshold`` in the ERP connection's config, a fraction,
default 0.05), the breaker opens: allocation skips the warehouse like a paused
one (``domain.allocation.allocate``), an alert names the top differing SKUs,
and lineage records why. A difference must persist to count: before opening, both
systems are asked again ``CONFIRM_AFTER_SECONDS`` later and only SKUs that
differ in both readings count (a shipment that left between the WMS's and the
ERP's answer is not drift). It closes by itself once the difference has stayed
under the threshold for ``drift_close_after_minutes`` (default 30), or when a
person resets it with a reason; either way the paid orders whose automatic
allocation failed meanwhile are allocated again. A SKU counts as differing only
when it is apart by more than the threshold share of its own on-hand (a unit in
flight on a SKU with thousands is not drift). A check that cannot ask both
systems changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.actor import Actor, Role
from domain.alerts.kinds import AlertKind
from domain.allocation.allocate import resume_waiting
from domain.alerts.raising import clear_alerts, raise_alert
from domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from domain.federation import evidence
from domain.federation.asking import Answer
from domain.federation.breaker_config import DEFAULT_THRESHOLD, breaker_settings
from domain.federation.ports import StockFigure, Systems
from domain.federation.views import ask_stock, stock_targets
from domain.unit_of_work import unit_of_work
from events import log
from models import Stock, SystemConnection, WarehouseSystems

log_ = logging.getLogger("ordergraph.federation")

#: SKUs named in the alert and the breaker's details.
TOP = 10
#: The most SKUs compared per check (one adapter call per system).
MAX_SKUS = 2000
#: How long after a reading over the threshold both systems are asked again before the breaker opens.
CONFIRM_AFTER_SECONDS = 3.0
SYSTEM_ACTOR = Actor(tenant_id=0, role=Role.SERVICE, name="stock-drift check", source="ordergraph")


def alert_subject(warehouse_code: str) -> str:
    """One drift alert per warehouse."""
    return f"warehouse:{warehouse_code}"[:64]


@dataclass(frozen=True, slots=True)
class SkuDrift:
    sku: str
    wms: int
    erp: int

    @property
    def difference(self) -> int:
        return self.wms - self.erp

    def as_json(self) -> dict[str, Any]:
        return {"sku": self.sku, "wms": self.wms, "erp": self.erp, "difference": self.difference}


@dataclass(frozen=True, slots=True)
class Drift:
    """How far the two systems are apart over the compared SKUs."""

    compared: int
    differing: int
    units: int                   # Σ max(wms, erp): the scale the unit share is measured on
    units_apart: int             # Σ |wms - erp|
    top: tuple[SkuDrift, ...]
    skus_apart: frozenset[str] = frozenset()

    @property
    def sku_share(self) -> float:
        return self.differing / self.compared if self.compared else 0.0

    @property
    def unit_share(self) -> float:
        return self.units_apart / self.units if self.units else 0.0

    def exceeds(self, threshold: float) -> bool:
        return self.sku_share > threshold or self.unit_share > threshold


def measure(skus: Sequence[str], wms: Mapping[str, StockFigure], erp: Mapping[str, StockFigure], *, top: int = TOP,
            within: frozenset[str] | None = None, tolerance: float = 0.0) -> Drift:
    """Compare on-hand per SKU; a SKU one system does not report counts as 0 there.

    ``within``: only these SKUs may count as differing (those that differed in an earlier reading).
    ``tolerance``: a SKU differs only when it is apart by more than this share of its larger figure — the
    unit or two in flight between the WMS and the ERP on a SKU with thousands on hand is not drift.
    """
    rows = [SkuDrift(sku, wms[sku].on_hand if sku in wms else 0, erp[sku].on_hand if sku in erp else 0) for sku in skus]
    apart = [row for row in rows if abs(row.difference) > tolerance * max(row.wms, row.erp, 0)
             and (within is None or row.sku in within)]
    apart.sort(key=lambda row: (-abs(row.difference), row.sku))
    return Drift(compared=len(rows), differing=len(apart), units=sum(max(r.wms, r.erp, 0) for r in rows),
                 units_apart=sum(abs(r.difference) for r in apart), top=tuple(apart[:top]),
                 skus_apart=frozenset(row.sku for row in apart))


def threshold_of(config: Mapping[str, Any]) -> tuple[float, timedelta]:
    """The ERP connection's ``drift_threshold`` (0-1) and ``drift_close_after_minutes``, or the defaults."""
    return breaker_settings(config)


@dataclass(slots=True)
class DriftReport:
    warehouse_id: int
    warehouse_code: str
    checked_at: datetime
    action: str                              # opened, closed, still_open, recovering, closed_ok, skipped
    message: str
    drift: Drift | None = None
    threshold: float = DEFAULT_THRESHOLD
    breaker_open: bool = False
    exchange_ids: list[int] = field(default_factory=list)


def _percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def _why(drift: Drift, threshold: float) -> str:
    tops = ", ".join(f"{r.sku} (WMS {r.wms}, ERP {r.erp})" for r in drift.top[:5])
    return (f"ERP and WMS on-hand differ for {drift.differing} of {drift.compared} SKUs ({_percent(drift.sku_share)}) "
            f"and {_percent(drift.unit_share)} of units; threshold {_percent(threshold)}. Top: {tops}")


async def check_warehouse(warehouse_id: int, systems: Systems, *, actor: Actor, budget: float | None = 30.0,
                          now: datetime | None = None, confirm_after: float = CONFIRM_AFTER_SECONDS) -> DriftReport:
    """Compare the warehouse's WMS and ERP stock and open, keep or close its breaker (see the module doc)."""
    if actor.tenant_id and not actor.may_write:
        raise Forbidden(f"role {actor.role} may not check stock drift")
    if actor.tenant_id:
        link = await WarehouseSystems.filter(warehouse_id=warehouse_id, tenant_id=actor.tenant_id).first()
    else:
        link = await WarehouseSystems.filter(warehouse_id=warehouse_id).first()
    if link is None:
        raise NotFound("the warehouse is not linked to a WMS", field="warehouse")
    tenant_id = link.tenant_id  # type: ignore[attr-defined]
    code, wms, wms_code, erp, erp_code = await stock_targets(tenant_id, warehouse_id)
    moment = now or datetime.now(UTC)
    if wms is None or erp is None:
        missing = "a WMS" if wms is None else "an ERP"
        return DriftReport(warehouse_id, code, moment, "skipped", f"no drift check: the warehouse has no {missing}",
                           breaker_open=link.breaker_open)
    skus = sorted(set(await Stock.filter(warehouse_id=warehouse_id).values_list("sku", flat=True)))[:MAX_SKUS]
    if not skus:
        return DriftReport(warehouse_id, code, moment, "skipped", "no drift check: the warehouse stocks no SKU",
                           breaker_open=link.breaker_open)
    threshold, close_after = threshold_of(erp.config or {})

    async def reading(within: frozenset[str] | None) -> tuple[Drift | None, Answer, Answer, str]:
        wms_answer, erp_answer = await asyncio.gather(ask_stock(tenant_id, wms, wms_code, skus, systems, budget=budget),
                                                      ask_stock(tenant_id, erp, erp_code, skus, systems, budget=budget))
        failed = [a for a in (wms_answer, erp_answer) if a.error is not None]
        if failed:
            why = "; ".join(f"{a.system} {a.connection}: {a.error.message}" for a in failed)  # type: ignore[union-attr]
            return None, wms_answer, erp_answer, why
        drift = measure(skus, wms_answer.value or {}, erp_answer.value or {}, within=within, tolerance=threshold)
        return drift, wms_answer, erp_answer, ""

    drift, wms_answer, erp_answer, why = await reading(None)
    if drift is not None and drift.exceeds(threshold) and not link.breaker_open and confirm_after > 0:
        await asyncio.sleep(confirm_after)  # a real difference is still there a moment later; one caught mid-shipment is not
        drift, wms_answer, erp_answer, why = await reading(drift.skus_apart)
    if drift is None:
        return DriftReport(warehouse_id, code, moment, "skipped", f"no drift check: {why}", threshold=threshold,
                           breaker_open=link.breaker_open, exchange_ids=wms_answer.exchange_ids + erp_answer.exchange_ids)
    report = await _decide(actor, tenant_id, warehouse_id, code, drift, threshold, close_after, moment,
                           wms_answer, erp_answer)
    if report.action == "closed":
        await resume_allocation(tenant_id, code, actor)
    return report


async def resume_allocation(tenant_id: int, code: str, actor: Actor) -> None:
    """The orders whose allocation failed while the breaker was open are allocated again now it is closed."""
    resumer = Actor(tenant_id=tenant_id, role=Role.SERVICE, name=actor.name, source=actor.source)
    run = await resume_waiting(resumer, f"allocation from {code} resumed")
    if run.allocated or run.still_waiting:
        log_.info("breaker of %s closed: %d waiting order(s) allocated, %d still waiting", code, run.allocated,
                  run.still_waiting)


async def _decide(actor: Actor, tenant_id: int, warehouse_id: int, code: str, drift: Drift, threshold: float,
                  close_after: timedelta, now: datetime, wms: Answer, erp: Answer) -> DriftReport:
    ids = wms.exchange_ids + erp.exchange_ids
    report = DriftReport(warehouse_id, code, now, "", "", drift=drift, threshold=threshold, exchange_ids=ids)
    details = {"sku_share": round(drift.sku_share, 4), "unit_share": round(drift.unit_share, 4), "threshold": threshold,
               "compared": drift.compared, "differing": drift.differing, "top": [r.as_json() for r in drift.top],
               "wms": wms.connection, "erp": erp.connection, "exchange_ids": ids, "checked_at": now.isoformat()}
    name = actor.name
    async with unit_of_work():
        link = await WarehouseSystems.filter(warehouse_id=warehouse_id).select_for_update().first()
        assert link is not None
        if drift.exceeds(threshold):
            if drift.differing:
                await evidence.mark_disagreed(ids, f"ERP and WMS stock differ for {drift.differing} SKUs")
            why = _why(drift, threshold)
            report.breaker_open = True
            if link.breaker_open:
                report.action, report.message = "still_open", why
                await WarehouseSystems.filter(id=link.id).update(breaker_details=details, drift_below_since=None,
                                                                 breaker_reason=why[:500])
                return report
            await WarehouseSystems.filter(id=link.id).update(breaker_open=True, breaker_reason=why[:500],
                                                             breaker_details=details, breaker_opened_at=now,
                                                             drift_below_since=None)
            await log.append(tenant_id=tenant_id, order_id=None, type="warehouse.breaker_opened", actor=name,
                             source=actor.source, reason=f"allocation from {code} paused: {why}"[:500],
                             before={"warehouse": code, "breaker_open": False},
                             after={"warehouse": code, "breaker_open": True, **details},
                             payload_ref=evidence.ref(ids[-1]) if ids else None)
            await raise_alert(tenant_id=tenant_id, kind=AlertKind.STOCK_DRIFT, subject=alert_subject(code), severity="critical",
                              message=f"Allocation from {code} paused: {why}", details={"warehouse": code, **details},
                              actor=name, source=actor.source)
            report.action, report.message = "opened", why
            return report
        under = (f"ERP and WMS agree within {_percent(threshold)}: {drift.differing} of {drift.compared} SKUs "
                 f"({_percent(drift.sku_share)}), {_percent(drift.unit_share)} of units apart")
        if not link.breaker_open:
            report.action, report.message = "closed_ok", under
            return report
        since = link.drift_below_since or now
        if close_after == timedelta(0) or (link.drift_below_since is not None and now - since >= close_after):
            await _close(tenant_id, link, code, name, actor.source, "warehouse.breaker_closed",
                         f"{under} since {since.isoformat(timespec='seconds')}: allocation from {code} resumes",
                         details, ids)
            report.action, report.message = "closed", under
            return report
        await WarehouseSystems.filter(id=link.id).update(drift_below_since=since, breaker_details=details)
        report.breaker_open = True
        report.action = "recovering"
        report.message = f"{under}; the breaker closes once this holds for {close_after} (since {since.isoformat(timespec='seconds')})"
        return report


async def _close(tenant_id: int, link: WarehouseSystems, code: str, actor: str, source: str, kind: str, reason: str,
                 details: dict[str, Any], ids: Sequence[int] = ()) -> None:
    await WarehouseSystems.filter(id=link.id).update(breaker_open=False, breaker_reason="", drift_below_since=None,
                                                     breaker_details=details)
    await log.append(tenant_id=tenant_id, order_id=None, type=kind, actor=actor, source=source, reason=reason[:500],
                     before={"warehouse": code, "breaker_open": True, "reason": link.breaker_reason},
                     after={"warehouse": code, "breaker_open": False},
                     payload_ref=evidence.ref(ids[-1]) if ids else None)
    await clear_alerts(tenant_id=tenant_id, kind=AlertKind.STOCK_DRIFT, subject=alert_subject(code), actor=actor)


async def reset_breaker(actor: Actor, warehouse_id: int, reason: str) -> WarehouseSystems:
    """A person closes the breaker (ops or admin), saying why; allocation from the warehouse resumes, and the
    orders whose allocation failed meanwhile are allocated again."""
    if actor.role not in (Role.ADMIN, Role.OPS):
        raise Forbidden("only ops or admins reset a stock-drift breaker")
    if not reason.strip():
        raise ValidationFailed("say why the breaker is reset", field="reason")
    async with unit_of_work():
        link = await WarehouseSystems.filter(warehouse_id=warehouse_id, tenant_id=actor.tenant_id).select_for_update() \
            .prefetch_related("warehouse").first()
        if link is None:
            raise NotFound("the warehouse is not linked to a WMS", field="warehouse")
        if not link.breaker_open:
            raise Conflict("the breaker is not open", field="warehouse")
        code = link.warehouse.code  # type: ignore[attr-defined]
        await _close(actor.tenant_id, link, code, actor.name, actor.source, "warehouse.breaker_reset",
                     f"reset by hand: {reason.strip()}", {**(link.breaker_details or {}), "reset_reason": reason.strip()[:300]})
    await resume_allocation(actor.tenant_id, code, actor)
    return await WarehouseSystems.get(id=link.id)


async def check_all(systems: Systems, *, budget: float | None = 30.0) -> list[DriftReport]:
    """Check every warehouse with a WMS, of every tenant with an active ERP (the periodic task); failures logged."""
    erp_tenants = set(await SystemConnection.filter(kind="erp", active=True).values_list("tenant_id", flat=True))
    links = await WarehouseSystems.filter(wms_id__isnull=False, tenant_id__in=list(erp_tenants)).order_by("id") \
        .values_list("warehouse_id", flat=True) if erp_tenants else []
    # At once, not in turn: a WMS that is down (waiting out its budget) must not delay every other warehouse's check.
    outcomes = await asyncio.gather(*(check_warehouse(warehouse_id, systems, actor=SYSTEM_ACTOR, budget=budget)
                                      for warehouse_id in links), return_exceptions=True)
    reports = []
    for warehouse_id, outcome in zip(links, outcomes, strict=True):
        if isinstance(outcome, BaseException):  # one warehouse's failure must not stop the others
            log_.error("stock drift check of warehouse %s failed", warehouse_id, exc_info=outcome)
        else:
            reports.append(outcome)
    return reports
