"""Periodic intake upkeep inside the app: "shipped but not moving" alerts, parked tracking and WMS retries, key expiry.

Runs every ``maintenance_interval_seconds`` (0 turns it off; ``ordergraph
check-tracking`` runs the same once, e.g. from cron). Several workers may run
it: the not-moving check takes a PostgreSQL advisory lock, the rest is
idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from adapters.formats import FORMATS
from adapters.systems import SYSTEMS
from api.settings import Settings
from domain import idempotency
from domain.federation.wms_callbacks import retry_parked_wms
from domain.tracking.carrier_pushes import check_not_moving
from domain.tracking.receive import retry_parked_tracking

log = logging.getLogger("ordergraph.intake")


async def run_once(settings: Settings, tenant_id: int | None = None) -> dict[str, Any]:
    """One pass of every check; returns what it did."""
    report = await check_not_moving(tenant_id, hours=settings.pickup_alert_hours)
    resolved = await retry_parked_tracking(FORMATS, tenant_id)
    wms_resolved = await retry_parked_wms(SYSTEMS, tenant_id)
    purged = await idempotency.purge_expired()
    return {"checked": report.checked, "alerted": len(report.alerted), "parked_resolved": resolved,
            "wms_parked_resolved": wms_resolved, "idempotency_purged": purged}


class IntakeMaintenance:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.maintenance_interval_seconds > 0:
            self._task = asyncio.create_task(self._loop(), name="intake-maintenance")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.maintenance_interval_seconds)
            try:
                await run_once(self.settings)
            except Exception:  # keep checking through a database blip
                log.exception("intake maintenance failed; retrying next period")
