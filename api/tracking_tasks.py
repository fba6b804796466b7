"""Carrier subscriptions inside the app: a leader job that runs a tracking round every ``tracking_round_seconds``.

    live.leadership.jobs.append(TrackingWatch(settings).run)   # one process subscribes, queries, detects stalls

Each round subscribes the parcels with a waybill at the tenant's tracking
provider (callbacks to ``tracking_callback_base``), queries those silent too
long, and alerts those stalled in transit (``domain.tracking.subscriptions``).
"""

from __future__ import annotations

import asyncio
import logging

from adapters.carriers.api import PROVIDER_APIS
from api.settings import Settings
from domain.tracking.subscriptions import RoundSettings, tracking_round

log = logging.getLogger("ordergraph.tracking")


def round_settings(settings: Settings) -> RoundSettings:
    return RoundSettings(callback_base=settings.tracking_callback_base,
                         query_after_hours=settings.tracking_query_after_hours,
                         stalled_hours_by_carrier=dict(settings.stalled_hours),
                         stalled_default_hours=settings.stalled_default_hours)


class TrackingWatch:
    """A leader job: one tracking round, then sleep ``tracking_round_seconds``."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.tracking_round_seconds
        self.settings = round_settings(settings)

    async def run(self) -> None:
        while True:
            try:
                report = await tracking_round(PROVIDER_APIS, settings=self.settings)
                if report.subscribe.failed or report.subscribe.stopped:
                    log.warning("tracking round: %s", report.as_dict())
            except Exception:  # keep going through a database blip
                log.exception("tracking round failed; retrying next period")
            await asyncio.sleep(self.interval)
