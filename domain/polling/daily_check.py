"""The daily proof that no order was missed: count and checksum of the last day against the platform's list.

    report = await check_channel(channel, api, formats=FORMATS)
    report.platform_count, report.held_count, report.missing     # missing orders were fetched and applied

The platform's list of orders modified in the last day is compared with the
orders OrderGraph holds under the same ids: both sides' count and a SHA-256
over the sorted ids. Any order the platform has and we do not is fetched and
applied now, and one alert names them and why each was missed:

- ``push lost``: the poller had not read that far yet (or is not running), so only a webhook could have brought it;
- ``poll gap``: the poller had read past the order's modification time and still missed it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.alerts.kinds import AlertKind
from domain.alerts.raising import raise_alert
from domain.inbound.channel_api import ChannelApi, Listed
from domain.inbound.formats import Formats
from domain.polling.poll import DEFAULT_OVERLAP, PollReport, PollStopped, _Pace, held_versions, take
from domain.polling.windows import windows
from domain.unit_of_work import unit_of_work
from models import Channel, ChannelPoll

ALERT_KIND = AlertKind.ORDERS_MISSED
#: Ids named in the alert message (all of them are in its details, up to this many).
NAMED = 10
KEPT = 1000


@dataclass
class CheckReport:
    channel: str
    start: datetime
    end: datetime
    platform_count: int = 0
    held_count: int = 0
    platform_checksum: str = ""
    held_checksum: str = ""
    #: Missing order id -> why it was missed.
    missing: dict[str, str] = field(default_factory=dict)
    recovered: int = 0
    error: str = ""

    @property
    def matches(self) -> bool:
        return not self.error and self.platform_count == self.held_count and self.platform_checksum == self.held_checksum

    def as_json(self) -> dict[str, object]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "platform_count": self.platform_count,
                "held_count": self.held_count, "platform_checksum": self.platform_checksum,
                "held_checksum": self.held_checksum, "missing": dict(list(self.missing.items())[:KEPT]),
                "recovered": self.recovered, "error": self.error}


def checksum(ids: Iterable[str]) -> str:
    """SHA-256 over the sorted ids, one per line: equal sets, equal sums."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()


async def check_channel(channel: Channel, api: ChannelApi, *, formats: Formats, now: datetime | None = None,
                        span: timedelta = timedelta(days=1), overlap: timedelta = DEFAULT_OVERLAP) -> CheckReport:
    """Compare the last ``span`` with the platform, recover what is missing, alert on it, remember the result."""
    now = now or datetime.now(UTC)
    lag: timedelta = getattr(api, "lag", timedelta(0))
    report = CheckReport(channel.code, now - span, now - lag)
    state, _ = await ChannelPoll.get_or_create(channel_id=channel.id, defaults={"tenant_id": channel.tenant_id})  # type: ignore[attr-defined]
    pace = _Pace(PollReport(channel.code), asyncio.sleep)
    try:
        listed = await _platform_orders(api, report, pace)
        held = await held_versions(channel, list(listed))
        report.platform_count, report.held_count = len(listed), len(held)
        report.platform_checksum, report.held_checksum = checksum(listed), checksum(held)
        missing = [item for external_id, item in listed.items() if external_id not in held]
        report.missing = {item.external_id: _why(item, state, overlap) for item in missing}
        await take(channel, api, missing, formats, pace, asyncio.Semaphore(8))
        report.recovered = pace.report.created + pace.report.updated + pace.report.unchanged
    except PollStopped as stopped:
        report.error = str(stopped)
    except Exception as error:  # ApiRefused and the unforeseen: the check says it could not run
        report.error = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
    if report.missing:
        await _alert(channel, report)
    state.checked_at = now
    state.check = report.as_json()
    await state.save(update_fields=["checked_at", "check", "updated_at"])
    return report


async def _platform_orders(api: ChannelApi, report: CheckReport, pace: _Pace) -> dict[str, Listed]:
    found: dict[str, Listed] = {}
    for window in windows(report.start, report.end, api.max_window):
        page_token: str | None = None
        while True:
            page = await pace.ask(lambda: api.list_updated(window, page_token))
            for item in page.orders:
                found.setdefault(item.external_id, item)
            if page.next_page is None:
                break
            page_token = page.next_page
    return found


def _why(item: Listed, state: ChannelPoll, overlap: timedelta) -> str:
    if state.watermark is None:
        return "push lost (the poller has not run for this channel)"
    if item.updated_at is not None and item.updated_at <= state.watermark - overlap:
        return "poll gap (the poller had read past it)"
    return "push lost (the poller had not reached it yet)"


async def _alert(channel: Channel, report: CheckReport) -> None:
    named = ", ".join(list(report.missing)[:NAMED])
    more = f" and {len(report.missing) - NAMED} more" if len(report.missing) > NAMED else ""
    reasons = sorted(set(report.missing.values()))
    message = (f"{len(report.missing)} order(s) of channel {channel.code} were missing and have been fetched now: "
               f"{named}{more}; {'; '.join(reasons)}")
    async with unit_of_work():
        # One alert per channel and day: tomorrow's misses are not folded into an open one from today.
        subject = f"channel:{channel.code}:{report.end.date().isoformat()}"[:64]
        await raise_alert(tenant_id=channel.tenant_id, kind=ALERT_KIND, subject=subject,  # type: ignore[attr-defined]
                          channel_id=channel.id,
                          message=message, severity="warning", source="poller",
                          details={"channel": channel.code, "missing": dict(list(report.missing.items())[:KEPT]),
                                   "window": [report.start.isoformat(), report.end.isoformat()]})
