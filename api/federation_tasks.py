"""The federation's pieces inside the app: the read side's runtime, the periodic stock-drift check, the /metrics gauge.

    live.leadership.jobs.append(DriftWatch(settings, SYSTEMS).run)   # only the leader checks drift
    await refresh_failure_gauge()                        # at scrape time

(The read side's runtime -- adapters, cache, budget -- is built in ``api.app``:
background tasks call the domain, never the resolvers.) The drift check runs as a job of the outbox leader (``events.leader``): one
process in the deployment compares ERP and WMS stock every
``drift_check_seconds``; ``checkStockDrift`` runs the same for one warehouse
on demand.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Gauge

from api.settings import Settings
from domain.federation import drift_breaker, failure_rate
from domain.federation.ports import Systems

log = logging.getLogger("ordergraph.federation")

FAILURE_RATIO = Gauge("ordergraph_cross_system_failure_ratio",
                      "Share of the last 24 hours' exchanges with an ERP/WMS connection that failed or disagreed",
                      ["system"])
EXCHANGES = Gauge("ordergraph_cross_system_exchanges", "Exchanges with an ERP/WMS connection in the last 24 hours",
                  ["system"])


class DriftWatch:
    """A leader job: every ``drift_check_seconds``, check every warehouse that has a WMS and an ERP."""

    def __init__(self, settings: Settings, systems: Systems) -> None:
        self.interval = settings.drift_check_seconds
        self.systems = systems

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                reports = await drift_breaker.check_all(self.systems)
            except Exception:  # keep checking through a database blip
                log.exception("stock drift check failed; retrying next period")
                continue
            changed = [r for r in reports if r.action in ("opened", "closed")]
            for report in changed:
                log.warning("stock drift breaker of %s %s: %s", report.warehouse_code, report.action, report.message[:200])


async def refresh_failure_gauge() -> None:
    """Re-read every connection's failure ratio into the gauge; a database failure keeps the last values."""
    try:
        ratios = await failure_rate.recent_ratios()
    except Exception as exc:  # a scrape must not fail because the database is away
        log.warning("cross-system failure gauge not refreshed: %s", type(exc).__name__)
        return
    for ratio in ratios:
        FAILURE_RATIO.labels(ratio.label).set(ratio.ratio)
        EXCHANGES.labels(ratio.label).set(ratio.total)
