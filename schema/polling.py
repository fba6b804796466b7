"""``Channel.pulling``: the second path's state, so operators see how far each channel's poller has read.

Attached in ``schema.types``; imports nothing from it. Nothing here is
personal data: platform order ids and counts only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from resolvers.polling import poll_state


@strawberry.type(description="An order the daily check found missing, and why it was missed.")
class MissedOrder:
    external_id: str = strawberry.field(description="The platform's order id.")
    reason: str = strawberry.field(description='"push lost (…)" or "poll gap (…)".')


@strawberry.type(description="The daily count-and-checksum check of a channel's last day against the platform.")
class DailyCheck:
    checked_at: datetime = strawberry.field(description="When the check ran (UTC).")
    window_start: datetime | None = strawberry.field(
        description="Start of the day checked (UTC); null if the check failed before choosing it.")
    window_end: datetime | None = strawberry.field(description="End of the day checked (UTC, exclusive); null likewise.")
    platform_count: int = strawberry.field(description="Orders the platform has in the window.")
    held_count: int = strawberry.field(description="Orders OrderGraph holds for the window.")
    matches: bool = strawberry.field(description="Counts and SHA-256 checksums of the ids agree (after recovery).")
    recovered: int = strawberry.field(description="Missing orders fetched and applied by this check.")
    missing: list[MissedOrder] = strawberry.field(description="Orders the platform has and OrderGraph had not received.")
    error: str = strawberry.field(description="Why the check could not finish; empty otherwise.")


@strawberry.type(description="How far OrderGraph has read a channel's orders from its platform's pull API.")
class ChannelPulling:
    enabled: bool = strawberry.field(description="The channel has a platform API account and polling is not off.")
    watermark: datetime | None = strawberry.field(
        description="Every order the platform modified up to here has been read.")
    lag_seconds: float | None = strawberry.field(description="Seconds from the watermark to now.")
    last_run_at: datetime | None = strawberry.field(description="When the poller last ran (UTC); null if never.")
    last_success_at: datetime | None = strawberry.field(
        description="When a run last finished without error (UTC); null if never.")
    last_error: str = strawberry.field(description="The last run's error; empty if it succeeded.")
    failures: int = strawberry.field(description="Runs in a row that stopped early (the poller then waits longer).")
    next_run_at: datetime | None = strawberry.field(description="When the poller runs next (UTC); null if not scheduled.")
    orders_read: int = strawberry.field(description="Orders read from the platform in total.")
    orders_created: int = strawberry.field(description="Orders the poller found before any webhook brought them.")
    last_check: DailyCheck | None = strawberry.field(description="The latest daily check; null if none ran yet.")


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _check(checked_at: datetime | None, data: dict[str, Any]) -> DailyCheck | None:
    if checked_at is None or not data:
        return None
    missing = data.get("missing") or {}
    counts_match = data.get("platform_count") == data.get("held_count")
    return DailyCheck(
        checked_at=checked_at, window_start=_time(data.get("start")), window_end=_time(data.get("end")),
        platform_count=int(data.get("platform_count", 0)), held_count=int(data.get("held_count", 0)),
        matches=bool(counts_match and data.get("platform_checksum") == data.get("held_checksum") and not data.get("error")),
        recovered=int(data.get("recovered", 0)),
        missing=[MissedOrder(external_id=str(k), reason=str(v)) for k, v in missing.items()],
        error=str(data.get("error", "")))


async def pulling(channel_pk: int, config: dict[str, Any]) -> ChannelPulling:
    state = await poll_state(channel_pk)
    enabled = bool(config.get("api")) and config.get("poll") is not False
    if state is None:
        return ChannelPulling(enabled=enabled, watermark=None, lag_seconds=None, last_run_at=None, last_success_at=None,
                              last_error="", failures=0, next_run_at=None, orders_read=0, orders_created=0,
                              last_check=None)
    lag = (datetime.now(UTC) - state.watermark).total_seconds() if state.watermark else None
    return ChannelPulling(enabled=enabled, watermark=state.watermark, lag_seconds=lag, last_run_at=state.last_run_at,
                          last_success_at=state.last_success_at, last_error=state.last_error, failures=state.failures,
                          next_run_at=state.next_run_at, orders_read=state.orders_read,
                          orders_created=state.orders_created, last_check=_check(state.checked_at, state.check or {}))
