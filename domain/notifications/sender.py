"""Sending due notification deliveries: claim, send through the route's notifier, retry, fold the excess into digests.

    sender = NotificationSender(NOTIFIERS, SendPolicy())      # NOTIFIERS handed in by api/ (adapters.notify)
    await sender.run()          # the leader's loop; ``await sender.drain()`` sends what is due now (tests, CLI)

- **Claiming** is a compare-and-set on ``attempts`` that also moves
  ``next_attempt_at`` a lease ahead: one holder per row, and a process killed
  mid-send leaves a row that is claimed again once the lease has passed.
- **Retries**: a failure the messenger calls retryable is tried again after
  1 s, 5 s, 30 s, 2 min, 10 min (``SendPolicy.delays``); after the sixth
  attempt, or at once for a refusal retrying cannot fix (a bad signature, an
  unknown key), the row is ``failed`` and the give-up is logged. Every
  attempt's error stays in ``last_error``.
- **Rate limit**: a route sends at most ``rate_per_minute`` messages per
  calendar minute. The excess rows become ``digested`` and are listed in ONE
  digest row of that route and minute (``digest_of``; its ``event_id`` is
  the minus minute number, so there is one per minute) that is due when the
  minute rolls over and says "N more alerts: …".
- **Wake-up**: the fan-out rings ``fanout.DOORBELL`` after writing rows, so a
  commit's message leaves within milliseconds; otherwise the loop sleeps
  until the next row is due (at most ``poll_interval``).

Rows of switched-off routes wait (they are not claimed) until the route is on again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from domain.notifications.fanout import DOORBELL
from domain.notifications.ports import Notice, Notifiers, NotifyFailed
from domain.notifications.text import digest_notice
from events import signals
from events.signals import wait_or_timeout
from models import NotificationDelivery, NotificationRoute

log = logging.getLogger("ordergraph.notifications")

PENDING, SENT, FAILED, DIGESTED = "pending", "sent", "failed", "digested"
STATUSES = (PENDING, SENT, FAILED, DIGESTED)
MINUTE = timedelta(minutes=1)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def digest_event_id(minute: datetime) -> int:
    """The digest row's ``event_id``: minus the minute's number since the epoch (never a real event id)."""
    return -int(minute.timestamp() // 60)


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """How hard to try: the waits between attempts, when to give up, the lease, how many routes at once."""

    delays: tuple[float, ...] = (1, 5, 30, 120, 600)
    max_attempts: int = 6
    lease: float = 60.0
    poll_interval: float = 1.0
    concurrency: int = 8
    batch: int = 200

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if not self.delays:
            return 0.0
        return self.delays[min(max(attempt, 1), len(self.delays)) - 1]


@dataclass(frozen=True, slots=True)
class Claim:
    id: int
    route_id: int
    attempt: int     # the ``attempts`` value this holder wrote: its proof of holding the row


async def claim(limit: int, now: datetime, lease: float) -> list[Claim]:
    """Lease up to ``limit`` due rows of active routes, oldest due first."""
    if limit <= 0:
        return []
    candidates = await NotificationDelivery.filter(status=PENDING, next_attempt_at__lte=now, route__active=True) \
        .order_by("next_attempt_at", "id").limit(limit).values("id", "route_id", "attempts")
    until = now + timedelta(seconds=lease)
    won = []
    for candidate in candidates:
        taken = await NotificationDelivery.filter(id=candidate["id"], attempts=candidate["attempts"], status=PENDING) \
            .update(attempts=candidate["attempts"] + 1, next_attempt_at=until)
        if taken:
            won.append(Claim(candidate["id"], candidate["route_id"], candidate["attempts"] + 1))
    return won


class NotificationSender:
    """The loop (see the module docstring). ``notifiers``: target name -> notifier, handed in."""

    def __init__(self, notifiers: Notifiers, policy: SendPolicy | None = None, *, clock: Clock = _utcnow) -> None:
        self.notifiers = notifiers
        self.policy = policy or SendPolicy()
        self.clock = clock
        self._logged_at = 0.0

    async def run(self) -> None:
        doorbell = signals.listen(DOORBELL)
        try:
            while True:
                doorbell.clear()
                wait = self.policy.poll_interval
                try:
                    await self.drain()
                    wait = await self._until_next_due()
                except Exception:  # the database is away: try again at the next tick
                    self._log("sending notifications failed; retrying")
                await wait_or_timeout(doorbell, wait)
        finally:
            signals.stop_listening(doorbell, DOORBELL)

    async def drain(self, rounds: int = 100) -> int:
        """Claim and send what is due now, until nothing is; how many rows were handled."""
        handled = 0
        for _ in range(rounds):
            claimed = await claim(self.policy.batch, self.clock(), self.policy.lease)
            if not claimed:
                break
            by_route: dict[int, list[Claim]] = defaultdict(list)
            for held in claimed:
                by_route[held.route_id].append(held)
            gate = asyncio.Semaphore(max(1, self.policy.concurrency))

            async def one_route(route_id: int, held: list[Claim]) -> None:
                async with gate:
                    await self._route(route_id, held)

            await asyncio.gather(*(one_route(route_id, held) for route_id, held in by_route.items()))
            handled += len(claimed)
        return handled

    async def _until_next_due(self) -> float:
        due = await NotificationDelivery.filter(status=PENDING, route__active=True).order_by("next_attempt_at") \
            .first().values_list("next_attempt_at", flat=True)
        if due is None:
            return self.policy.poll_interval
        return min(self.policy.poll_interval, max(0.01, (due - self.clock()).total_seconds()))

    # ------------------------------------------------------------------ one route's rows, in order

    async def _route(self, route_id: int, held: list[Claim]) -> None:
        route = await NotificationRoute.filter(id=route_id).first()
        if route is None:  # deleted meanwhile: its rows went with it
            return
        attempts = {c.id: c.attempt for c in held}
        rows = [row for row in await NotificationDelivery.filter(id__in=list(attempts)).order_by("id")
                if row.attempts == attempts[row.id] and row.status == PENDING]
        counted: tuple[datetime, int] | None = None
        for row in rows:
            try:
                if row.digest_of:
                    await self._send_digest(route, row)
                    continue
                minute = minute_of(self.clock())
                if counted is None or counted[0] != minute:
                    counted = (minute, await NotificationDelivery.filter(
                        route_id=route.id, status=SENT, sent_at__gte=minute).count())
                if counted[1] >= route.rate_per_minute:
                    await self._fold(route, row, minute)
                elif await self._send(route, row, Notice(row.title, row.body, route.language)):
                    counted = (minute, counted[1] + 1)
            except Exception:  # one bad row must not stop the route: its lease lapses and it is tried again
                self._log(f"notification delivery {row.id} crashed")

    async def _send(self, route: NotificationRoute, row: NotificationDelivery, notice: Notice) -> bool:
        notifier = self.notifiers.get(route.target)
        try:
            if notifier is None:
                raise NotifyFailed(f"no notifier for target {route.target}", retryable=False)
            async with asyncio.timeout(self.policy.lease * 0.8):
                await notifier.send(route.config, notice)
        except NotifyFailed as failure:
            await self._failed(route, row, failure.reason, failure.retryable)
            return False
        except TimeoutError:
            await self._failed(route, row, f"no answer within {self.policy.lease * 0.8:g} s", True)
            return False
        await NotificationDelivery.filter(id=row.id, attempts=row.attempts, status=PENDING).update(
            status=SENT, sent_at=self.clock(), last_error="")
        return True

    async def _failed(self, route: NotificationRoute, row: NotificationDelivery, reason: str, retryable: bool) -> None:
        final = not retryable or row.attempts >= self.policy.max_attempts
        if final:
            moved = await NotificationDelivery.filter(id=row.id, attempts=row.attempts, status=PENDING).update(
                status=FAILED, last_error=reason[:500])
            if moved:
                log.warning("notification delivery %s to route %s (%s) failed for good after %s attempt(s): %s",
                            row.id, route.id, route.target, row.attempts, reason)
            return
        await NotificationDelivery.filter(id=row.id, attempts=row.attempts, status=PENDING).update(
            last_error=reason[:500], next_attempt_at=self.clock() + timedelta(seconds=self.policy.delay(row.attempts)))

    async def _fold(self, route: NotificationRoute, row: NotificationDelivery, minute: datetime) -> None:
        """Over the route's limit this minute: list the row in the minute's digest instead of sending it."""
        async with in_transaction():
            digest = await NotificationDelivery.filter(route_id=route.id, event_id=digest_event_id(minute)) \
                .select_for_update().first()
            if digest is None:
                digest = await NotificationDelivery.create(
                    route_id=route.id, tenant_id=row.tenant_id, event_id=digest_event_id(minute), alert_id=None,
                    status=PENDING, next_attempt_at=minute + MINUTE, event_created_at=minute, digest_of=[])
            await NotificationDelivery.filter(id=digest.id).update(digest_of=[*digest.digest_of, row.id])
            await NotificationDelivery.filter(id=row.id, attempts=row.attempts, status=PENDING).update(
                status=DIGESTED, attempts=row.attempts - 1, last_error="")

    async def _send_digest(self, route: NotificationRoute, row: NotificationDelivery) -> None:
        titles = await NotificationDelivery.filter(id__in=list(row.digest_of)).order_by("id") \
            .values_list("title", flat=True)
        notice = digest_notice(list(titles), route.language)
        await NotificationDelivery.filter(id=row.id).update(title=notice.title[:200], body=notice.body)
        await self._send(route, row, notice)

    def _log(self, message: str) -> None:
        now = time.monotonic()
        if now - self._logged_at > 10:
            self._logged_at = now
            log.exception(message)

