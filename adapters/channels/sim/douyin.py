"""A simulated Douyin shop (抖店): ``order.searchList``, ``order.orderDetail`` and the signed message push.

    platform = Platform(protocol(), push_url=hook_url, push_secret=APP_SECRET)   # ordergraph sim channel --kind douyin
    api = CHANNEL_APIS.for_channel("douyin", account_config(base_url))

``POST /order/searchList`` and ``POST /order/orderDetail`` (``param_json`` in
the body or the query) answer as the open platform does (see
:mod:`adapters.channels.api.douyin`), checking ``app_key`` (40001), the
method against the path (70000), ``sign`` (40003 ``isv.signature-invalid``),
``timestamp`` within 10 minutes (40003 ``isv.timestamp-invalid``) and
``access_token`` (40001 / 40003 ``isv.access-token-no-existed``). A bad
window, page or size is 40004 ``isv.parameter-invalid``; Douyin documents no
longest update window, so none is enforced. Past the rate fault it answers
``code`` 60000; an ``error`` fault is HTTP 500. Lists are ordered by
``update_time`` (ascending with ``order_asc=true``), paged by offset over the
core's ``platform.index``.

Orders look like ``tests/adapters/samples/douyin_order.json``: fen amounts
that add up, sku orders of merchant codes ``SKU-A``..``SKU-E``, ciphertext
receivers (``#..#``, ``$..$``) the decryption simulator opens, a waybill in
``logistics_info`` once shipped (3, 101, 5).

Pushes (消息推送) only announce: the body is a JSON array of messages
``{"tag": "101", "msg_id": "...", "data": "{\\"p_id\\":…,\\"s_ids\\":[…],\\"shop_id\\":…,\\"order_status\\":…}"}``
(``data`` is JSON inside a string), with headers ``app-id`` (the app key)
and ``event-sign`` = lowercase hex MD5(app_key + body + app_secret). Tags by
the order's status: 100 created (1), 101 paid (105), 110 paid, to handle (2),
102 shipped (3), 108 part shipped (101), 103 complete (5), 106 cancelled (4);
a change without a new status is 113 (seller remark).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.channels.api import douyin as api
from adapters.channels.decryption import sealing
from adapters.channels.decryption.simulator import DEFAULT_APPS
from adapters.channels.platform_signing import DOUYIN_SIGN_METHODS, douyin_sign, same
from adapters.channels.sim import core
from adapters.channels.sim.pinduoduo import CATALOG, MAX_SKEW_SECONDS, Draw
from domain.inbound.normalized import PayloadError

APP = DEFAULT_APPS["douyin"]
SHOP_ID = 77977
STATUS_NAMES = {"1": "待支付", "105": "已支付", "2": "备货中", "101": "部分发货", "3": "已发货", "4": "已取消",
                "5": "已完成"}
TAGS = {"1": "100", "105": "101", "2": "110", "3": "102", "101": "108", "5": "103", "4": "106"}
SHIPPED = {"3", "101", "5"}
_METHODS = (api.LIST_METHOD, api.DETAIL_METHOD)


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` that points the Douyin client at a simulator on ``base_url``."""
    return {"app_key": APP.app_key, "app_secret": APP.app_secret, "access_token": APP.token, "base_url": base_url}


def event_sign(app_key: str, body: bytes, app_secret: str) -> str:
    """The ``event-sign`` header of a push: lowercase hex MD5(app_key + body + app_secret)."""
    return hashlib.md5(app_key.encode() + body + app_secret.encode()).hexdigest()


