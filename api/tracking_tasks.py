"""Carrier subscriptions inside the app: a leader job that subscribes, queries and detects every ``tracking_round_seconds``.

    live.leadership.jobs.append(TrackingWatch(settings).run)   # one process subscribes, queries, detects stalls

Each round subscribes the parcels with a waybill at the tenant's tracking
provider (callbacks to ``tracking_callback_base``), queries those silent too
long, and alerts those stalled in transit (``domain.tracking.subscriptions``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from adapters.carriers.api import PROVIDER_APIS
from api.settings import Settings
from domain.tracking.silent import query_silent
from domain.tracking.stalled import detect_stalled
from domain.tracking.subscriptions import RoundSettings, subscribe_due

log = logging.getLogger("ordergraph.tracking")

#: The longest one pass may take before it is cancelled (at least 20 periods).
PASS_BUDGET = 120.0


def round_settings(settings: Settings) -> RoundSettings:
    return RoundSettings(callback_base=settings.tracking_callback_base,
                         query_after_hours=settings.tracking_query_after_hours,
                         stalled_hours_by_carrier=dict(settings.stalled_hours),
                         stalled_default_hours=settings.stalled_default_hours)


class TrackingWatch:
    """A leader job: subscribing, querying silent parcels and detecting stalls, each its own loop that sleeps
    ``tracking_round_seconds`` between passes — a long pass of queries (one provider call per parcel) must
    not hold back the subscriptions of parcels shipped meanwhile, whose pushes nobody would receive."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.tracking_round_seconds
        self.settings = round_settings(settings)

    async def run(self) -> None:
        rounds = self.settings
        await asyncio.gather(
            self._every("subscribing parcels", lambda: subscribe_due(PROVIDER_APIS, settings=rounds)),
            self._every("querying silent parcels", lambda: query_silent(
                PROVIDER_APIS, after_hours=rounds.query_after_hours, batch=rounds.batch)),
            self._every("detecting stalled parcels", lambda: detect_stalled(
                hours_by_carrier=rounds.stalled_hours_by_carrier, default_hours=rounds.stalled_default_hours)),
        )

    async def _every(self, what: str, one_pass: Callable[[], Awaitable[Any]]) -> None:
        budget = max(PASS_BUDGET, 20 * self.interval)
        while True:
            try:
                async with asyncio.timeout(budget):  # a call that never returns must not end the loop
                    report = await one_pass()
                if getattr(report, "failed", 0) or getattr(report, "stopped", None):  # a provider in trouble
                    log.warning("%s: %s", what, asdict(report))
            except TimeoutError:
                log.error("%s took longer than %g s; cancelled, trying again next period", what, budget)
            except Exception:  # keep going through a database blip
                log.exception("%s failed; retrying next period", what)
            await asyncio.sleep(self.interval)
