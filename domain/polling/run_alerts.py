"""What a poll run tells the exception board about its platform: throttling, and an API that keeps failing.

    report = await poll_channel(channel, api, formats=FORMATS)   # calls judge_run(channel, report) at its end

- ``channel.throttled`` (warning, subject the channel's code): the run had to
  wait out the platform's throttling — how many calls, how long in all;
- ``channel.unreachable`` (warning): the run stopped because the platform's
  API kept failing (5xx, timeouts, refused connections) after its retries.

``channel.throttled`` goes up during the run already, once the platform has
throttled it ``RAISE_DURING_RUN_AFTER`` times. Each is one alert per channel,
brought up to date by the next run that sees
the same, and cleared (``system:auto``) by a later run that completes without
it. A refusal (credentials, parameters) raises neither: a person sees it on
the channel's poll state, and it is not the platform being down or busy.
"""

from __future__ import annotations

from typing import Protocol

from domain.alerts.kinds import AlertKind, Severity
from domain.alerts.raising import clear_alerts, raise_alert
from domain.unit_of_work import unit_of_work
from models import Channel

ACTOR = "poller"


class _Run(Protocol):
    """What ``judge_run`` reads of a ``PollReport`` (it sits above this module)."""

    throttled: int
    throttled_seconds: float
    stopped_by: str
    error: str


#: Throttled answers within one run after which the alert goes up at once, without waiting for the run to end
#: (a long throttling may keep one run waiting for minutes).
RAISE_DURING_RUN_AFTER = 2


async def raise_throttled(channel: Channel, report: _Run) -> None:
    """Put (or keep) ``channel.throttled`` on the board with the run's figures so far."""
    name = channel.name or channel.code
    stopped = "; the run stopped, to resume next time" if report.stopped_by == "throttling" else ""
    await raise_alert(
        tenant_id=channel.tenant_id, kind=AlertKind.CHANNEL_THROTTLED,  # type: ignore[attr-defined]
        severity=Severity.WARNING, subject=channel.code, channel_id=channel.id, actor=ACTOR, source=channel.code,
        message=(f"{name} throttled the order poller: {report.throttled} call"
                 f"{'s' if report.throttled != 1 else ''} waited {report.throttled_seconds:g} s in all{stopped}"),
        details={"channel": channel.code, "throttled_calls": report.throttled, "waited_s": report.throttled_seconds})


async def judge_run(channel: Channel, report: _Run) -> None:
    """Raise, update or clear the channel's platform alerts after one run (see the module docstring)."""
    tenant_id: int = channel.tenant_id  # type: ignore[attr-defined]
    name = channel.name or channel.code
    completed = not report.error
    async with unit_of_work():
        if report.throttled:
            await raise_throttled(channel, report)
        elif completed:
            await clear_alerts(tenant_id=tenant_id, kind=AlertKind.CHANNEL_THROTTLED, subject=channel.code,
                               actor=ACTOR, reason=f"a poll of {name} ran without throttling")
        if report.stopped_by == "unavailable":
            await raise_alert(
                tenant_id=tenant_id, kind=AlertKind.CHANNEL_UNREACHABLE, severity=Severity.WARNING,
                subject=channel.code, channel_id=channel.id, actor=ACTOR, source=channel.code,
                message=f"Polling {name} stopped: {report.error}; orders are read again from the last whole window "
                        f"at the next run",
                details={"channel": channel.code, "error": report.error[:500]})
        elif completed:
            await clear_alerts(tenant_id=tenant_id, kind=AlertKind.CHANNEL_UNREACHABLE, subject=channel.code,
                               actor=ACTOR, reason=f"a poll of {name} completed")
