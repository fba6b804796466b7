"""Successful webhook attempts written a batch at a time, not one transaction per delivery.

    ledger = SuccessLedger()
    await ledger.start()
    ledger.add(Delivered(...))        # after the partner answered 2xx
    ...
    await ledger.stop()               # writes what is still held

At a peak every lineage event is one delivery, and writing each success on its
own (a transaction: the attempt row, the delivery's outcome) cost as much as
the signed POST itself. Successes are collected for ``flush_after`` seconds (or
until ``batch`` are held) and written in one transaction: the attempt rows in
one INSERT, the deliveries in one UPDATE per lease token. Failures are rarer
and decide retries and alerts, so the sender still writes them one by one.

What a crash costs is unchanged: a success not yet written leaves its lease
to expire and the delivery is sent again (at-least-once; receivers dedupe on
``webhook-id``). Only the lease holder's row is changed, as for a single write.
A flush the database refuses is kept and tried again at the next one.
``delivered_at`` is when the batch was written (within ``flush_after`` of the
answer); the attempt row keeps the exact time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from events import signals
from events.tasks import cancel_and_wait
from models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("ordergraph.webhooks")


@dataclass(frozen=True, slots=True)
class Delivered:
    """One 2xx answer, as the sender saw it."""

    delivery_id: int
    lease_token: str
    endpoint_id: int
    endpoint_was_failing: bool
    status_code: int
    attempted_at: datetime
    latency_ms: float
    excerpt: str


class SuccessLedger:
    def __init__(self, *, flush_after: float = 0.02, batch: int = 64) -> None:
        self.flush_after = flush_after
        self.batch = batch
        self._held: list[Delivered] = []
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._errors_logged_at = 0.0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-ledger")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.flush()

    def add(self, delivered: Delivered) -> None:
        self._held.append(delivered)
        if len(self._held) >= self.batch:
            self._full.set()

    async def _run(self) -> None:
        while True:
            await signals.wait_or_timeout(self._full, self.flush_after)
            self._full.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write what is held in one transaction; on failure keep it for the next flush."""
        held, self._held = self._held, []
        if not held:
            return
        try:
            await _write(held)
        except Exception:  # noqa: BLE001 - the database is away: the leases still protect every row
            self._held = held + self._held
            now = time.monotonic()
            if now - self._errors_logged_at > 10:
                self._errors_logged_at = now
                log.exception("recording %d delivered webhooks failed; retrying", len(held))
            return
        signals.ring(signals.DELIVERIES)  # each order's next delivery is now its chain's head


async def _write(held: list[Delivered]) -> None:
    now = datetime.now(UTC)
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for item in held:
        groups[(item.lease_token, item.status_code)].append(item.delivery_id)
    recovered = {item.endpoint_id for item in held if item.endpoint_was_failing}
    async with in_transaction():
        await WebhookAttempt.bulk_create([
            WebhookAttempt(delivery_id=item.delivery_id, attempted_at=item.attempted_at, status_code=item.status_code,
                           latency_ms=round(item.latency_ms, 2), error="", response_excerpt=item.excerpt)
            for item in held
        ])
        for (token, status_code), ids in groups.items():
            await WebhookDelivery.filter(id__in=ids, lease_token=token).update(
                status="succeeded", delivered_at=now, attempt_count=F("attempt_count") + 1, lease_token=None,
                lease_until=None, last_status_code=status_code, last_error="")
        if recovered:
            await WebhookEndpoint.filter(id__in=recovered, failing_since__isnull=False).update(failing_since=None)
