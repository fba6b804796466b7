"""DingTalk (钉钉) custom robot: one Markdown message per notice, on a signed URL.

    POST {base_url}/robot/send?access_token=T&timestamp=MS&sign=S
    {"msgtype": "markdown", "markdown": {"title": "...", "text": "#### title\\n..."}}
    -> {"errcode": 0, "errmsg": "ok"}

``S`` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
with ``timestamp`` in milliseconds; DingTalk refuses a timestamp more than an
hour off. Config: ``access_token``, ``secret`` (the ``SEC…`` string; without it
the URL is not signed, for robots secured by keyword or IP), ``keyword``
(a robot secured by keyword needs it in every message), ``base_url``
(https://oapi.dingtalk.com unless a simulator stands in).

Answers: 310000 (bad signature, missing keyword, IP not allowed) and 300001
(bad token) are not worth retrying; 130101 (sending too fast) and -1 (busy) are.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from adapters.notify.http import answer_of, post_json, utf8_cut
from domain.notifications.ports import Notice, NotifyFailed

BASE_URL = "https://oapi.dingtalk.com"
PATH = "/robot/send"
MAX_BYTES = 18000
RETRYABLE = frozenset({-1, 130101})


def signature(timestamp_ms: int, secret: str) -> str:
    """base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}")), before URL encoding."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(base_url: str, access_token: str, secret: str | None, timestamp_ms: int | None = None) -> str:
    url = f"{base_url.rstrip('/')}{PATH}?access_token={quote(access_token, safe='')}"
    if secret:
        timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
        url += f"&timestamp={timestamp_ms}&sign={quote_plus(signature(timestamp_ms, secret))}"
    return url


def message(notice: Notice, keyword: str = "") -> dict[str, Any]:
    text = f"#### {notice.title}\n\n{notice.body}"
    if keyword and keyword not in text:
        text += f"\n\n{keyword}"
    return {"msgtype": "markdown", "markdown": {"title": notice.title[:100], "text": utf8_cut(text, MAX_BYTES)}}


class DingTalkRobot:
    async def send(self, config: Mapping[str, Any], notice: Notice) -> None:
        url = signed_url(str(config.get("base_url") or BASE_URL), str(config.get("access_token") or ""),
                         config.get("secret") or None)
        response = await post_json(url, message(notice, str(config.get("keyword") or "")), where="DingTalk")
        errcode, errmsg = answer_of(response, where="DingTalk")
        if errcode != 0:
            raise NotifyFailed(f"DingTalk errcode {errcode}: {errmsg}", retryable=errcode in RETRYABLE)
