"""One round of the second path over every channel with a platform API account (run by the leader).

    reports = await poll_round(CHANNEL_APIS, formats=FORMATS)

A channel is polled when its ``config["api"]`` holds an account and its kind
has a pull API, unless ``config["poll"]`` is ``false``. A channel whose last
run stopped early waits longer before the next (interval × 2ⁿ, at most 30
minutes) — unless the run failed on OrderGraph's side (a deadlock, a dropped connection), which is
tried again next period; the daily check runs when the last one is a day old.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.inbound.channel_api import ApiRefused, ChannelApis
from domain.inbound.formats import Formats
from domain.polling.daily_check import CheckReport, check_channel
from domain.polling.poll import DEFAULT_OVERLAP, PollReport, poll_channel
from models import Channel, ChannelPoll

log = logging.getLogger("ordergraph.polling")

MAX_BACKOFF = timedelta(minutes=30)
CHECK_EVERY = timedelta(days=1)


@dataclass
class ChannelRound:
    channel_id: int
    poll: PollReport | None = None
    check: CheckReport | None = None
    error: str = ""


def polled(channel: Channel) -> bool:
    config = channel.config or {}
    return bool(config.get("api")) and config.get("poll") is not False


async def poll_round(apis: ChannelApis, *, formats: Formats, now: datetime | None = None,
                     interval: timedelta = timedelta(seconds=60), overlap: timedelta = DEFAULT_OVERLAP,
                     parallel: int = 4) -> list[ChannelRound]:
    """Poll every due channel (a few at a time), then check those whose daily check is due."""
    now = now or datetime.now(UTC)
    limit = asyncio.Semaphore(parallel)

    async def one(channel: Channel, state: ChannelPoll | None) -> ChannelRound:
        async with limit:
            return await channel_round(channel, apis, formats, now, interval, overlap, state)

    return list(await asyncio.gather(*(one(channel, state) for channel, state in await due_channels(now))))


async def due_channels(now: datetime) -> list[tuple[Channel, ChannelPoll | None]]:
    """Every channel with a platform API account whose next run is due, with its poll state."""
    states = {state.channel_id: state for state in await ChannelPoll.all()}  # type: ignore[attr-defined]
    return [(c, states.get(c.id)) for c in await Channel.all() if polled(c) and _due(states.get(c.id), now)]


def _due(state: ChannelPoll | None, now: datetime) -> bool:
    return state is None or state.next_run_at is None or state.next_run_at <= now


async def channel_round(channel: Channel, apis: ChannelApis, formats: Formats, now: datetime, interval: timedelta,
                        overlap: timedelta, state: ChannelPoll | None) -> ChannelRound:
    """One channel's run (and its daily check when due); a failing platform backs the channel off."""
    result = ChannelRound(channel.id)
    try:
        api = apis.for_channel(channel.kind, dict(channel.config["api"]))
    except ApiRefused as refused:
        result.error = refused.message
        await _back_off(channel, now, interval, refused.message, failed=True)
        return result
    if api is None:
        return result
    result.poll = await poll_channel(channel, api, formats=formats, now=now, overlap=overlap)
    if result.poll.error and result.poll.internal:  # our own failure (e.g. a deadlock): again next period
        log.warning("polling channel %s failed on our side: %s", channel.code, result.poll.error[:200])
        await ChannelPoll.filter(channel_id=channel.id).update(next_run_at=None)
    elif result.poll.error:
        log.warning("polling channel %s stopped early: %s", channel.code, result.poll.error[:200])
        await _back_off(channel, now, interval, result.poll.error)
    else:
        await ChannelPoll.filter(channel_id=channel.id).update(next_run_at=None)
    if state is None or state.checked_at is None or state.checked_at <= now - CHECK_EVERY:
        result.check = await check_channel(channel, api, formats=formats, now=now, overlap=overlap)
        if result.check.missing:
            log.warning("daily check of channel %s found %d missing order(s)", channel.code, len(result.check.missing))
    return result


async def _back_off(channel: Channel, now: datetime, interval: timedelta, reason: str, *, failed: bool = False) -> None:
    """Wait interval × 2ⁿ before the next run (``failed``: count a failure the poller itself did not record)."""
    state, _ = await ChannelPoll.get_or_create(channel_id=channel.id, defaults={"tenant_id": channel.tenant_id})  # type: ignore[attr-defined]
    if failed:
        state.failures += 1
    wait = min(interval * 2 ** min(state.failures, 10), MAX_BACKOFF)
    state.next_run_at = now + wait
    state.last_error = reason[:2000]
    await state.save(update_fields=["next_run_at", "last_error", "failures", "updated_at"])
