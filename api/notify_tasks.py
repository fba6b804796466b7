"""The notification jobs inside the app: the leader turns alerts into deliveries and sends them.

    live.leadership.jobs.extend(notification_jobs(settings))     # api/app.py, when ORDERGRAPH_NOTIFY is on

Two leader jobs, like the webhook fan-out: an outbox consumer
(``domain.notifications.fanout``, cursor ``notifications``) and the sender
(``domain.notifications.sender``) with the real messengers
(``adapters.notify.NOTIFIERS``). The fan-out rings the sender's doorbell, so a
committed alert's message leaves within milliseconds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.notify import NOTIFIERS
from api.settings import Settings
from domain.notifications.fanout import NotificationFanout
from domain.notifications.ports import Notifiers
from domain.notifications.sender import NotificationSender, SendPolicy
from events.dispatcher import Dispatcher
from events.gaps import policy_for
from events.outbox import OutboxReader


def link_for(settings: Settings) -> str:
    """Where a message's reader opens the API: the public URL, else the address the server listens on."""
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/graphql"


def send_policy(settings: Settings) -> SendPolicy:
    return SendPolicy(delays=settings.notify_retry_delays, max_attempts=settings.notify_max_attempts,
                      poll_interval=settings.notify_poll_interval)


def notification_jobs(settings: Settings, notifiers: Notifiers = NOTIFIERS) -> list[Callable[[], Awaitable[None]]]:
    fanout = Dispatcher(NotificationFanout(link=link_for(settings)),
                        reader=OutboxReader(policy_for(settings.database_url)),
                        poll_interval=max(settings.poll_interval, 0.25))
    sender = NotificationSender(notifiers, send_policy(settings))
    return [fanout.run, sender.run]
