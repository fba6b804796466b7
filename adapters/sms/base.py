"""What the tracking page needs from an SMS provider: send this code to this phone."""

from __future__ import annotations

from typing import Protocol


class SmsError(Exception):
    """The provider did not take the message (the customer may ask for another code)."""


class SmsSender(Protocol):
    async def send_code(self, phone: str, code: str, *, brand: str, lang: str) -> None: ...

    async def aclose(self) -> None: ...


def code_text(code: str, brand: str, lang: str) -> str:
    if lang == "en":
        return f"[{brand}] Your code is {code}. It expires in 5 minutes. Do not share it."
    return f"【{brand}】验证码 {code}，5 分钟内有效。请勿告诉他人。"
