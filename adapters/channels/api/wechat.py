"""WeChat Channels shop (微信小店 / 视频号小店) pull API: the orders a window changed, and one order whole.

    POST /cgi-bin/stable_token  {"grant_type": "client_credential", "appid", "secret"}
        -> {"access_token": "…", "expires_in": 7200}
    POST /channels/ec/order/list/get?access_token=…
        {"update_time_range": {"start_time": s, "end_time": e}, "page_size": 100, "next_key": ""}
        -> {"errcode": 0, "order_id_list": ["…"], "next_key": "…", "has_more": true}
    POST /channels/ec/order/get?access_token=…  {"order_id": "…"}
        -> {"errcode": 0, "errmsg": "ok", "order": {…}}      (read by adapters.channels.wechat)

Facts relied on (developers.weixin.qq.com, store/shop API and the common
error codes): the window bounds are unix seconds at most 7 days apart,
``page_size`` at most 100, paging by the opaque ``next_key`` while
``has_more``. Every answer is HTTP 200 with ``errcode``: -1 system busy
(:class:`ApiUnavailable`); 45009 daily and 45011 per-minute quota
(:class:`Throttled`); 40001 (invalid or not the latest), 40014 (invalid)
and 42001 (expired) condemn the access token: it is renewed once, then the
call is refused; anything else (40013 bad AppID, 40125 bad AppSecret,
61004/40164 IP not whitelisted, 48001 not authorised, parameter errors) is
:class:`ApiRefused`. The token comes from ``getStableAccessToken`` in normal
mode: it is kept apart from ``cgi-bin/token`` and answers the same token
while it is valid, so several processes of ours (and the merchant's other
tools using this endpoint) do not invalidate each other's; ``force_refresh``
would, and is never sent. Tokens are cached per (gateway, app) until
shortly before ``expires_in``.

Channel ``config["api"]``: ``app_id``, ``app_secret``; optional ``base_url``
(``https://api.weixin.qq.com``) and ``timeout_seconds`` (5).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from datetime import timedelta
from typing import Any

from adapters import wire
from adapters.channels.api import http
from adapters.channels.decryption.transport import Account
from domain.inbound.channel_api import (
    ApiRefused,
    ApiUnavailable,
    ChannelApiError,
    Listed,
    Page,
    Throttled,
    Window,
)
from domain.inbound.normalized import PayloadError

KIND = "wechat"
DEFAULT_URL = "https://api.weixin.qq.com"
TOKEN_PATH = "/cgi-bin/stable_token"
LIST_PATH = "/channels/ec/order/list/get"
GET_PATH = "/channels/ec/order/get"
PAGE_SIZE = 100
MAX_WINDOW = timedelta(days=7)
#: The access token is dead: renew it once and ask again.
TOKEN_CODES = frozenset({40001, 40014, 42001})
BUSY = -1
QUOTA_CODES = {45009: http.MAX_RETRY_AFTER, 45011: 60.0}  # daily quota, per-minute quota -> seconds to wait

#: (gateway, app id, secret digest) -> (access token, monotonic time after which it is renewed)
_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}


def _error(code: int, answer: dict[str, Any], what: str) -> ChannelApiError:
    message = f"WeChat refused {what}: errcode {code} {str(answer.get('errmsg') or '')[:120]}".rstrip()
    if code == BUSY:
        return ApiUnavailable(message, code=str(code))
    if code in QUOTA_CODES:
        return Throttled(message, retry_after=QUOTA_CODES[code], code=str(code))
    return ApiRefused(message, code=str(code))


def _decode(raw: bytes, what: str) -> tuple[dict[str, Any], int]:
    """The answer and its ``errcode`` (0 when absent, as on success)."""
    try:
        answer = wire.load_json(raw)
        if not isinstance(answer, dict):
            raise PayloadError("not an object", field="$")
        code = wire.integer(answer.get("errcode", 0), "errcode")
    except PayloadError:
        raise ApiUnavailable(f"WeChat's answer to {what} is not the documented JSON", code="BAD_RESPONSE") from None
    return answer, code


class WeChatChannelsApi:
    """One Channels shop's order API (see the module docstring)."""

    kind = KIND
    max_window = MAX_WINDOW

    def __init__(self, target: Account) -> None:
        self.target = target
        self._cache_key = (target.base_url, target.app_key, hashlib.sha256(target.app_secret.encode()).hexdigest())

    def __repr__(self) -> str:
        return f"WeChatChannelsApi({self.target!r})"

    async def list_updated(self, window: Window, page: str | None) -> Page:
        body = {"update_time_range": {"start_time": math.floor(window.start.timestamp()),
                                      "end_time": math.floor(window.end.timestamp())},
                "page_size": PAGE_SIZE, "next_key": page or ""}
        answer, _raw = await self._call(LIST_PATH, body, "order/list/get")
        ids = answer.get("order_id_list") or []
        next_key = answer.get("next_key")
        more = answer.get("has_more") is True
        if not isinstance(ids, list) or (more and not (isinstance(next_key, str) and next_key)):
            raise ApiUnavailable("WeChat's order list has no order_id_list, or has_more without next_key",
                                 code="BAD_RESPONSE")
        try:
            listed = tuple(Listed(wire.ident(order_id, f"order_id_list[{i}]")) for i, order_id in enumerate(ids))
        except PayloadError as error:
            raise ApiUnavailable(f"WeChat's order list holds a bad id at {error.field}", code="BAD_RESPONSE") from None
        return Page(listed, next_page=next_key if more else None)

    async def fetch(self, external_id: str) -> bytes:
        _answer, raw = await self._call(GET_PATH, {"order_id": external_id}, "order/get")
        return raw

    # ------------------------------------------------------------------ calls and the token

    async def _call(self, path: str, body: dict[str, Any], what: str) -> tuple[dict[str, Any], bytes]:
        """POST ``body`` with the access token; a condemned token is renewed once."""
        content = json.dumps(body, ensure_ascii=False).encode()
        for renew in (False, True):
            token = await self._token(renew=renew)
            response = await http.send(self.target, "POST", path, params={"access_token": token}, content=content,
                                       headers={"content-type": "application/json"})
            answer, code = _decode(response.content, what)
            if code == 0:
                return answer, response.content
            if code not in TOKEN_CODES or renew:
                raise _error(code, answer, what)
            self._forget(token)
        raise AssertionError("unreachable")

    async def _token(self, *, renew: bool) -> str:
        cached = _TOKENS.get(self._cache_key)
        if cached and not renew and time.monotonic() < cached[1]:
            return cached[0]
        response = await http.send(self.target, "POST", TOKEN_PATH, json={
            "grant_type": "client_credential", "appid": self.target.app_key, "secret": self.target.app_secret})
        answer, code = _decode(response.content, "the access token")
        if code != 0:
            raise _error(code, answer, "the access token")
        token, lifetime = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or isinstance(lifetime, bool) or not isinstance(lifetime, int) \
                or lifetime <= 0:
            raise ApiUnavailable("WeChat's token answer has no access_token/expires_in", code="BAD_RESPONSE")
        _TOKENS[self._cache_key] = (token, time.monotonic() + lifetime - min(300.0, lifetime / 10))
        return token

    def _forget(self, token: str) -> None:
        """Drop the cached token if it is still ``token`` (another call may have renewed it already)."""
        if _TOKENS.get(self._cache_key, ("", 0.0))[0] == token:
            del _TOKENS[self._cache_key]


def client(config: dict[str, Any]) -> WeChatChannelsApi:
    """The shop's client from ``config["api"]``; :class:`ApiRefused` naming a missing key."""
    for key in ("app_id", "app_secret"):
        value = config.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ApiRefused(f"{KIND}: channel config api.{key} is missing", code="NOT_CONFIGURED")
    # http.account checks base_url and timeout_seconds; WeChat names its key AppID and has no stored token.
    return WeChatChannelsApi(http.account(KIND, {**config, "app_key": config["app_id"], "token": "(fetched)"},
                                          token_key="token", default_url=DEFAULT_URL, sign_methods=("none",)))
