"""A simulated WeChat Channels shop: stable access tokens, the order list and detail APIs, order messages.

    POST /cgi-bin/stable_token                 {"grant_type", "appid", "secret", "force_refresh"?}
    POST /channels/ec/order/list/get?access_token=…   update_time_range ≤ 7 days, page_size ≤ 100, next_key
    POST /channels/ec/order/get?access_token=…        {"order_id"}

Answers are HTTP 200 with ``errcode`` as WeChat's are: 41001 no token,
40001 unknown or superseded token, 42001 expired, 40013/40125 bad AppID or
AppSecret, 45011 over the per-minute quota (the throttling fault), a
parameter error (10020001 here: the exact code of a window over 7 days is
not published) for a bad window, page size or ``next_key``; the ``error``
fault is an HTTP 500. ``next_key`` is a key cursor (modification time,
placement), so paging neither skips nor repeats an order that stays put.

Pushes are the Channels shop's order messages as JSON —
``{"ToUserName", "FromUserName", "CreateTime", "MsgType": "event", "Event":
"channels_ec_order_pay", "order_info": {"order_id": <number>, "pay_time": …}}``
(``_deliver``, ``_confirm``, ``_cancel``, ``_ext_info_update`` as the order
moves). WeChat signs a plain-text push on the URL query (``signature`` =
SHA-1 of the sorted token, timestamp and nonce), which our webhook endpoint
does not see through ``ChannelFormat.verify``; the simulator therefore signs
the same body with Standard Webhooks, the format our relays use.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters import standard_webhooks
from adapters.channels.sim import order_index
from adapters.channels.sim.core import Platform, Protocol, Push, SimOrder

APP_ID = "wx5f3c9a1d2e4b6a70"
APP_SECRET = "sim-wechat-app-secret"
MAX_WINDOW_S = 7 * 24 * 3600
PARAM_ERROR = 10020001
_SKUS = ("SKU-A", "SKU-B", "SKU-C", "SKU-D", "SKU-E")
_TITLES = {"SKU-A": "淡干磷虾肉 500g", "SKU-B": "海鲜酱 200g", "SKU-C": "紫菜礼盒", "SKU-D": "虾皮 250g", "SKU-E": "鱿鱼丝"}
#: status -> the message WeChat sends when an order reaches it, and its ``order_info`` fields besides ``order_id``
_EVENTS: dict[str, tuple[str, dict[str, int]]] = {
    "30": ("channels_ec_order_deliver", {"finish_delivery": 1}),
    "100": ("channels_ec_order_confirm", {"confirm_type": 1}),
    "200": ("channels_ec_order_cancel", {"cancel_type": 1}),
    "250": ("channels_ec_order_cancel", {"cancel_type": 1}),
}


def _wx(code: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": message, **extra})


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


class WeChatProtocol:
    """The Channels shop's wire format over the core's orders (see the module docstring)."""

    kind = "wechat"

    def __init__(self, *, app_id: str = APP_ID, app_secret: str = APP_SECRET, token_ttl: int = 7200) -> None:
        self.app_id, self.app_secret, self.token_ttl = app_id, app_secret, token_ttl
        self.tokens: dict[str, float] = {}  # token -> monotonic expiry
        self.current = ""

    # ------------------------------------------------------------------ orders

    def new_id(self, seq: int) -> str:
        return str(3_713_995_673_005_065_728 + seq * 4_096)

    def initial_status(self) -> str:
        return "20"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        products = []
        for index, sku in enumerate(rng.sample(_SKUS, rng.randint(1, 3))):
            products.append({"product_id": str(10_000_065_246_200 + _SKUS.index(sku)),
                             "sku_id": str(1_573_386_000 + seq * 10 + index), "sku_code": sku,
                             "title": _TITLES[sku], "sale_price": rng.choice((990, 1990, 2590, 6900)),
                             "sku_cnt": rng.randint(1, 3)})
        goods = sum(p["sale_price"] * p["sku_cnt"] for p in products)
        return {"products": products, "freight": rng.choice((0, 0, 600)), "discount": rng.choice((0, 0, 500)),
                "openid": f"oN8Ao5Bf{seq:020d}", "transaction_id": f"42000018962023{seq:014d}",
                "user": rng.choice(("苑**", "周**", "李**")), "phone": f"13{rng.randint(0, 9)}****{seq % 10_000:04d}",
                "goods": goods}

    def render(self, order: SimOrder) -> dict[str, Any]:
        detail, status = order.detail, int(order.status)
        products = [{**p, "thumb_img": "https://store.mp.video.tencent-cloud.com/sim.jpg",
                     "market_price": p["sale_price"], "real_price": p["sale_price"] * p["sku_cnt"],
                     "on_aftersale_sku_cnt": 0, "finish_aftersale_sku_cnt": 0, "sku_attrs": [],
                     "product_unique_id": f"{order.external_id}_{index:03d}"}
                    for index, p in enumerate(detail["products"], 1)]
        shipped = status in (30, 100)
        parcels = [{"waybill_id": f"YT75{order.seq:011d}", "delivery_id": "YTO", "delivery_name": "圆通速递",
                    "delivery_time": _ts(order.updated_at), "deliver_type": 1,
                    "product_infos": [{"product_id": p["product_id"], "sku_id": p["sku_id"],
                                       "product_cnt": p["sku_cnt"]} for p in detail["products"]]}] if shipped else []
        return {"errcode": 0, "errmsg": "ok", "order": {
            "order_id": order.external_id, "openid": detail["openid"], "create_time": _ts(order.created_at),
            "update_time": _ts(order.updated_at), "status": status,
            "order_detail": {
                "product_infos": products,
                "pay_info": {"payment_method": 1, "prepay_id": f"wx{order.seq:030d}",
                             "prepay_time": _ts(order.paid_at) - 10, "pay_time": _ts(order.paid_at),
                             "transaction_id": detail["transaction_id"]},
                "price_info": {"product_price": detail["goods"], "freight": detail["freight"],
                               "discounted_price": detail["discount"],
                               "order_price": detail["goods"] + detail["freight"] - detail["discount"]},
                "delivery_info": {
                    "address_info": {"user_name": detail["user"], "postal_code": "255022", "province_name": "山东省",
                                     "city_name": "淄博市", "county_name": "张店区", "detail_info": "傅家镇华福家园***",
                                     "national_code": "370303", "tel_number": "",
                                     "tel_number_ext_info": {"real_tel_number": detail["phone"]}, "use_tel_number": 1},
                    "delivery_product_info": parcels, "ship_done_time": _ts(order.updated_at) if shipped else 0,
                    "deliver_method": 0},
                "ext_info": {"customer_notes": "", "merchant_notes": ""}}}}

    # ------------------------------------------------------------------ access tokens

    def revoke_tokens(self) -> None:
        """Every token issued so far now answers 42001 (as if it had expired): clients must renew."""
        self.tokens = {token: 0.0 for token in self.tokens}
        self.current = ""

    def _issue(self) -> tuple[str, int]:
        now = time.monotonic()
        if not self.current or self.tokens.get(self.current, 0.0) <= now:
            self.current = "sim_" + secrets.token_urlsafe(24)
            self.tokens[self.current] = now + self.token_ttl
        return self.current, max(int(self.tokens[self.current] - now), 1)

    def _token_problem(self, request: Request) -> Response | None:
        token = request.query_params.get("access_token", "")
        expiry = self.tokens.get(token)
        if not token:
            return _wx(41001, "access_token missing")
        if expiry is None:
            return _wx(40001, "invalid credential, access_token is invalid or not latest")
        if expiry <= time.monotonic():
            return _wx(42001, "access_token expired")
        return None

    # ------------------------------------------------------------------ HTTP

    def routes(self, platform: Platform) -> list[Route]:
        async def admitted(request: Request, operation: str) -> Response | dict[str, Any]:
            """The request's JSON body, or WeChat's answer refusing the call (faults first, then the token)."""
            verdict = await platform.gate(operation)
            if verdict == "throttled":
                return _wx(45011, "api minute-quota reach limit  mustslower  retry next minute")
            if verdict == "error":
                return JSONResponse({"errcode": -1, "errmsg": "system error"}, status_code=500)
            problem = self._token_problem(request)
            if problem:
                return problem
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return _wx(47001, "data format error")
            return body if isinstance(body, dict) else _wx(47001, "data format error")

        async def stable_token(request: Request) -> Response:
            platform.calls["token"] += 1
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError:
                return _wx(47001, "data format error")
            if not isinstance(body, dict) or body.get("grant_type") != "client_credential":
                return _wx(40002, "invalid grant_type")
            if body.get("appid") != self.app_id:
                return _wx(40013, "invalid appid")
            if body.get("secret") != self.app_secret:
                return _wx(40125, "invalid appsecret")
            if body.get("force_refresh") is True:
                self.current = ""
                self.tokens = {token: expiry for token, expiry in self.tokens.items() if expiry <= time.monotonic()}
            token, expires_in = self._issue()
            return JSONResponse({"access_token": token, "expires_in": expires_in})

        async def order_list(request: Request) -> Response:
            body = await admitted(request, "order.list")
            if isinstance(body, Response):
                return body
            span, size, key = body.get("update_time_range"), body.get("page_size", 100), body.get("next_key") or ""
            bounds = [span.get(k) for k in ("start_time", "end_time")] if isinstance(span, dict) else []
            if len(bounds) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in bounds):
                return _wx(PARAM_ERROR, "invalid param: update_time_range {start_time, end_time} (the simulator "
                                        "lists by update time only)")
            start, end = bounds
            if not 0 <= end - start <= MAX_WINDOW_S:
                return _wx(PARAM_ERROR, "invalid param: update_time_range must span 0 to 7 days")
            if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 100:
                return _wx(PARAM_ERROR, "invalid param: page_size must be 1 to 100")
            after = None
            if key:
                read = order_index.read_cursor(key) if isinstance(key, str) else None
                if read is None or read[:2] != (start, end):
                    return _wx(PARAM_ERROR, "invalid param: next_key")
                after = read[2]
            orders, more = platform.index.page(start, end, after=after, size=platform.page_size(size))
            next_key = order_index.cursor(start, end, order_index.key(orders[-1])) if orders else key
            since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
            platform.after_page(since, until)  # after the cursor is taken: a touched order moves on, the cursor stays
            return _wx(0, "ok", order_id_list=[o.external_id for o in orders], next_key=next_key, has_more=more)

        async def order_get(request: Request) -> Response:
            body = await admitted(request, "order.get")
            if isinstance(body, Response):
                return body
            order = platform.orders.get(str(body.get("order_id", "")))
            if order is None:
                return _wx(PARAM_ERROR, "invalid param: order_id not found")
            return JSONResponse(self.render(order))

        return [Route("/cgi-bin/stable_token", stable_token, methods=["POST"]),
                Route("/channels/ec/order/list/get", order_list, methods=["POST"]),
                Route("/channels/ec/order/get", order_get, methods=["POST"])]

    # ------------------------------------------------------------------ pushes

    def push(self, order: SimOrder, secret: str) -> Push | None:
        if order.updated_at == order.created_at:
            event, info = "channels_ec_order_pay", {"pay_time": _ts(order.paid_at)}
        else:
            event, info = _EVENTS.get(order.status, ("channels_ec_order_ext_info_update", {}))
        message = {"ToUserName": "gh_5f3c9a1d2e4b", "FromUserName": order.detail["openid"],
                   "CreateTime": _ts(order.updated_at), "MsgType": "event", "Event": event,
                   "order_info": {"order_id": int(order.external_id), **info}}
        body = json.dumps(message, ensure_ascii=False).encode()
        msg_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
        return Push(body, {"content-type": "application/json",
                           standard_webhooks.ID_HEADER: msg_id, standard_webhooks.TIMESTAMP_HEADER: str(now),
                           standard_webhooks.SIGNATURE_HEADER: standard_webhooks.sign(secret, msg_id, now, body)})


def protocol() -> Protocol:
    return WeChatProtocol()


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` pointing the WeChat client at this simulator."""
    return {"app_id": APP_ID, "app_secret": APP_SECRET, "base_url": base_url.rstrip("/")}
