"""The development sender: logs the code (never the phone) and keeps it for tests."""

from __future__ import annotations

import logging

from domain.masking import phone_hash

log = logging.getLogger("ordergraph.sms")


class DevSmsSender:
    """Nothing leaves the machine. ``last_code(phone)`` is how a test reads the text it would have got."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (phone hash, code)

    async def send_code(self, phone: str, code: str, *, brand: str, lang: str) -> None:
        key = phone_hash(phone)
        self.sent.append((key, code))
        log.warning("dev sms (no gateway configured): code %s for phone #%s", code, key[:12])

    def last_code(self, phone: str) -> str | None:
        key = phone_hash(phone)
        return next((code for sent_to, code in reversed(self.sent) if sent_to == key), None)

    async def aclose(self) -> None:
        return None
