"""The daily reconciliation inside the app: the leader reconciles each tenant's yesterday once its local clock passes the hour.

    live.leadership.jobs.append(ReconcileWatch(settings, SYSTEMS).run)   # api/app.py, when ORDERGRAPH_RECONCILE_HOUR > 0

Only the outbox leader runs it, so a day is reconciled once however many
workers serve; a re-check every ``interval`` seconds finds what is due
(``domain.reconciliation.schedule``), and a day with a run is not due again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from api.settings import Settings
from domain.errors import DomainError
from domain.federation.ports import Systems
from domain.reconciliation.run import check_threshold, reconcile_day
from domain.reconciliation.schedule import due, system_actor

log = logging.getLogger("ordergraph.reconciliation")


def enabled(settings: Settings) -> bool:
    return 1 <= settings.reconcile_hour <= 23


class ReconcileWatch:
    """A leader job: every ``interval`` seconds, reconcile the days that are due, one tenant after another."""

    def __init__(self, settings: Settings, systems: Systems, interval: float = 300.0) -> None:
        self.hour = settings.reconcile_hour
        self.threshold = check_threshold(settings.reconcile_threshold)
        self.systems = systems
        self.interval = interval

    async def round(self, now: datetime | None = None) -> int:
        """Reconcile what is due at ``now``; how many days were reconciled."""
        count = 0
        for tenant_id, day in await due(now or datetime.now(UTC), hour=self.hour):
            try:
                run = await reconcile_day(system_actor(tenant_id), day, systems=self.systems, threshold=self.threshold)
            except DomainError as refused:  # e.g. a person's run of the day is still going: next round
                log.info("reconciliation of %s for tenant %s not run: %s", day, tenant_id, refused.message)
                continue
            log.info("reconciled %s for tenant %s: %s, %d of %d orders differ", day, tenant_id, run.status,
                     run.orders_differing, run.orders_checked)
            count += 1
        return count

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except Exception:  # keep the schedule through a database blip; a failed run is retried next round
                log.exception("daily reconciliation failed; retrying next round")
            await asyncio.sleep(self.interval)
