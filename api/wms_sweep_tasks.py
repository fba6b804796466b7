"""The confirmation sweep inside the app: a leader job that looks for lost WMS callbacks every ``wms_sweep_seconds``.

    live.leadership.jobs.append(WmsSweepWatch(settings, SYSTEMS).run)   # one process in the deployment sweeps

Only the outbox leader (``events.leader``) sweeps, so a WMS is asked once per
period whatever the number of workers; a new leader starts from the oldest
unconfirmed delivery orders. What a round does is ``domain.federation.confirmation_sweep``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from api.settings import Settings
from domain.federation.confirmation_sweep import ConfirmationSweep
from domain.federation.ports import Systems

log = logging.getLogger("ordergraph.wms")


class WmsSweepWatch:
    """A leader job: every ``wms_sweep_seconds``, one sweep round over every WMS connection."""

    def __init__(self, settings: Settings, systems: Systems) -> None:
        self.interval = settings.wms_sweep_seconds
        self.sweep = ConfirmationSweep(systems, after=timedelta(seconds=settings.wms_sweep_after_seconds),
                                       every=timedelta(seconds=settings.wms_sweep_every_seconds))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                reports = await self.sweep.round()
            except Exception:  # keep sweeping through a database blip
                log.exception("WMS confirmation sweep failed; retrying next period")
                continue
            for report in reports:
                if report.unreachable:
                    log.warning("WMS confirmation sweep: %s not asked this round: %s", report.connection,
                                report.unreachable)
                elif report.acted:
                    log.warning("WMS confirmation sweep of %s: %d recovered, %d pushed again, %d cancelled there, "
                                "%d not applied (alerted)", report.connection, len(report.recovered), len(report.repushed),
                                len(report.cancelled_there), len(report.conflicts))
