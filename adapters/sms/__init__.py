"""Sending one-time codes by SMS.

    sender = sms_sender(gateway_url, token)     # HttpSmsSender, or DevSmsSender when no gateway is set
    await sender.send_code(phone_e164, "123456", brand="清茗茶叶", lang="zh")
"""

from adapters.sms.base import SmsError, SmsSender
from adapters.sms.dev import DevSmsSender
from adapters.sms.gateway import HttpSmsSender


def sms_sender(gateway_url: str | None, token: str | None = None) -> SmsSender:
    if gateway_url:
        return HttpSmsSender(gateway_url, token)
    return DevSmsSender()


__all__ = ["DevSmsSender", "HttpSmsSender", "SmsError", "SmsSender", "sms_sender"]
