"""Notifications where people work: WeCom and DingTalk group robots, and email over SMTP.

    from adapters.notify import NOTIFIERS
    await NOTIFIERS["wecom"].send(route_config, Notice(title="…", body="…"))

Each module is one messenger's wire format; each conforms to
``domain.notifications.ports.Notifier`` and raises ``NotifyFailed(reason,
retryable)``. ``NOTIFIERS`` (target name -> sender) is what ``api/`` and
``resolvers/`` hand the domain. Local stand-ins for tests and demos:
``adapters.notify.simulator`` (both robots, one HTTP server) and
``adapters.notify.mailbox`` (an ``aiosmtpd`` SMTP server that keeps what it receives).
"""

from __future__ import annotations

from adapters.notify.dingtalk import DingTalkRobot
from adapters.notify.email import EmailSender
from adapters.notify.http import aclose
from adapters.notify.wecom import WeComRobot
from domain.notifications.ports import Notifiers

NOTIFIERS: Notifiers = {"wecom": WeComRobot(), "dingtalk": DingTalkRobot(), "email": EmailSender()}

__all__ = ["NOTIFIERS", "DingTalkRobot", "EmailSender", "WeComRobot", "aclose"]
