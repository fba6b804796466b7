"""WeCom (企业微信) group robot: one Markdown message per notice.

    POST {base_url}/cgi-bin/webhook/send?key=KEY
    {"msgtype": "markdown", "markdown": {"content": "## title\\n..."}}
    -> {"errcode": 0, "errmsg": "ok"}

Config: ``key`` (the robot's webhook key), ``base_url`` (https://qyapi.weixin.qq.com
unless a simulator stands in). A non-zero ``errcode`` is a failure: 45009 (API
frequency limit) and -1 (system busy) are worth retrying, anything else
(93000 invalid webhook URL / key, 40058 bad content, …) is not. Content is cut
to the robot's 4096 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from adapters.notify.http import answer_of, post_json, utf8_cut
from domain.notifications.ports import Notice, NotifyFailed

BASE_URL = "https://qyapi.weixin.qq.com"
PATH = "/cgi-bin/webhook/send"
MAX_BYTES = 4096
RETRYABLE = frozenset({-1, 45009})


def message(notice: Notice) -> dict[str, Any]:
    content = utf8_cut(f"## {notice.title}\n{notice.body}", MAX_BYTES)
    return {"msgtype": "markdown", "markdown": {"content": content}}


class WeComRobot:
    async def send(self, config: Mapping[str, Any], notice: Notice) -> None:
        base = str(config.get("base_url") or BASE_URL).rstrip("/")
        url = f"{base}{PATH}?key={quote(str(config.get('key') or ''), safe='')}"
        response = await post_json(url, message(notice), where="WeCom")
        errcode, errmsg = answer_of(response, where="WeCom")
        if errcode != 0:
            raise NotifyFailed(f"WeCom errcode {errcode}: {errmsg}", retryable=errcode in RETRYABLE)
