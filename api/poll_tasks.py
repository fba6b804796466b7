"""The pollers inside the app: a leader job that polls every due channel every ``poll_seconds``, and their gauges.

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
from domain.polling.rounds import ChannelRound, channel_round, due_channels
from models import ChannelPoll

log = logging.getLogger("ordergraph.polling")

POLL_LAG = Gauge("ordergraph_channel_poll_lag_seconds",
                 "Seconds from a channel's poller watermark (everything read up to there) to now", ["tenant", "channel"])
POLL_FAILURES = Gauge("ordergraph_channel_poll_failures", "Poller runs in a row that stopped early", ["tenant", "channel"])
MISSED = Gauge("ordergraph_channel_missed_orders",
               "Orders the last daily check found missing (and fetched)", ["tenant", "channel"])


class PollWatch:
    """A leader job: every ``poll_seconds``, start a run for each due channel that is not still running.

    Each channel's run is its own task, so a platform that throttles or hangs
    (a run may wait out throttling for minutes) delays only its own channel.
    """

    def __init__(self, settings: Settings) -> None:
        self.interval = timedelta(seconds=settings.poll_seconds)
        self.overlap = timedelta(seconds=settings.poll_overlap_seconds)
        self.running: dict[int, asyncio.Task[ChannelRound]] = {}

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.start_due()
                except Exception:  # keep polling through a database blip
                    log.exception("poll round failed; retrying next period")
                await asyncio.sleep(self.interval.total_seconds())
        finally:
            for task in self.running.values():
                task.cancel()

    async def start_due(self) -> None:
        assert FORMATS.apis is not None
        now = datetime.now(UTC)
        for channel, state in await due_channels(now):
            if channel.id in self.running:
                continue
            task = asyncio.create_task(channel_round(channel, FORMATS.apis, FORMATS, now, self.interval,
                                                     self.overlap, state))
            self.running[channel.id] = task
            task.add_done_callback(lambda done, channel_id=channel.id: self._finished(channel_id, done))

    def _finished(self, channel_id: int, task: asyncio.Task[ChannelRound]) -> None:
        self.running.pop(channel_id, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("polling channel %s failed; retrying next period", channel_id, exc_info=task.exception())


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
