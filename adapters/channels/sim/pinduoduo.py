"""A simulated Pinduoduo shop: the POP gateway's order list and detail, served over the core's orders.

    platform = Platform(protocol())                    # ordergraph sim channel --kind pinduoduo
    api = CHANNEL_APIS.for_channel("pinduoduo", account_config(base_url))

``POST /api/router`` (parameters in the form body or the query) answers
``pdd.order.number.list.increment.get`` and ``pdd.order.information.get``
as the gateway does (see :mod:`adapters.channels.api.pinduoduo`), checking
in its order: ``client_id`` (10016), ``type`` (10017), ``sign`` (20004),
``timestamp`` within 10 minutes (10001), ``access_token`` (20032). A window
longer than 30 minutes, or a bad time or page, is 21001. Past the rate fault
it answers ``error_code`` 70031; an ``error`` fault is HTTP 500.

Orders look like ``tests/adapters/samples/pinduoduo_order.json``: lines of
merchant SKUs ``SKU-A``..``SKU-E``, yuan amounts that add up (goods -
seller and platform discounts + postage), receivers as ciphertext sealed
with the decryption simulator's key (it opens them) and PDD's masks; status
``1`` to ship, ``2`` shipped (with a waybill), ``3`` signed. The list is ordered by
``updated_at``, paged by offset over the core's ``platform.index``, so a call
costs O(log n + page) over 100,000 orders.

Pinduoduo pushes no orders to a URL of ours (its message service is a
long-lived connection an ERP keeps open), so :meth:`PinduoduoProtocol.push` is ``None``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters import wire
from adapters.channels.api import exact
from adapters.channels.api import pinduoduo as api
from adapters.channels.decryption import sealing
from adapters.channels.decryption.simulator import DEFAULT_APPS
from adapters.channels.platform_signing import pdd_sign, same
from adapters.channels.sim import core
from domain.inbound.normalized import PayloadError

APP = DEFAULT_APPS["pinduoduo"]
MAX_SKEW_SECONDS = 600
#: merchant SKU -> (title, unit price in fen)
CATALOG = {"SKU-A": ("棉质短袖T恤", 5990), "SKU-B": ("陶瓷马克杯 350ml", 3900), "SKU-C": ("保温杯 500ml", 12900),
           "SKU-D": ("帆布收纳袋", 990), "SKU-E": ("蓝牙耳机", 19900)}
REGIONS = (("广东省", "深圳市", "南山区"), ("浙江省", "杭州市", "余杭区"), ("上海市", "上海市", "浦东新区"),
           ("北京市", "北京市", "朝阳区"), ("四川省", "成都市", "武侯区"))
NAMES = ("李娜", "王伟", "张敏", "刘洋", "陈静", "杨帆")
SKUS = tuple(CATALOG)
T = TypeVar("T")


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` that points the Pinduoduo client at a simulator on ``base_url``."""
    return {"app_key": APP.app_key, "app_secret": APP.app_secret, "access_token": APP.token, "base_url": base_url}


def china_time(moment: datetime) -> str:
    return moment.astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class Draw:
    """Choices taken from one random draw: placing 100,000 orders costs one RNG call each, not twenty."""

    def __init__(self, rng: random.Random) -> None:
        self.bits = rng.getrandbits(128)

    def pick(self, options: Sequence[T]) -> T:
        self.bits, index = divmod(self.bits, len(options))
        return options[index]

    def lines(self) -> list[tuple[str, int]]:
        """1 to 3 distinct merchant SKUs with quantities 1 to 3."""
        first, count = self.pick(SKUS), self.pick((1, 2, 3))
        return [(SKUS[(SKUS.index(first) + step) % len(SKUS)], self.pick((1, 2, 3))) for step in range(count)]

    def receiver(self, seq: int) -> dict[str, str]:
        """A buyer's receiver in clear (only ever served sealed) and region."""
        province, city, town = self.pick(REGIONS)
        return {"name": self.pick(NAMES), "phone": f"13{self.pick(range(10**9)):09d}",
                "address": f"{province}{city}{town}科技路{seq % 300 + 1}号", "province": province, "city": city,
                "town": town}


