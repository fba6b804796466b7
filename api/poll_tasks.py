"""The pollers inside the app: a leader job that runs a poll round every ``poll_seconds``.

    live.leadership.jobs.append(PollWatch(settings).run)   # one process in the deployment polls

Only the outbox leader (``events.leader``) polls, so several workers never
read the same platform at once; a new leader resumes from the watermarks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from adapters.formats import FORMATS
from api.settings import Settings
from domain.polling.rounds import poll_round

log = logging.getLogger("ordergraph.polling")


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
