"""The exception board inside the app: a leader job that puts snoozed alerts back when their time comes.

    live.leadership.jobs.append(SnoozeWatch(settings).run)   # api/app.py, when ORDERGRAPH_ALERT_WAKE_SECONDS > 0

Only the outbox leader wakes alerts, so two workers never wake the same one
twice; each wake-up is a lineage row (``alert.snooze_ended``) that reaches
subscribers and notification routes like any other alert change.
"""

from __future__ import annotations

import asyncio
import logging

from api.settings import Settings
from domain.alerts.board import wake_snoozed

log = logging.getLogger("ordergraph.alerts")


class SnoozeWatch:
    """A leader job: wake the snoozed alerts whose time has passed, then sleep ``alert_wake_seconds``."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.alert_wake_seconds

    async def run(self) -> None:
        while True:
            try:
                woken = await wake_snoozed()
                if woken:
                    log.info("woke %d snoozed alerts", woken)
            except Exception:  # keep going through a database blip
                log.exception("waking snoozed alerts failed; retrying next period")
            await asyncio.sleep(self.interval)
