"""Builders for the intake tests: channels and carrier accounts, signed deliveries, patched sample payloads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from standardwebhooks.webhooks import Webhook

from adapters.channels import generic
from domain.actor import Actor, Role
from domain.intake import sources as intake_sources
from domain.statuses import OrderStatus, ShipmentStatus
from models import Channel, Order, Shipment

SAMPLES = Path(__file__).parent / "adapters" / "samples"
#: A Standard Webhooks secret, as the reference libraries format them.
SECRET = "whsec_" + base64.b64encode(b"intake-test-key-0123456789abcdef").decode()
SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789"
KDNIAO_KEY = "56da2cf8-c8a2-44b2-b6fa-476cd7d1ba17"
KUAIDI100_SALT = "kuaidi100-salt-xyz"
AFTERSHIP_SECRET = "aftership-webhook-secret"

#: channel kind -> (sample file, external id in it)
CHANNEL_SAMPLES = {
    "taobao": ("taobao_trade.json", "3612345678901234567"),
    "shopify": ("shopify_order.json", "5123456789012345678"),
    "pinduoduo": ("pinduoduo_order.json", "240301-512345678901234"),
    "douyin": ("douyin_order.json", "6919283812345678901"),
    "wechat_channels": ("wechat_channels_order.json", "3713995673005065728"),
}

GENERIC_MAPPING = {
    "source": "miniprogram",
    "external_id": "data.orderNo",
    "status": "data.state",
    "lines": "data.items",
    "line.sku": "skuCode",
    "line.quantity": "num",
    "line.unit_price": "priceFen",
    "line.title": "name",
    "total_amount": "data.amountFen",
    "currency": "'CNY'",
    "updated_at": "data.updatedAt",
    "placed_at": "data.createdAt",
    "customer_name": "data.buyer.name",
    "customer_phone": "data.buyer.mobile",
    "address.province": "data.receiver.province",
    "address.city": "data.receiver.city",
    "address.address": "data.receiver.detail",
    "money_unit": "fen",
    "time_format": "china",
}


def generic_body(order_no: str = "MP1001", state: str = "PAID", updated: str = "2024-03-01 12:00:00") -> bytes:
    return json.dumps({
        "event": "order.paid",
        "data": {
            "orderNo": order_no, "state": state, "amountFen": 25800,
            "createdAt": "2024-03-01 11:58:00", "updatedAt": updated,
            "buyer": {"name": "陈先生", "mobile": "13912345678"},
            "receiver": {"province": "北京市", "city": "北京市", "detail": "工体北路 8 号"},
            "items": [{"skuCode": "A1", "num": 2, "priceFen": 9900, "name": "Tee"},
                      {"skuCode": "B2", "num": 1, "priceFen": 6000, "name": "Cap"}],
        },
    }, ensure_ascii=False).encode()


def admin(world: Any) -> Actor:
    return Actor(tenant_id=world.tenant.id, role=Role.ADMIN, name="test-admin", source="test")


async def add_channel(world: Any, code: str, kind: str, *, secret: str | None = None,
                      mapping: dict[str, str] | None = None) -> Channel:
    if secret is None:
        secret = SHOPIFY_SECRET if kind == "shopify" else SECRET
    return await intake_sources.register_channel(admin(world), code, kind, f"{kind} shop", secret=secret,
                                                 mapping=mapping, check=generic.check_mapping)


async def add_carriers(world: Any) -> None:
    actor = admin(world)
    await intake_sources.set_carrier_account(actor, "kdniao", KDNIAO_KEY, {"ebusiness_id": "1237100"})
    await intake_sources.set_carrier_account(actor, "kuaidi100", KUAIDI100_SALT)
    await intake_sources.set_carrier_account(actor, "aftership", AFTERSHIP_SECRET)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def patched(body: bytes, *replacements: tuple[str, str]) -> bytes:
    """The body with exact text replaced (every replacement must apply)."""
    text = body.decode()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def taobao(status: str = "WAIT_SELLER_SEND_GOODS", modified: str = "2024-03-01 10:16:05", **extra: str) -> bytes:
    body = patched(sample("taobao_trade.json"), ('"modified": "2024-03-01 10:16:05"', f'"modified": "{modified}"'))
    text = body.decode().replace('"status": "WAIT_SELLER_SEND_GOODS"', f'"status": "{status}"')
    for old, new in extra.items():
        text = text.replace(old, new)
    return text.encode()


def standard_headers(body: bytes, *, secret: str = SECRET, msg_id: str | None = None, at: float | None = None) -> dict[str, str]:
    """Signed by the standardwebhooks reference library, as an independent sender."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    moment = datetime.fromtimestamp(int(at if at is not None else time.time()), UTC)
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": signature,
            "content-type": "application/json"}


def shopify_headers(body: bytes, *, secret: str = SHOPIFY_SECRET, webhook_id: str | None = None,
                    topic: str = "orders/updated") -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"x-shopify-hmac-sha256": digest, "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
            "x-shopify-topic": topic, "content-type": "application/json"}


def signed(kind: str, body: bytes, **kwargs: Any) -> dict[str, str]:
    return shopify_headers(body, **kwargs) if kind == "shopify" else standard_headers(body, **kwargs)


async def post(http: httpx.AsyncClient, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await http.post(path, content=body, headers=headers)


async def deliver(http: httpx.AsyncClient, kind: str, code: str, body: bytes, tenant: str = "acme", **kwargs: Any) -> httpx.Response:
    return await post(http, f"/hooks/{tenant}/{code}", body, signed(kind, body, **kwargs))


# ------------------------------------------------------------------ carriers


def kdniao_form(request_data: str, key: str = KDNIAO_KEY) -> bytes:
    sign = base64.b64encode(hashlib.md5((request_data + key).encode()).hexdigest().encode()).decode()
    return urlencode({"RequestData": request_data, "DataSign": sign, "RequestType": "101"}).encode()


def kuaidi100_form(param: str, salt: str = KUAIDI100_SALT) -> bytes:
    sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
    return urlencode({"param": param, "sign": sign}).encode()


def aftership_headers(body: bytes, secret: str = AFTERSHIP_SECRET) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"aftership-hmac-sha256": digest, "content-type": "application/json"}


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def shipped_order(world: Any, external_id: str, carrier: str, tracking_no: str,
                        *, shipped_at: datetime | None = None) -> tuple[Order, Shipment]:
    """A SHIPPED order with one shipment, written directly (set-up only: stock is not the subject here)."""
    order = await Order.create(
        tenant_id=world.tenant.id, channel_id=world.channel.id, external_id=external_id, status=OrderStatus.SHIPPED,
        total_amount=Decimal("10.00"), placed_at=datetime.now(UTC),
    )
    shipment = await Shipment.create(order_id=order.id, carrier=carrier, tracking_no=tracking_no,
                                     status=ShipmentStatus.LABEL_CREATED, shipped_at=shipped_at or datetime.now(UTC))
    return order, shipment
