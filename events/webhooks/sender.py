"""Sending due webhook deliveries: claim, sign, POST, record the attempt, schedule the next one.

Runs in every process; processes share the work through the database:
claiming is a conditional UPDATE that sets a lease (``delivering`` until
``lease_until``) with a random token, so a row is only ever claimed once, and
a process killed mid-request leaves a lease that simply expires and is
claimed again (at-least-once; receivers dedupe on ``webhook-id``).

Per order, deliveries to one endpoint go out strictly in event order: only the
oldest unfinished delivery of an (endpoint, order) may be claimed. Events
without an order are not ordered.

With ``public_only`` (production, unless ORDERGRAPH_PARTNER_ALLOW_PRIVATE) the
target is resolved and checked again at every attempt and the request goes to
the checked address (``addresses.pin``): a refusal is recorded as a failed
attempt and retried on the schedule like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tortoise import connections
from tortoise.expressions import Q
from tortoise.functions import Min
from tortoise.transactions import in_transaction

from events import signals
from events.signals import wait_or_timeout
from events.tasks import slots_to_claim
from events.webhooks import addresses, schedule, signing
from events.webhooks.ledger import Delivered, SuccessLedger
from models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret

log = logging.getLogger("ordergraph.webhooks")

PENDING, DELIVERING, SUCCEEDED, FAILED = "pending", "delivering", "succeeded", "failed"
EXCERPT = 500

EndpointHook = Callable[[int, str], Awaitable[None]]


async def _no_hook(endpoint_id: int, reason: str) -> None:
    return None


def _due(now: datetime) -> Q:
    return Q(status=PENDING, next_attempt_at__lte=now) | Q(status=DELIVERING, lease_until__lt=now)


#: Due deliveries read per step while looking for chain heads (most of a backlog's oldest rows are heads).
PAGE = 200
#: The most rows one claim reads looking for heads; the next claim carries on from there.
MAX_SCAN = 20 * PAGE


@dataclass
class ScanCursor:
    """Where a sender's next claim starts reading: 0 (the oldest) unless the last claim ran out of reading
    before it found enough — behind a failing endpoint's long queue, say — and must carry on past it."""

    start: int = 0


async def _heads(now: datetime, limit: int, cursor: ScanCursor) -> list[int]:
    """Up to ``limit`` due deliveries, oldest first from ``cursor``, each the oldest unfinished one of its
    (endpoint, order).

    Due rows are read in id order a page at a time and checked against their own chains only, until
    ``limit`` are found or ``MAX_SCAN`` rows were read: never a pass over the whole backlog per claim (that
    grew with the backlog and, under load, slowed delivery until the backlog grew faster still), and a
    failing endpoint's queue is stepped over a bounded piece per claim.
    """
    active = set(await WebhookEndpoint.filter(status="active").values_list("id", flat=True))
    found: list[int] = list(await WebhookDelivery.filter(status=DELIVERING, lease_until__lt=now, endpoint_id__in=active)
                            .order_by("id").limit(limit).values_list("id", flat=True))  # heads when claimed
    after, scanned = cursor.start, 0
    while len(found) < limit and active:
        # Only status and id in the statement, so the (status, id) index serves it whatever the planner's
        # statistics say (a queue table's are always stale); due-ness and the endpoint are checked here.
        page = await WebhookDelivery.filter(status=PENDING, id__gt=after).order_by("id").limit(PAGE) \
            .values_list("id", "endpoint_id", "order_id", "next_attempt_at")
        due = [(row_id, endpoint_id, order_id) for row_id, endpoint_id, order_id, at in page
               if at <= now and endpoint_id in active]
        heads = await _chain_heads({(endpoint_id, order_id) for _, endpoint_id, order_id in due if order_id is not None})
        found += [row_id for row_id, _, order_id in due if order_id is None or row_id in heads]
        scanned += len(page)
        if len(page) < PAGE:
            cursor.start = 0  # read to the end: the next claim starts from the oldest again
            break
        after = page[-1][0]
        if scanned >= MAX_SCAN and len(found) < limit:
            cursor.start = after
            break
    return sorted(found)[:limit]


_HEADS_OF_CHAINS = (
    'SELECT (SELECT MIN(p."id") FROM "webhook_delivery" p WHERE p."endpoint_id" = c.e AND p."order_id" = c.o '
    'AND p."status" IN ($3, $4)) AS "head" FROM unnest($1::int[], $2::int[]) AS c(e, o)'
)


