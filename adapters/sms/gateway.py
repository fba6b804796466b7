"""An HTTP SMS gateway: one JSON POST per code, bearer-authenticated, explicit timeouts.

Request body: ``{"to": "+8613812341234", "text": "...", "template": "otp",
"params": {"code": "123456", "brand": "..."}, "lang": "zh"}``. Most Chinese
providers (Aliyun, Tencent Cloud) sit behind a small relay speaking this shape;
any 2xx is success.
"""

from __future__ import annotations

import logging

import httpx

from adapters.sms.base import SmsError, code_text
from domain.masking import phone_hash

log = logging.getLogger("ordergraph.sms")


class HttpSmsSender:
    def __init__(self, url: str, token: str | None = None, *, client: httpx.AsyncClient | None = None) -> None:
        self.url = url
        headers = {"user-agent": "OrderGraph-SMS/1"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(connect=3.0, read=5.0, write=5.0, pool=3.0), follow_redirects=False
        )
        self.headers = headers

    async def send_code(self, phone: str, code: str, *, brand: str, lang: str) -> None:
        body = {
            "to": phone,
            "text": code_text(code, brand, lang),
            "template": "otp",
            "params": {"code": code, "brand": brand},
            "lang": lang,
        }
        try:
            response = await self.client.post(self.url, json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            log.warning("sms gateway unreachable for phone #%s: %s", phone_hash(phone)[:12], type(exc).__name__)
            raise SmsError("gateway unreachable") from exc
        if not response.is_success:
            log.warning("sms gateway refused phone #%s: HTTP %s", phone_hash(phone)[:12], response.status_code)
            raise SmsError(f"gateway answered {response.status_code}")

    async def aclose(self) -> None:
        await self.client.aclose()