class DouyinProtocol:
    """Douyin shop's open platform and message push over the core's orders."""

    kind = "douyin"

    def __init__(self) -> None:
        self._messages = itertools.count(1)

    def new_id(self, seq: int) -> str:
        return str(6_919_000_000_000_000_000 + seq * 10)

    def initial_status(self) -> str:
        return "105"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        draw = Draw(rng)
        lines = [{"sku": sku, "count": count, "id": str(int(external_id) + number)}
                 for number, (sku, count) in enumerate(draw.lines(), start=1)]
        goods = sum(CATALOG[line["sku"]][1] * line["count"] for line in lines)
        return {"lines": lines, "goods": goods, "shop": min(draw.pick((0, 0, 300, 1000)), goods // 2),
                "platform": min(draw.pick((0, 0, 500)), goods // 4), "post": draw.pick((0, 0, 0, 800)),
                "payment_no": f"42000022452024{seq:014d}", "receiver": draw.receiver(seq)}

    def render(self, order: core.SimOrder) -> dict[str, Any]:
        """``shop_order_detail`` as ``order.orderDetail`` and the list give it."""
        detail = order.detail
        if "sealed" not in detail:  # sealed once, on first sight
            clear = detail["receiver"]
            detail["sealed"] = sealing.sealed_contact(
                self.kind, sealing.DEFAULT_KEY, order.external_id,
                sealing.ClearContact(clear["name"], clear["phone"], clear["address"]))
        sealed, place, status = detail["sealed"], detail["receiver"], order.status
        goods, promotion, post = detail["goods"], detail["shop"] + detail["platform"], detail["post"]
        code = int(status) if status.isdigit() else status
        shipped_at = detail.setdefault("shipped_at", order.updated_at) if status in SHIPPED else None
        lines = [{
            "order_id": line["id"], "parent_order_id": order.external_id, "order_level": 3, "order_status": code,
            "main_status": code, "product_id": 3_473_196_049_974_326_000 + ord(line["sku"][-1]),
            "product_id_str": str(3_473_196_049_974_326_000 + ord(line["sku"][-1])),
            "product_name": CATALOG[line["sku"]][0], "sku_id": 1_754_321_234_567_000 + ord(line["sku"][-1]),
            "code": line["sku"], "out_sku_id": "", "out_product_id": line["sku"].split("-")[0],
            "goods_price": CATALOG[line["sku"]][1], "origin_amount": CATALOG[line["sku"]][1], "item_num": line["count"],
            "sum_amount": CATALOG[line["sku"]][1] * line["count"], "order_amount": CATALOG[line["sku"]][1] * line["count"],
            "spec": [{"name": "规格", "value": "默认"}]} for line in detail["lines"]]
        info: dict[str, Any] = {
            "shop_id": SHOP_ID, "shop_name": "模拟抖店", "order_id": order.external_id, "order_level": 2, "biz": 2,
            "biz_desc": "小店", "order_type": 0, "order_type_desc": "普通订单", "order_status": code,
            "order_status_desc": STATUS_NAMES.get(status, ""), "main_status": code,
            "main_status_desc": STATUS_NAMES.get(status, ""), "pay_time": _unix(order.paid_at),
            "order_expire_time": 1800, "finish_time": _unix(order.updated_at) if status == "5" else 0,
            "create_time": _unix(order.created_at), "update_time": _unix(order.updated_at), "cancel_reason": "",
            "buyer_words": "", "seller_words": "", "b_type": 2, "b_type_desc": "抖音", "pay_type": 1,
            "channel_payment_no": detail["payment_no"], "order_amount": goods + post,
            "pay_amount": goods - promotion + post, "post_amount": post, "promotion_amount": promotion,
            "promotion_shop_amount": detail["shop"], "promotion_platform_amount": detail["platform"],
            "promotion_pay_amount": 0, "modify_amount": 0, "encrypt_post_tel": sealed.phone_cipher,
            "encrypt_post_receiver": sealed.name_cipher, "mask_post_receiver": sealed.name_masked,
            "mask_post_tel": sealed.phone_masked,
            "post_addr": {"province": {"name": place["province"]}, "city": {"name": place["city"]},
                          "town": {"name": place["town"]}, "encrypt_detail": sealed.address_cipher},
            "mask_post_addr": {"detail": sealed.address_masked}, "exp_ship_time": _unix(order.paid_at) + 172800,
            "ship_time": _unix(shipped_at) if shipped_at else 0, "sku_order_list": lines,
        }
        if shipped_at is not None:
            info["logistics_info"] = [{
                "tracking_no": f"7510{order.seq:010d}", "company": "zhongtong", "company_name": "中通快递",
                "ship_time": _unix(shipped_at), "delivery_id": f"73712{order.seq:014d}",
                "product_info": [{"product_name": line["product_name"], "price": line["origin_amount"],
                                  "outer_sku_id": "", "sku_id": line["sku_id"], "product_count": line["item_num"],
                                  "product_id": line["product_id"], "sku_order_id": line["order_id"]} for line in lines]}]
        return info

    def routes(self, platform: core.Platform) -> list[Route]:
        def endpoint(method: str) -> core.Handler:
            async def serve(request: Request) -> Response:
                query = dict(request.query_params)
                param_json = query.get("param_json") or (await request.body()).decode("utf-8", errors="replace")
                outcome = await platform.gate(method)
                if outcome == "error":
                    return PlainTextResponse("Internal Server Error", status_code=500)
                if outcome == "throttled":
                    return _envelope(60000, "访问频率超限", "", "请求过于频繁，请稍后重试")
                refusal = _check(method, query, param_json)
                if refusal is not None:
                    return refusal
                try:
                    params = wire.load_json(param_json or "{}")
                    if not isinstance(params, dict):
                        raise PayloadError("not an object")
                except PayloadError:
                    return _invalid("isv.parameter-format-invalid", "业务参数json解析失败")
                if method == api.LIST_METHOD:
                    return self._list(platform, params)
                order = platform.orders.get(str(params.get("shop_order_id", "")))
                if order is None:
                    return _invalid("isv.parameter-invalid", "订单不存在")
                return _envelope(api.SUCCESS, "success", data={"shop_order_detail": self.render(order)})

            return serve

        return [Route("/" + method.replace(".", "/"), endpoint(method), methods=["POST", "GET"]) for method in _METHODS]

    def _list(self, platform: core.Platform, params: dict[str, Any]) -> Response:
        start, end = params.get("update_time_start"), params.get("update_time_end")
        page, size = params.get("page", 0), params.get("size", 10)
        numbers = (start, end, page, size)
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers) or end < start or page < 0 \
                or not 1 <= size:
            return _invalid("isv.parameter-invalid", "update_time_start/update_time_end/page/size不合法")
        size = platform.page_size(size)
        descending = not (params.get("order_by") == "update_time" and params.get("order_asc") is True)
        chosen = platform.index.slice(start, end, offset=page * size, size=size, descending=descending)
        orders, total = [self.render(order) for order in chosen], platform.index.count(start, end)
        platform.after_page(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        return _envelope(api.SUCCESS, "success", data={"shop_order_list": orders, "total": total,
                                                        "page": page, "size": size})

    def push(self, order: core.SimOrder, secret: str) -> core.Push:
        """The order's message (an announcement: the order must be fetched), signed as Douyin signs pushes."""
        code = int(order.status) if order.status.isdigit() else 0
        data = {"p_id": int(order.external_id), "s_ids": [int(line["id"]) for line in order.detail["lines"]],
                "shop_id": SHOP_ID, "order_status": code, "order_type": 0, "biz": 2,
                "update_time": _unix(order.updated_at)}
        changed = order.detail.get("announced_status") != order.status
        order.detail["announced_status"] = order.status
        message = {"tag": TAGS.get(order.status, "113") if changed else "113",
                   "msg_id": str(7_300_000_000_000_000_000 + next(self._messages)),
                   "data": json.dumps(data, separators=(",", ":"))}
        body = json.dumps([message], separators=(",", ":")).encode()
        return core.Push(body, {"app-id": APP.app_key, "event-sign": event_sign(APP.app_key, body, secret or APP.app_secret),
                                "content-type": "application/json"})


def _check(method: str, query: dict[str, str], param_json: str) -> Response | None:
    """The open platform's checks, in its order; ``None`` when the call may be served."""
    if not query.get("app_key"):
        return _envelope(40001, "缺少必选参数（平台校验）", "isv.app-id-missing", "认证失败，app_key不存在")
    if query.get("method") != method:
        return _envelope(70000, "接口服务已下线", "isp.api-service-off", "API不存在或API已下线")
    sign_method = query.get("sign_method", "md5")
    if sign_method not in DOUYIN_SIGN_METHODS or query["app_key"] != APP.app_key or not same(
            douyin_sign(app_key=APP.app_key, app_secret=APP.app_secret, method=method, param_json=param_json,
                        timestamp=query.get("timestamp", ""), v=query.get("v", ""), sign_method=sign_method),
            query.get("sign", "").lower()):
        return _envelope(40003, "非法的参数（平台校验）", "isv.signature-invalid", "签名校验失败")
    timestamp = query.get("timestamp", "")
    if not timestamp.isdigit() or abs(datetime.now(UTC).timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return _envelope(40003, "非法的参数（平台校验）", "isv.timestamp-invalid", "时间戳不合法")
    if not query.get("access_token"):
        return _envelope(40001, "缺少必选参数（平台校验）", "isv.access-token-missing", "认证失败，access_token不能为空")
    if query["access_token"] != APP.token:
        return _envelope(40003, "非法的参数（平台校验）", "isv.access-token-no-existed",
                         "access_token不存在，请使用最新的access_token访问")
    return None


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _envelope(code: int, msg: str, sub_code: str = "", sub_msg: str = "", data: Any = None) -> Response:
    return JSONResponse({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg,
                         "log_id": f"{random.getrandbits(64):016X}", "data": data if data is not None else {}})


def _invalid(sub_code: str, sub_msg: str) -> Response:
    return _envelope(40004, "非法的参数（业务校验）", sub_code, sub_msg)


def protocol() -> DouyinProtocol:
    return DouyinProtocol()
