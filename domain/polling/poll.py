"""Reading one channel's changed orders from its pull API into the same intake as its webhooks.

    report = await poll_channel(channel, api, formats=FORMATS)                      # from the watermark to now
    report = await poll_channel(channel, api, formats=FORMATS, since=t0, until=t1)  # a back-fill

Why it never leaves a gap:

- it starts ``overlap`` before the watermark (platforms index changes late),
  and the watermark moves only after a whole window was read — a crash or a
  refusal mid-window re-reads that window next time;
- windows are never longer than the platform allows (``api.max_window``)
  and end ``api.lag`` before now where the platform asks for it (SP-API: 2 min);
- orders can move out of a window while it is paged (they changed again),
  shifting later ones onto pages already read: when the platform gives the
  window's total and fewer were read, the window is listed again and what
  is new is taken;
- throttling (429, the platforms' own codes) waits ``retry_after`` and asks
  the same page again; an unavailable platform is retried with backoff, then
  the run stops where it is, to resume from the watermark.

A run that had to wait out throttling puts ``channel.throttled`` on the
board, one that stopped because the platform kept failing
``channel.unreachable``; a later run that completes clears them
(``run_alerts``). A refusal (credentials, parameters) raises neither.

Every order goes through :func:`~domain.intake.receive.receive_channel` as a
pulled delivery: a webhook and a poll of the same order collapse to one order
(same external id; the same version is ``unchanged``). An order already held
at the listed modification time is not fetched again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from domain.inbound.channel_api import ApiRefused, ApiUnavailable, ChannelApi, Listed, Throttled, Window
from domain.inbound.formats import Formats
from domain.intake.lookup import by_external_ids
from domain.intake.pulled_pages import apply_first_seen
from domain.intake.receive import receive_channel
from domain.polling.run_alerts import RAISE_DURING_RUN_AFTER, judge_run, raise_throttled
from domain.polling.windows import windows
from domain.unit_of_work import unit_of_work
from models import Channel, ChannelPoll

T = TypeVar("T")

#: Before a channel's first run, read back this far.
FIRST_LOOKBACK = timedelta(hours=24)
DEFAULT_OVERLAP = timedelta(minutes=5)
#: Tries of one call while the platform is unavailable (backoff 0.5 s, 1 s, 2 s, …).
UNAVAILABLE_TRIES = 4
#: Longest total wait for throttling within one run before it stops (to resume next time).
MAX_THROTTLE_WAIT = 300.0
#: Passes over a window whose total says something was missed while paging.
RELIST_PASSES = 2
_APPLIED = {"created": "created", "updated": "updated"}


class PollStopped(Exception):
    """The run stopped before reaching its end; the watermark stays at the last whole window.

    ``cause``: ``throttling`` or ``unavailable`` (the platform kept failing).
    """

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass
class PollReport:
    """What one run read and did (``error``: why it stopped early)."""

    channel: str
    windows: int = 0
    listed: int = 0
    fetched: int = 0
    skipped: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    relisted: int = 0
    throttled: int = 0
    throttled_seconds: float = 0.0  # what the platform asked the throttled calls to wait, in all
    stopped_by: str = ""            # PollStopped.cause when the run stopped early for the platform
    #: The run failed on OrderGraph's side (a deadlock, a lost connection), not the platform's: no back-off.
    internal: bool = False
    watermark: datetime | None = None
    error: str = ""
    created_ids: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.created + self.updated + self.unchanged + self.quarantined


@dataclass
class _Pace:
    """Retries of one run: throttling waits as told, unavailability backs off, both bounded."""

    report: PollReport
    sleep: Callable[[float], Awaitable[None]]
    channel: Channel | None = None  # to alert on throttling while the run still waits
    waited: float = 0.0
    alerted: bool = False

    async def ask(self, call: Callable[[], Awaitable[T]]) -> T:
        failures = 0
        while True:
            try:
                return await call()
            except Throttled as throttled:
                self.report.throttled += 1
                self.waited += throttled.retry_after
                if self.waited > MAX_THROTTLE_WAIT:
                    raise PollStopped(f"throttled for more than {MAX_THROTTLE_WAIT:g} s: {throttled.message}",
                                      cause="throttling") from None
                self.report.throttled_seconds += throttled.retry_after
                if self.channel is not None and not self.alerted and self.report.throttled >= RAISE_DURING_RUN_AFTER:
                    self.alerted = True
                    async with unit_of_work():
                        await raise_throttled(self.channel, self.report)
                await self.sleep(throttled.retry_after)
            except ApiUnavailable as unavailable:
                failures += 1
                if failures >= UNAVAILABLE_TRIES:
                    raise PollStopped(f"the platform is unavailable: {unavailable.message}",
                                      cause="unavailable") from None
                await self.sleep(0.5 * 2 ** (failures - 1))


async def poll_channel(
    channel: Channel,
    api: ChannelApi,
    *,
    formats: Formats,
    now: datetime | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    concurrency: int = 8,
    progress: Callable[[Window, PollReport], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> PollReport:
    """Read the channel's orders modified in ``[since or watermark - overlap, until or now - lag]``.

    ``ApiRefused`` (credentials, parameters) ends the run with ``error`` set, as do long throttling and
    an unavailable platform; the watermark keeps the last window read whole.
    """
    now = now or datetime.now(UTC)
    state, _ = await ChannelPoll.get_or_create(channel_id=channel.id, defaults={"tenant_id": channel.tenant_id})  # type: ignore[attr-defined]
    lag: timedelta = getattr(api, "lag", timedelta(0))
    start = since or ((state.watermark - overlap) if state.watermark else now - FIRST_LOOKBACK)
    end = until or (now - lag)
    report = PollReport(channel=channel.code, watermark=state.watermark)
    pace = _Pace(report, sleep, channel)
    limit = asyncio.Semaphore(max(concurrency, 1))
    state.last_run_at = now
    try:
        for window in windows(start, end, api.max_window):
            await _read_window(channel, api, window, formats, pace, limit)
            report.windows += 1
            if state.watermark is None or window.start <= state.watermark < window.end:
                state.watermark = report.watermark = window.end
                await state.save(update_fields=["watermark", "last_run_at", "updated_at"])
            if progress:
                progress(window, report)
    except PollStopped as stopped:
        report.error, report.stopped_by = str(stopped), stopped.cause
    except ApiRefused as refused:  # credentials, parameters: kept with the state, the run ends
        report.error = refused.message
    except Exception as error:  # anything unforeseen on our side: kept with the state, the run ends
        report.error, report.internal = getattr(error, "message", None) or f"{type(error).__name__}: {error}", True
    await _record(state, report, now)
    await judge_run(channel, report)
    return report


async def _record(state: ChannelPoll, report: PollReport, now: datetime) -> None:
    state.last_error = report.error[:2000]
    state.orders_read += report.read
    state.orders_created += report.created
    if report.error:
        state.failures += 1
    else:
        state.failures = 0
        state.last_success_at = now
    # not the watermark: it was saved window by window (a back-fill beside the leader must not write an old one)
    await state.save(update_fields=["last_error", "orders_read", "orders_created", "failures", "last_success_at",
                                    "last_run_at", "updated_at"])


async def _read_window(channel: Channel, api: ChannelApi, window: Window, formats: Formats, pace: _Pace,
                       limit: asyncio.Semaphore) -> None:
    """Page through one window, taking every order once; list it again if its total says paging lost some."""
    seen: set[str] = set()
    total = await _list_pass(channel, api, window, formats, pace, limit, seen)
    for _ in range(RELIST_PASSES):
        if total is None or len(seen) >= total:
            return
        before = len(seen)
        total = await _list_pass(channel, api, window, formats, pace, limit, seen)
        pace.report.relisted += len(seen) - before
        if len(seen) == before:
            return


async def _list_pass(channel: Channel, api: ChannelApi, window: Window, formats: Formats, pace: _Pace,
                     limit: asyncio.Semaphore, seen: set[str]) -> int | None:
    page_token: str | None = None
    total: int | None = None
    while True:
        page = await pace.ask(lambda: api.list_updated(window, page_token))
        if total is None:
            total = page.total
        fresh = [listed for listed in page.orders if listed.external_id not in seen]
        seen.update(listed.external_id for listed in fresh)
        pace.report.listed += len(fresh)
        await take(channel, api, fresh, formats, pace, limit)
        if page.next_page is None:
            return total
        page_token = page.next_page


async def take(channel: Channel, api: ChannelApi, listed: Sequence[Listed], formats: Formats, pace: _Pace,
               limit: asyncio.Semaphore) -> None:
    """Apply the listed orders not already held at their listed version: the new ones of the page together,
    the rest one by one through the webhook path (a few at a time)."""
    held = await held_versions(channel, [item.external_id for item in listed])
    wanted = []
    for item in listed:
        stored = held.get(item.external_id)
        if stored is not None and item.updated_at is not None and stored >= item.updated_at:
            pace.report.skipped += 1
        else:
            wanted.append(item)

    async def body_of(item: Listed) -> bytes:
        whole = item.body  # written once, now that the order is wanted
        if whole is not None:
            return whole
        async with limit:
            body = await pace.ask(lambda: api.fetch(item.external_id))
        pace.report.fetched += 1
        return body

    bodies = await _all([body_of(item) for item in wanted])
    external_ids = {id(body): item.external_id for item, body in zip(wanted, bodies)}
    new = [body for item, body in zip(wanted, bodies) if item.external_id not in held]
    created, rest = await apply_first_seen(channel, new, formats=formats) if new else ([], [])
    pace.report.created += len(created)
    pace.report.created_ids.extend(created)

    async def one(body: bytes) -> None:
        async with limit:
            answer = await receive_channel(channel.tenant_id, channel.code, channel, body, {},  # type: ignore[attr-defined]
                                           formats=formats, pulled=True)
        outcome = _APPLIED.get(answer.outcome)
        if outcome == "created":
            pace.report.created += 1
            pace.report.created_ids.append(external_ids[id(body)])
        elif outcome == "updated":
            pace.report.updated += 1
        elif answer.quarantine_id is not None:
            pace.report.quarantined += 1
        else:
            pace.report.unchanged += 1

    await _all([one(body) for body in rest + [body for item, body in zip(wanted, bodies) if item.external_id in held]])


async def _all(calls: Sequence[Awaitable[T]]) -> list[T]:
    """Every call's result; the first failure raised once all have ended (none is left running)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise failures[0]
    return results  # type: ignore[return-value]


async def held_versions(channel: Channel, external_ids: Sequence[str]) -> dict[str, datetime]:
    """The platform modification time each of these orders is held at (orders not held are absent)."""
    if not external_ids:
        return {}
    rows = await by_external_ids(channel.tenant_id, channel.id, external_ids, "source_updated_at")  # type: ignore[attr-defined]
    return {external_id: updated for external_id, updated in rows if updated is not None}