async def _chain_heads(chains: set[tuple[int, int]]) -> set[int]:
    """The oldest unfinished delivery of each (endpoint, order) chain.

    On PostgreSQL one index probe per chain, written so: a plan chosen from a queue table's statistics
    (always stale) read the endpoint's whole backlog instead.
    """
    if not chains:
        return set()
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        pairs = sorted(chains)
        rows = await connection.execute_query_dict(_HEADS_OF_CHAINS, [[e for e, _ in pairs], [o for _, o in pairs],
                                                                      PENDING, DELIVERING])
    else:
        rows = await WebhookDelivery.filter(status__in=[PENDING, DELIVERING],
                                            endpoint_id__in={endpoint_id for endpoint_id, _ in chains},
                                            order_id__in={order_id for _, order_id in chains}) \
            .annotate(head=Min("id")).group_by("endpoint_id", "order_id").values("head")
    return {row["head"] for row in rows if row["head"] is not None}


async def claim(limit: int, lease: float, cursor: ScanCursor | None = None) -> list[WebhookDelivery]:
    """Lease up to ``limit`` due deliveries of active endpoints, respecting per-order order.

    Only the head of each (endpoint, order) — its oldest unfinished delivery —
    is a candidate (``_heads``): deliveries queued behind a failing one can
    never crowd other endpoints and orders out of the batch.
    """
    if limit <= 0:
        return []
    now = datetime.now(UTC)
    eligible = await _heads(now, limit, cursor or ScanCursor())
    if not eligible:
        return []
    token = secrets.token_hex(8)
    await WebhookDelivery.filter(_due(now), id__in=eligible).update(
        status=DELIVERING, lease_token=token, lease_until=now + timedelta(seconds=lease)
    )
    return await WebhookDelivery.filter(id__in=eligible, lease_token=token, status=DELIVERING).order_by("id")


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint and its signing keys, read once per claimed batch (not once per delivery)."""

    endpoint: WebhookEndpoint
    keys: list[str]


async def targets(endpoint_ids: set[int]) -> dict[int, Target]:
    """The endpoints and their unexpired keys, newest key first, in two statements."""
    now = datetime.now(UTC)
    endpoints = await WebhookEndpoint.filter(id__in=endpoint_ids)
    keys: dict[int, list[str]] = {endpoint_id: [] for endpoint_id in endpoint_ids}
    for endpoint_id, secret in await WebhookSecret.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), endpoint_id__in=endpoint_ids
    ).order_by("-id").values_list("endpoint_id", "secret"):
        keys[endpoint_id].append(secret)
    return {endpoint.id: Target(endpoint, keys[endpoint.id]) for endpoint in endpoints}


class WebhookSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        concurrency: int = 16,
        lease: float = 60.0,
        attempt_timeout: float = 30.0,
        poll_interval: float = 1.0,
        on_gone: EndpointHook = _no_hook,
        on_exhausted: EndpointHook = _no_hook,
        delays: tuple[float, ...] = schedule.DELAYS,
        public_only: bool = False,
    ) -> None:
        self.client = client
        self.public_only = public_only
        self.concurrency = concurrency
        self.lease = lease
        self.attempt_timeout = min(attempt_timeout, lease * 0.8)
        self.poll_interval = poll_interval
        self.on_gone = on_gone
        self.on_exhausted = on_exhausted
        self.delays = delays
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._errors_logged_at = 0.0
        self._cursor = ScanCursor()
        self._ledger = SuccessLedger()

    async def start(self) -> None:
        await self._ledger.start()
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._inflight] if t]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._task = None
        await self._ledger.stop()  # successes already answered are written, not sent again after their lease

    async def _run(self) -> None:
        doorbell = signals.listen(signals.DELIVERIES)
        try:
            while True:
                doorbell.clear()
                free = slots_to_claim(self.concurrency, len(self._inflight))
                if free:
                    try:
                        batch = await claim(free, self.lease, self._cursor)
                        known = await targets({delivery.endpoint_id for delivery in batch}) if batch else {}  # type: ignore[attr-defined]
                        for delivery in batch:
                            task = asyncio.create_task(self.attempt(delivery, known.get(delivery.endpoint_id),  # type: ignore[attr-defined]
                                                                    ledger=self._ledger))
                            self._inflight.add(task)
                            task.add_done_callback(self._finished)
                    except Exception:  # the database is away: try again at the next tick
                        self._log_failure()
                await wait_or_timeout(doorbell, self.poll_interval)
        finally:
            signals.stop_listening(doorbell, signals.DELIVERIES)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception():
            log.error("webhook attempt crashed", exc_info=task.exception())
        signals.ring(signals.DELIVERIES)  # a slot is free, and the next delivery of that order may be due

    async def attempt(self, delivery: WebhookDelivery, target: Target | None = None, *,
                      ledger: SuccessLedger | None = None) -> None:
        """One signed POST of ``delivery`` and its bookkeeping (``target``: read here when not given); with a
        ``ledger`` a success is handed to it to be written with others, else everything is written here."""
        if target is None:
            target = (await targets({delivery.endpoint_id}))[delivery.endpoint_id]  # type: ignore[attr-defined]
        endpoint = target.endpoint
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        headers = signing.headers(target.keys, delivery.message_id, int(time.time()), body)
        status, error, excerpt, retry_after = None, "", "", None
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.attempt_timeout):
                url, extensions = endpoint.url, {}
                if self.public_only:  # DNS may have changed since registration: check what we connect to now
                    url, host, extensions = await addresses.pin(endpoint.url)
                    headers = {**headers, **host}
                async with self.client.stream("POST", url, content=body, headers=headers, extensions=extensions) as response:
                    status = response.status_code
                    retry_after = schedule.parse_retry_after(response.headers.get("retry-after"))
                    excerpt = await _excerpt(response)
        except (httpx.TimeoutException, TimeoutError):
            error = "timed out"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:EXCERPT]
        latency_ms = (time.perf_counter() - started) * 1000
        if ledger is not None and status is not None and 200 <= status < 300:
            ledger.add(Delivered(delivery.id, delivery.lease_token or "", endpoint.id, endpoint.failing_since is not None,
                                 status, datetime.now(UTC), latency_ms, excerpt))
            return
        await self._record(delivery, endpoint, status, error, excerpt, latency_ms, retry_after)

    async def _record(
        self,
        delivery: WebhookDelivery,
        endpoint: WebhookEndpoint,
        status: int | None,
        error: str,
        excerpt: str,
        latency_ms: float,
        retry_after: float | None,
    ) -> None:
        now = datetime.now(UTC)
        outcome: dict[str, Any] = {"last_status_code": status, "last_error": error or (f"HTTP {status}" if status and not 200 <= status < 300 else "")}
        hook: EndpointHook | None = None
        if status is not None and 200 <= status < 300:
            outcome.update(status=SUCCEEDED, delivered_at=now)
        elif status == 410:
            outcome.update(status=FAILED)
            hook, reason = self.on_gone, f"{endpoint.url} answered 410 Gone"
        else:
            delay = schedule.next_delay(delivery.retry_index, retry_after, delays=self.delays)
            if delay is None:
                outcome.update(status=FAILED)
                hook, reason = self.on_exhausted, f"delivery {delivery.message_id} failed {delivery.attempt_count + 1} times"
            else:
                outcome.update(status=PENDING, retry_index=delivery.retry_index + 1, next_attempt_at=now + timedelta(seconds=delay))
        async with in_transaction():
            await WebhookAttempt.create(
                delivery_id=delivery.id,
                attempted_at=now,
                status_code=status,
                latency_ms=round(latency_ms, 2),
                error=error,
                response_excerpt=excerpt,
            )
            # Only the holder of the lease decides what happens next (a lapsed lease may have been re-claimed).
            await WebhookDelivery.filter(id=delivery.id, lease_token=delivery.lease_token).update(
                attempt_count=delivery.attempt_count + 1, lease_token=None, lease_until=None, **outcome
            )
            # As read with the batch: a flag another process changed since is put right by the next batch.
            if outcome["status"] == SUCCEEDED and endpoint.failing_since is not None:
                await WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=False).update(failing_since=None)
            elif outcome["status"] != SUCCEEDED and endpoint.failing_since is None:
                await WebhookEndpoint.filter(id=endpoint.id, failing_since__isnull=True).update(failing_since=now)
        if hook is not None:
            await hook(endpoint.id, reason)

    def _log_failure(self) -> None:
        now = time.monotonic()
        if now - self._errors_logged_at > 10:
            self._errors_logged_at = now
            log.exception("claiming webhook deliveries failed; retrying")


async def _excerpt(response: httpx.Response) -> str:
    chunks = b""
    async for chunk in response.aiter_bytes():
        chunks += chunk
        if len(chunks) >= EXCERPT:
            break
    return chunks[:EXCERPT].decode("utf-8", "replace")
