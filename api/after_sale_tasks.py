"""After-sales inside the app: a leader job that pushes refund decisions owed to the sales channels.

    live.leadership.jobs.append(AfterSalePushWatch(settings).run)   # api/app.py, when ORDERGRAPH_AFTER_SALE_PUSH_SECONDS > 0

A decision commits with its push pending on the after-sale row
(``domain.after_sales.pushes``); this job wakes on the commit doorbell (and
every ``after_sale_push_seconds`` in any case, for commits of other
processes and retries that come due), pushes what is due through the
platforms' after-sale APIs and records each outcome. Only the outbox leader
pushes, so two workers never push the same decision at once.
"""

from __future__ import annotations

import logging

from adapters.channels.api.after_sales import CHANNEL_AFTER_SALE_APIS
from api.settings import Settings
from domain.after_sales.pushes import push_due
from events import signals

log = logging.getLogger("ordergraph.after_sales")


class AfterSalePushWatch:
    """A leader job: push due after-sale decisions, then wait for a commit or ``after_sale_push_seconds``."""

    def __init__(self, settings: Settings) -> None:
        self.interval = settings.after_sale_push_seconds

    async def run(self) -> None:
        doorbell = signals.listen()
        try:
            while True:
                doorbell.clear()
                try:
                    while await push_due(CHANNEL_AFTER_SALE_APIS) > 0:
                        pass
                except Exception:  # keep going through a database blip or a broken channel account
                    log.exception("pushing after-sale decisions failed; retrying next period")
                await signals.wait_or_timeout(doorbell, self.interval)
        finally:
            signals.stop_listening(doorbell)
