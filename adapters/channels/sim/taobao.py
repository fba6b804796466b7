"""A simulated Taobao / Tmall shop: the TOP router's trade list and detail, and TMC trade messages.

    platform = core.Platform(protocol(), push_url=".../hooks/acme/tmall", push_secret=channel.secret)
    channel.config = {"api": account_config(base_url)}      # the client signs as this simulator's app

``POST /router/rest`` (form or query parameters, as TOP takes them) answers
``taobao.trades.sold.increment.get`` and ``taobao.trade.fullinfo.get``
(see :mod:`adapters.channels.api.taobao` for the wire facts). It refuses as
TOP does, HTTP 200 with ``error_response``: 21/22 method, 28/29 app key, 31
timestamp (more than 10 minutes off), 24/25 signature (every ``sign_method``
TOP knows), 26/27 session, 40/41 missing or bad arguments, 15
``isv.invalid-parameter`` for a window longer than one day (the simulator's
wording: TOP's own sub-code for it is not published), 15
``isv.trade-not-exist`` for an unknown tid. Throttling (the core's token
bucket) is TOP's answer: code 7 "App Call Limited",
``accesscontrol.limited-by-app-access-count``, "This ban will last for N more
seconds"; an injected error is HTTP 500. The list is newest-modified first
and counts ``total_results`` unless ``use_has_next=true`` (then only
``has_next``); ``page_size`` 1-100, capped further by the core's
``page_size_max``; the list gives trade-level fields only (tid, status,
modified, …), the detail always the whole trade.

The list answers in O(log n + page) over the core's ``platform.index`` (the
orders sorted by modification time), so 100,000 orders list as fast as 100.

Pushes are TMC trade messages (``taobao_trade_TradeBuyerPay`` for a new paid
trade, ``…TradeSellerShip``, ``…TradePartlySellerShip``, ``…TradeSuccess``,
``…TradeClose``, else ``…TradeChanged``) whose ``content`` is a JSON string
(tid, oid, status, payment, …), posted as a TMC relay posts them to
OrderGraph: signed with Standard Webhooks under the channel's secret.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adapters import standard_webhooks, wire
from adapters.channels.api.taobao import FULLINFO_METHOD, LIST_METHOD, MAX_PAGE_SIZE, MAX_WINDOW, china
from adapters.channels.api.taobao_refunds import AGREE_METHOD, REFUSE_METHOD
from adapters.channels.decryption.taobao import PATH
from adapters.channels.platform_signing import TOP_SIGN_METHODS, same, top_sign
from adapters.channels.sim.core import Platform, Push, SimOrder
from adapters.channels.sim.order_index import seconds
from domain.inbound.normalized import PayloadError

APP_KEY, APP_SECRET, SESSION = "12345678", "sim-taobao-app-secret", "sim-taobao-session"
SELLER_NICK, SELLER_ID = "北风羊毛旗舰店", 2200123456789
TID_BASE = 3_600_000_000_000_000_000  # tids and oids beyond 2^53, as Taobao's are
MAX_SKEW = timedelta(minutes=10)
ITEMS = (("SKU-A", "美利奴羊毛围巾", 4500), ("SKU-B", "羊绒混纺围巾", 12900), ("SKU-C", "羊毛帽", 9090),
         ("SKU-D", "羊毛手套", 5990), ("SKU-E", "羊毛袜 三双装", 3900))
RECEIVERS = (("浙江省", "杭州市", "西湖区", "文新街道", "张**", "138****5678", "文**路**号", "310000"),
             ("江苏省", "苏州市", "工业园区", "娄葑街道", "刘**", "*******1234", "星**路**号", "215000"),
             ("广东省", "深圳市", "南山区", "粤海街道", "陈**", "139****0021", "科**路**号", "518000"),
             ("上海", "上海市", "浦东新区", "花木街道", "王**", "136****8890", "锦**路**弄", "200120"))
SHIPPED = frozenset({"SELLER_CONSIGNED_PART", "WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED", "TRADE_FINISHED"})
TOPICS = {"WAIT_BUYER_CONFIRM_GOODS": "taobao_trade_TradeSellerShip",
          "SELLER_CONSIGNED_PART": "taobao_trade_TradePartlySellerShip", "TRADE_FINISHED": "taobao_trade_TradeSuccess",
          "TRADE_CLOSED": "taobao_trade_TradeClose", "TRADE_CLOSED_BY_TAOBAO": "taobao_trade_TradeClose"}


def protocol(app_key: str = APP_KEY, app_secret: str = APP_SECRET, session: str = SESSION) -> TaobaoProtocol:
    return TaobaoProtocol(app_key, app_secret, session)


def account_config(base_url: str) -> dict[str, Any]:
    """The channel ``config["api"]`` that points the Taobao client at a simulator on ``base_url``."""
    return {"app_key": APP_KEY, "app_secret": APP_SECRET, "session": SESSION, "base_url": base_url}


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


class TaobaoProtocol:
    """TOP's wire format over the core's orders (see the module docstring)."""

    kind = "taobao"

    def __init__(self, app_key: str = APP_KEY, app_secret: str = APP_SECRET, session: str = SESSION) -> None:
        self.app_key, self.app_secret, self.session = app_key, app_secret, session
        self.message_ids = itertools.count(3_123_456_789_012)
        self.refund_ids = itertools.count(158_800_000_000_000_001)
        #: refund id -> (tid, oid): where each refund lives.
        self.refunds: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------------ orders

    def new_id(self, seq: int) -> str:
        return str(TID_BASE + seq * 16)

    def initial_status(self) -> str:
        return "WAIT_SELLER_SEND_GOODS"

    def new_detail(self, seq: int, external_id: str, rng: random.Random) -> dict[str, Any]:
        lines = [(*ITEMS[i], rng.randint(1, 3)) for i in rng.sample(range(len(ITEMS)), rng.choice((1, 1, 2, 3)))]
        return {"lines": lines, "post": rng.choice((0, 0, 500, 800)), "discount": rng.choice((0, 0, 500, 1000)),
                "receiver": rng.randrange(len(RECEIVERS)), "buyer": f"t**{seq % 10}"}

    def amounts(self, order: SimOrder) -> tuple[int, int, int, int]:
        """Goods, discount, postage and payment, in fen."""
        detail = order.detail
        goods = sum(price * num for _sku, _title, price, num in detail["lines"])
        discount = min(detail["discount"], goods // 2)
        return goods, discount, detail["post"], goods - discount + detail["post"]

    def summary(self, order: SimOrder) -> dict[str, Any]:
        """The trade-level fields (what the list may give)."""
        tid = int(order.external_id)
        return {"tid": tid, "tid_str": order.external_id, "type": "fixed", "status": order.status,
                "payment": yuan(self.amounts(order)[3]), "created": china(order.created_at),
                "pay_time": china(order.paid_at), "modified": china(order.updated_at),
                "buyer_nick": order.detail["buyer"], "seller_nick": SELLER_NICK}

    def trade(self, order: SimOrder) -> dict[str, Any]:
        """The whole trade, as ``taobao.trade.fullinfo.get`` gives it."""
        detail, status, tid = order.detail, order.status, int(order.external_id)
        goods, discount, post, payment = self.amounts(order)
        state, city, district, town, name, mobile, address, postcode = RECEIVERS[detail["receiver"]]
        trade = {**self.summary(order), "total_fee": yuan(goods), "post_fee": yuan(post),
                 "discount_fee": yuan(discount), "adjust_fee": "0.00", "receiver_name": name,
                 "receiver_mobile": mobile, "receiver_phone": "", "receiver_state": state, "receiver_city": city,
                 "receiver_district": district, "receiver_town": town, "receiver_address": address,
                 "receiver_zip": postcode, "receiver_country": "", "shipping_type": "express",
                 "alipay_no": f"{order.paid_at:%Y%m%d}22001{tid % 10**15:015d}"}
        consigned = china(detail.setdefault("consigned_at", order.updated_at)) if status in SHIPPED else None
        subs = []
        for i, (sku, title, price, num) in enumerate(detail["lines"], 1):
            oid = tid + i
            sent = consigned is not None and (status != "SELLER_CONSIGNED_PART" or i == 1)
            sub_status = status if status != "SELLER_CONSIGNED_PART" else (
                "WAIT_BUYER_CONFIRM_GOODS" if sent else "WAIT_SELLER_SEND_GOODS")
            sub = {"oid": oid, "oid_str": str(oid), "num": num, "num_iid": 712345678900 + ord(sku[-1]),
                   "price": yuan(price), "total_fee": yuan(price * num), "payment": yuan(price * num),
                   "title": title, "outer_iid": sku, "outer_sku_id": sku, "status": sub_status,
                   "refund_status": "SUCCESS" if status == "TRADE_CLOSED" else "NO_REFUND"}
            refund = detail.get("refunds", {}).get(str(oid))
            if refund:
                sub.update(refund_id=int(refund["refund_id"]), refund_status=refund["status"])
            if sent:
                sub.update(consign_time=consigned, shipping_type="express", logistics_company="顺丰速运",
                           invoice_no=f"SF{tid % 10**13:013d}")
            subs.append(sub)
        if consigned:
            trade["consign_time"] = consigned
        trade["orders"] = {"order": subs}
        return trade

    # ------------------------------------------------------------------ pushes

    def push(self, order: SimOrder, secret: str) -> Push:
        """A TMC trade message, signed with Standard Webhooks as the relay posts it."""
        fresh = order.status == self.initial_status() and order.updated_at == order.paid_at
        topic = "taobao_trade_TradeBuyerPay" if fresh else TOPICS.get(order.status, "taobao_trade_TradeChanged")
        content = {"buyer_nick": order.detail["buyer"], "payment": yuan(self.amounts(order)[3]),
                   "status": order.status, "oid": int(order.external_id) + 1, "tid": int(order.external_id),
                   "type": "guarantee_trade", "seller_nick": SELLER_NICK}
        return self._message(order, topic, content, secret)

    def _message(self, order: SimOrder, topic: str, content: dict[str, Any], secret: str) -> Push:
        message_id = next(self.message_ids)
        body = json.dumps({"id": message_id, "topic": topic, "pub_app_key": self.app_key,
                           "pub_time": china(order.updated_at), "outgoing_time": china(datetime.now(UTC)),
                           "user_id": SELLER_ID, "user_nick": SELLER_NICK,
                           "content": json.dumps(content, ensure_ascii=False, separators=(",", ":"))},
                          ensure_ascii=False).encode()
        webhook_id, now = f"tmc_{message_id}", int(time.time())
        return Push(body, {standard_webhooks.ID_HEADER: webhook_id, standard_webhooks.TIMESTAMP_HEADER: str(now),
                           standard_webhooks.SIGNATURE_HEADER: standard_webhooks.sign(secret, webhook_id, now, body),
                           "content-type": "application/json"})

    # ------------------------------------------------------------------ refunds

    def open_refund(self, order: SimOrder, *, line: int = 1, return_goods: bool = False,
                    reason: str = "") -> dict[str, Any]:
        """The buyer asks for the whole of sub-order ``line`` back (WAIT_SELLER_AGREE); the refund as TOP keeps it."""
        lines = order.detail["lines"]
        if not 1 <= line <= len(lines):
            raise ValueError(f"line: 1 to {len(lines)}")
        _sku, _title, price, num = lines[line - 1]
        oid = str(int(order.external_id) + line)
        refund = {"refund_id": str(next(self.refund_ids)), "tid": order.external_id, "oid": oid,
                  "status": "WAIT_SELLER_AGREE", "refund_fee": yuan(price * num), "fee": price * num,
                  "has_good_return": return_goods, "reason": reason or "不想要了"}
        order.detail.setdefault("refunds", {})[oid] = refund
        self.refunds[refund["refund_id"]] = (order.external_id, oid)
        return refund

    def push_refund(self, order: SimOrder, refund: dict[str, Any], event: str, secret: str) -> Push:
        """A TMC refund message (``taobao_refund_Refund*``), signed as the relay posts it."""
        topic = {"created": "taobao_refund_RefundCreated", "agreed": "taobao_refund_RefundSellerAgreeAgreement",
                 "refunded": "taobao_refund_RefundSuccess",
                 "refused": "taobao_refund_RefundSellerRefuseAgreement"}[event]
        content = {"refund_id": int(refund["refund_id"]), "tid": int(order.external_id), "oid": int(refund["oid"]),
                   "refund_fee": refund["refund_fee"], "refund_phase": "onsale" if order.status not in SHIPPED
                   else "aftersale", "bill_type": "return_bill" if refund["has_good_return"] else "refund_bill",
                   "buyer_nick": order.detail["buyer"], "seller_nick": SELLER_NICK, "modified": china(order.updated_at)}
        return self._message(order, topic, content, secret)

    def decide_refund(self, platform: Platform, method: str, params: Mapping[str, str]) -> Response:
        """``taobao.rp.refunds.agree`` / ``taobao.refund.refuse``: recorded, applied to the refund, pushed."""
        if method == AGREE_METHOD:
            infos = [part.split("|") for part in params.get("refund_infos", "").split(",") if part]
            if not infos or any(len(info) < 2 or not info[0].isdigit() or not info[1].isdigit() for info in infos):
                return _error(40, "Missing required arguments:refund_infos")
            results = []
            for refund_id, amount, *_rest in infos:
                refund = self._refund(platform, refund_id)
                if refund is None:
                    return _error(15, "Remote service error", "isv.refund-not-exist", "退款不存在 (no such refund)")
                if int(amount) > refund["fee"]:
                    return _error(15, "Remote service error", "isv.refund-fee-invalid", "退款金额超过可退金额")
                platform.record_after_sale_call(method, refund_id, amount=str(Decimal(amount) / 100))
                if refund["status"] == "WAIT_SELLER_AGREE":
                    refund["status"] = "WAIT_BUYER_RETURN_GOODS" if refund["has_good_return"] else "SUCCESS"
                    self._refund_changed(platform, refund, "agreed" if refund["has_good_return"] else "refunded")
                results.append({"refund_id": int(refund_id), "succ": True, "message": "OP_SUCC"})
            return JSONResponse({"rp_refunds_agree_response": {"succ": True, "msg_code": "OP_SUCC",
                                                               "message": "成功", "results": {"refund_mapping_result": results},
                                                               "request_id": _request_id()}})
        refund_id = params.get("refund_id", "")
        message = params.get("refuse_message", "")
        if not refund_id or not 2 <= len(message) <= 200:
            return _error(41, "Invalid arguments:refuse_message" if refund_id else "Missing required arguments:refund_id")
        refund = self._refund(platform, refund_id)
        if refund is None:
            return _error(15, "Remote service error", "isv.refund-not-exist", "退款不存在 (no such refund)")
        platform.record_after_sale_call(method, refund_id, message=message)
        if refund["status"] == "WAIT_SELLER_AGREE":
            refund["status"] = "SELLER_REFUSE_BUYER"
            self._refund_changed(platform, refund, "refused")
        return JSONResponse({"refund_refuse_response": {"refund_refuse_result": {"is_success": True},
                                                        "request_id": _request_id()}})

    def _refund(self, platform: Platform, refund_id: str) -> dict[str, Any] | None:
        where = self.refunds.get(refund_id)
        order = platform.orders.get(where[0]) if where else None
        return order.detail.get("refunds", {}).get(where[1]) if order is not None and where else None

    def _refund_changed(self, platform: Platform, refund: dict[str, Any], event: str) -> None:
        """The trade changes with its refund (closed once every line is refunded before shipping), then is pushed."""
        order = platform.orders[refund["tid"]]
        refunds = order.detail.get("refunds", {})
        everything = len(refunds) == len(order.detail["lines"]) and all(r["status"] == "SUCCESS" for r in refunds.values())
        platform.touch(order.external_id, status="TRADE_CLOSED" if everything and order.status not in SHIPPED else None,
                       push=False)
        platform.announce_refund(order, refund, event)

    # ------------------------------------------------------------------ the router

    def routes(self, platform: Platform) -> list[Route]:
        async def router(request: Request) -> Response:
            params = dict(request.query_params)
            try:
                params.update(wire.parse_form(await request.body()))
            except PayloadError:
                return _error(41, "Invalid arguments:body is not a UTF-8 form")
            method = params.get("method", "")
            refused = await platform.gate({LIST_METHOD: "list", FULLINFO_METHOD: "fetch",
                                           AGREE_METHOD: "refund", REFUSE_METHOD: "refund"}.get(method, "other"))
            if refused == "throttled":
                seconds = max(1, round(platform.retry_after()))
                return _error(7, "App Call Limited", "accesscontrol.limited-by-app-access-count",
                              f"This ban will last for {seconds} more seconds")
            if refused == "error":
                return PlainTextResponse("Internal Server Error", status_code=500)
            problem = self.check(params)
            if problem is not None:
                return problem
            if method == LIST_METHOD:
                return self.listing(platform, params)
            if method in (AGREE_METHOD, REFUSE_METHOD):
                return self.decide_refund(platform, method, params)
            order = platform.orders.get(params.get("tid", "").strip())
            if order is None:
                return _error(15, "Remote service error", "isv.trade-not-exist", "交易不存在 (no such trade)") \
                    if params.get("tid") else _error(40, "Missing required arguments:tid")
            return JSONResponse({"trade_fullinfo_get_response": {"trade": self.trade(order),
                                                                 "request_id": _request_id()}})

        return [Route(PATH, router, methods=["POST"])]

    def check(self, params: Mapping[str, str]) -> Response | None:
        """TOP's system checks, in its order: method, app key, timestamp, signature, session."""
        if not params.get("method"):
            return _error(21, "Missing method")
        if params["method"] not in (LIST_METHOD, FULLINFO_METHOD, AGREE_METHOD, REFUSE_METHOD):
            return _error(22, "Invalid method")
        if not params.get("app_key"):
            return _error(28, "Missing app key")
        if params["app_key"] != self.app_key:
            return _error(29, "Invalid app Key")
        try:
            sent = wire.china_time(params.get("timestamp", ""), "timestamp")
        except PayloadError:
            return _error(31, "Invalid timestamp")
        if abs(datetime.now(UTC) - sent) > MAX_SKEW:
            return _error(31, "Invalid timestamp", "isv.invalid-timestamp", "timestamp is more than 10 minutes off")
        sign_method = params.get("sign_method") or "md5"
        if sign_method not in TOP_SIGN_METHODS:
            return _error(41, "Invalid arguments:sign_method")
        if not params.get("sign"):
            return _error(24, "Missing signature")
        if not same(top_sign(params, self.app_secret, sign_method), params["sign"].upper()):
            return _error(25, "Invalid signature")
        if not params.get("session"):
            return _error(26, "Missing session")
        if params["session"] != self.session:
            return _error(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        return None

    def listing(self, platform: Platform, params: Mapping[str, str]) -> Response:
        try:
            start = wire.china_time(params.get("start_modified", ""), "start_modified")
            end = wire.china_time(params.get("end_modified", ""), "end_modified")
        except PayloadError as error:
            if not params.get(error.field):
                return _error(40, f"Missing required arguments:{error.field}")
            return _error(41, f"Invalid arguments:{error.field}")
        if end < start or end - start > MAX_WINDOW:
            return _error(15, "Remote service error", "isv.invalid-parameter",
                          "修改时间跨度不能大于一天 (end_modified - start_modified must be within one day)")
        numbers = {}
        for name, default in (("page_no", 1), ("page_size", 40)):
            raw = params.get(name) or str(default)
            if not raw.isdigit() or int(raw) < 1 or (name == "page_size" and int(raw) > MAX_PAGE_SIZE):
                return _error(41, f"Invalid arguments:{name}")
            numbers[name] = int(raw)
        size = platform.page_size(numbers["page_size"])
        first, last = seconds(start, end)
        orders = platform.index.slice(first, last, offset=(numbers["page_no"] - 1) * size, size=size, descending=True)
        total = platform.index.count(first, last)
        fields = [name.strip() for name in params.get("fields", "tid").split(",") if name.strip()]
        trades = [{k: v for k, v in self.summary(o).items() if k in fields} for o in orders]
        answer: dict[str, Any] = {"request_id": _request_id()}
        if params.get("use_has_next") == "true":
            answer["has_next"] = numbers["page_no"] * size < total
        else:
            answer["total_results"] = total
        if trades:
            answer["trades"] = {"trade": trades}
        platform.after_page(start, end)
        return JSONResponse({"trades_sold_increment_get_response": answer})


def _error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> Response:
    body: dict[str, Any] = {"code": code, "msg": msg, "request_id": _request_id()}
    if sub_code:
        body.update(sub_code=sub_code, sub_msg=sub_msg or msg)
    return JSONResponse({"error_response": body})


def _request_id() -> str:
    return f"{random.getrandbits(48):012x}"
