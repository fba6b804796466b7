"""The rules engine inside the app: the leader evaluates event-triggered rules and runs the scheduled ones.

    live.leadership.jobs.extend(rule_jobs(settings))     # api/app.py, when ORDERGRAPH_RULES is on

Event-triggered rules read the outbox through their own durable cursor
(``rules``), so a restart resumes where it stopped and another process taking
over leadership continues from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from api.settings import Settings
from domain.rules.runner import RulesConsumer, Schedule
from events.dispatcher import Dispatcher
from events.gaps import policy_for
from events.outbox import OutboxReader
from models import Rule

log = logging.getLogger("ordergraph.rules")


class ScheduleWatch:
    """A leader job: every ``interval`` seconds, run the scheduled rules that are due."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.schedule = Schedule()

    async def run(self) -> None:
        while True:
            try:
                tenants = sorted(set(await Rule.filter(enabled=True).values_list("tenant_id", flat=True)))
                await self.schedule.run(tenants)
            except Exception:  # keep the schedule through a database blip
                log.exception("scheduled rules failed; retrying next period")
            await asyncio.sleep(self.interval)


def rule_jobs(settings: Settings) -> list[Callable[[], Awaitable[None]]]:
    consumer = Dispatcher(RulesConsumer(), reader=OutboxReader(policy_for(settings.database_url)),
                          poll_interval=max(settings.poll_interval, 0.25))
    jobs = [consumer.run]
    if settings.rules_schedule_seconds > 0:
        jobs.append(ScheduleWatch(settings.rules_schedule_seconds).run)
    return jobs
