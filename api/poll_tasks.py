"""The pollers inside the app: a leader job that runs a poll round every ``poll_seconds``, and their gauges.

    live.leadership.jobs.append(PollWatch(settings).run)   # one process in the deployment polls
    await refresh_poll_gauges()                            # at scrape time

Only the outbox leader (``events.leader``) polls, so several workers never
read the same platform at once; a new leader resumes from the watermarks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge

from adapters.formats import FORMATS
from api.settings import Settings
from domain.polling.rounds import poll_round
from models import ChannelPoll

log = logging.getLogger("ordergraph.polling")

POLL_LAG = Gauge("ordergraph_channel_poll_lag_seconds",
                 "Seconds from a channel's poller watermark (everything read up to there) to now", ["tenant", "channel"])
POLL_FAILURES = Gauge("ordergraph_channel_poll_failures", "Poller runs in a row that stopped early", ["tenant", "channel"])
MISSED = Gauge("ordergraph_channel_missed_orders",
               "Orders the last daily check found missing (and fetched)", ["tenant", "channel"])


class PollWatch:
    """A leader job: poll every channel with a platform API account, then sleep ``poll_seconds``."""

    def __init__(self, settings: Settings) -> None:
        self.interval = timedelta(seconds=settings.poll_seconds)
        self.overlap = timedelta(seconds=settings.poll_overlap_seconds)

    async def run(self) -> None:
        assert FORMATS.apis is not None
        while True:
            try:
                await poll_round(FORMATS.apis, formats=FORMATS, interval=self.interval, overlap=self.overlap)
            except Exception:  # keep polling through a database blip
                log.exception("poll round failed; retrying next period")
            await asyncio.sleep(self.interval.total_seconds())


async def refresh_poll_gauges() -> None:
    """Re-read every poller's state into the gauges; a database failure keeps the last values."""
    try:
        states = await ChannelPoll.all().select_related("channel", "tenant")
    except Exception as exc:  # a scrape must not fail because the database is away
        log.warning("poll gauges not refreshed: %s", type(exc).__name__)
        return
    now = datetime.now(UTC)
    for state in states:
        labels = (state.tenant.slug, state.channel.code)
        if state.watermark is not None:
            POLL_LAG.labels(*labels).set((now - state.watermark).total_seconds())
        POLL_FAILURES.labels(*labels).set(state.failures)
        MISSED.labels(*labels).set(len((state.check or {}).get("missing") or {}))