class PinduoduoProtocol:
    """Pinduoduo's POP gateway over the core's orders."""

    kind = "pinduoduo"

    def new_id(self, seq: int) -> str:
        return f"241130-{500_000_000_000_000 + seq:015d}"

    def initial_status(self) -> str:
        return "1"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        draw = Draw(rng)
        lines = [{"sku": sku, "count": count, "sku_id": 1_098_765_432_100 + ord(sku[-1])} for sku, count in draw.lines()]
        goods = sum(CATALOG[line["sku"]][1] * line["count"] for line in lines)
        return {"lines": lines, "goods": goods, "seller": min(draw.pick((0, 0, 300, 500, 1000)), goods // 2),
                "platform": min(draw.pick((0, 0, 200)), goods // 4), "postage": draw.pick((0, 0, 0, 600)),
                "pay_no": f"42000022342024{seq:014d}", "receiver": draw.receiver(seq)}

    def render(self, order: core.SimOrder) -> dict[str, Any]:
        """``order_info`` as ``pdd.order.information.get`` and the list give it."""
        detail = order.detail
        if "sealed" not in detail:  # sealed once, on first sight: HMACs are not paid for orders never read
            clear = detail["receiver"]
            detail["sealed"] = sealing.sealed_contact(
                self.kind, sealing.DEFAULT_KEY, order.external_id,
                sealing.ClearContact(clear["name"], clear["phone"], clear["address"]))
        sealed, place = detail["sealed"], detail["receiver"]
        goods, discount, postage = detail["goods"], detail["seller"] + detail["platform"], detail["postage"]
        status = int(order.status) if order.status.isdigit() else order.status
        info: dict[str, Any] = {
            "order_sn": order.external_id, "order_status": status, "confirm_status": 1, "refund_status": 1,
            "after_sales_status": 0, "trade_type": 0, "is_lucky_flag": 1, "group_status": 1,
            "goods_amount": _yuan(goods), "discount_amount": _yuan(discount), "seller_discount": _yuan(detail["seller"]),
            "platform_discount": _yuan(detail["platform"]), "capital_free_discount": 0, "postage": _yuan(postage),
            "pay_amount": _yuan(goods - discount + postage), "pay_no": detail["pay_no"], "pay_type": "WEIXIN",
            "created_time": china_time(order.created_at), "confirm_time": china_time(order.paid_at),
            "pay_time": china_time(order.paid_at), "updated_at": china_time(order.updated_at),
            "last_ship_time": china_time(order.paid_at + timedelta(hours=48)),
            "receiver_name": sealed.name_cipher, "receiver_name_mask": sealed.name_masked,
            "receiver_phone": sealed.phone_cipher, "receiver_phone_mask": sealed.phone_masked,
            "address": sealed.address_cipher, "address_mask": sealed.address_masked,
            "receiver_address": sealed.address_cipher, "country": "中国", "province": place["province"],
            "city": place["city"], "town": place["town"],
            "item_list": [{"goods_id": 523_456_789_000 + line["sku_id"] % 1000, "sku_id": line["sku_id"],
                           "goods_name": CATALOG[line["sku"]][0], "goods_price": _yuan(CATALOG[line["sku"]][1]),
                           "goods_count": line["count"], "goods_spec": "默认", "outer_id": line["sku"],
                           "outer_goods_id": line["sku"].split("-")[0]} for line in detail["lines"]],
        }
        if status in (2, 3):
            shipped_at = detail.setdefault("shipped_at", order.updated_at)
            info.update(tracking_number=f"YT{order.seq:013d}", logistics_id=85, shipping_time=china_time(shipped_at))
        return info

    def routes(self, platform: core.Platform) -> list[Route]:
        async def router(request: Request) -> Response:
            params = dict(request.query_params)
            try:
                params.update(wire.parse_form(await request.body()))
            except PayloadError:
                pass
            outcome = await platform.gate(params.get("type") or "unknown")
            if outcome == "error":
                return PlainTextResponse("Internal Server Error", status_code=500)
            if outcome == "throttled":
                return _error(70031, "调用过于频繁，请调整调用频率")
            refusal = _check(params)
            if refusal is not None:
                return refusal
            if params["type"] == api.LIST_TYPE:
                return self._list(platform, params)
            order = platform.orders.get(params.get("order_sn", ""))
            if order is None:
                return _error(21001, "订单不存在或不属于该店铺")
            return _json({"order_info_get_response": {"order_info": self.render(order), "request_id": _request_id()}})

        return [Route(api.PATH, router, methods=["POST"])]

    def _list(self, platform: core.Platform, params: dict[str, str]) -> Response:
        try:
            start, end = int(params["start_updated_at"]), int(params["end_updated_at"])
            number, asked = int(params.get("page") or 1), int(params.get("page_size") or 100)
        except (KeyError, ValueError):
            return _error(21001, "请求参数错误: start_updated_at/end_updated_at/page/page_size")
        if end < start or end - start > api.MAX_WINDOW.total_seconds() or number < 1 or asked < 1:
            return _error(21001, "请求参数错误: 开始时间结束时间间距不超过30分钟")
        size = platform.page_size(asked)
        chosen = platform.index.slice(start, end, offset=(number - 1) * size, size=size)
        orders = [self.render(order) for order in chosen]
        total = platform.index.count(start, end)
        answer: dict[str, Any] = {"order_sn_list": orders, "request_id": _request_id()}
        if params.get("use_has_next") == "true":
            answer["has_next"] = number * size < total
        else:
            answer["total_count"] = total
        platform.after_page(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
        return _json({"order_sn_increment_get_response": answer})

    def push(self, order: core.SimOrder, secret: str) -> core.Push | None:
        return None


def _check(params: dict[str, str]) -> Response | None:
    """The gateway's checks, in its order; ``None`` when the call may be served."""
    if params.get("client_id") != APP.app_key:
        return _error(10016, "client下线或者clientId不正确")
    if params.get("type") not in (api.LIST_TYPE, api.DETAIL_TYPE):
        return _error(10017, "type不正确")
    if not same(pdd_sign(params, APP.app_secret), params.get("sign", "").upper()):
        return _error(20004, "签名sign校验失败")
    timestamp = params.get("timestamp", "")
    if not timestamp.isdigit() or abs(datetime.now(UTC).timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return _error(10001, "公共参数错误:timestamp")
    if params.get("access_token") != APP.token:
        return _error(20032, "access_token或client_id错误")
    return None


def _yuan(fen: int) -> Decimal:
    return Decimal(fen) / 100


def _request_id() -> str:
    return f"{random.getrandbits(56):017d}"


def _json(payload: dict[str, Any]) -> Response:
    """JSON with yuan amounts as exact numbers (59.9), as PDD writes them."""
    return Response(exact.dumps(payload), media_type="application/json")


def _error(code: int, message: str) -> Response:
    return _json({"error_response": {"error_code": code, "error_msg": message, "sub_code": str(code),
                                     "sub_msg": message, "request_id": _request_id()}})


def protocol() -> PinduoduoProtocol:
    return PinduoduoProtocol()
