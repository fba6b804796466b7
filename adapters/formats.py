"""Every wire format OrderGraph reads, bundled as the ports of the domain's inbound pipeline.

    from adapters.formats import FORMATS
    answer = await receive_channel(tenant_id, "tmall", channel, body, headers, formats=FORMATS)

Shopify signs with its own HMAC header and Douyin its message push with
``event-sign``; every other channel, and our own relays of pull-API
platforms, sign with Standard Webhooks. Tracking providers
each keep their own scheme and reply format (see ``adapters.carriers``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters import standard_webhooks, wire
from adapters.carriers import aftership, kdniao, kuaidi100
from adapters.channels import PARSERS, amazon, generic, shopify, taobao, wechat
from adapters.channels.api import CHANNEL_APIS
from adapters.order_files import OrderFileReader
from domain.inbound.formats import BadMapping, ChannelFormat, Formats
from domain.inbound.normalized import InboundOrder, InboundTracking, PayloadError

Reader = Callable[[dict[str, Any], Mapping[str, str] | None], InboundOrder]


def json_object(body: bytes) -> dict[str, Any]:
    payload = wire.load_json(body)
    if not isinstance(payload, dict):
        raise PayloadError(f"expected a JSON object, got {wire.describe(payload)}", field="$")
    return payload


# ------------------------------------------------------------------ channels


@dataclass(frozen=True, slots=True)
class StandardWebhooksChannel:
    """A channel that posts its order JSON signed with Standard Webhooks (``webhook-id/-timestamp/-signature``)."""

    read: Reader
    #: Reads the order id out of a message that only announces a change (``None``: whole orders only).
    announcement: Callable[[dict[str, Any]], str | None] | None = None

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: int | None) -> str | None:
        if standard_webhooks.verify(secret, headers, body, tolerance=tolerance):
            return None
        return "webhook-signature does not match, or webhook-timestamp is missing or more than 5 minutes off"

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        return headers.get(standard_webhooks.ID_HEADER, "")

    def parse(self, body: bytes, headers: Mapping[str, str], mapping: Mapping[str, str] | None) -> InboundOrder:
        return self.read(json_object(body), mapping)

    def announced(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, ...]:
        found = self.announcement(json_object(body)) if self.announcement else None
        return (found,) if found else ()

    def acknowledge(self, headers: Mapping[str, str], ok: bool, reason: str) -> tuple[str, bytes] | None:
        return None


@dataclass(frozen=True, slots=True)
class ShopifyChannel:
    """Shopify's own webhooks: ``X-Shopify-Hmac-Sha256`` over the body, one order per ``orders/*`` topic."""

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: int | None) -> str | None:
        if shopify.verify(body, secret, headers.get("x-shopify-hmac-sha256", "")):
            return None
        return "X-Shopify-Hmac-Sha256 does not match the body"

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        return headers.get("x-shopify-webhook-id", "")

    def parse(self, body: bytes, headers: Mapping[str, str], mapping: Mapping[str, str] | None) -> InboundOrder:
        topic = headers.get("x-shopify-topic", "")
        if topic and not topic.startswith("orders/"):
            raise PayloadError(f"topic {topic!r} is not an order topic", field="X-Shopify-Topic")
        return shopify.parse_order(json_object(body))

    def announced(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, ...]:
        return ()

    def acknowledge(self, headers: Mapping[str, str], ok: bool, reason: str) -> tuple[str, bytes] | None:
        return None


#: Douyin shop's message push (消息推送) headers: the app key, and MD5(app key + body + app secret) in hex.
DOUYIN_APP_HEADER, DOUYIN_SIGN_HEADER = "app-id", "event-sign"


@dataclass(frozen=True, slots=True)
class DouyinChannel:
    """Douyin shop: its own signed message push, which only announces orders, or whole orders relayed by us.

    A channel Douyin pushes to has the app's ``app_secret`` as its ``secret``:
    Douyin signs a push with ``event-sign`` = MD5(``app-id`` + body + app
    secret). A body without ``event-sign`` is a relay's, checked with Standard
    Webhooks (a relay channel's secret is a ``whsec_`` key). A push carries no
    timestamp, so a replayed one only announces the same order again (it is
    fetched and applied once). A push is a JSON array of messages
    ``{"tag", "msg_id", "data": "<JSON with p_id>"}``: every order named is
    fetched and applied, and Douyin's own pushes are answered in its format.
    """

    relay: StandardWebhooksChannel

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: int | None) -> str | None:
        signature = headers.get(DOUYIN_SIGN_HEADER)
        if signature is None:
            return self.relay.verify(secret, body, headers, tolerance=tolerance)
        app_id = headers.get(DOUYIN_APP_HEADER, "")
        expected = hashlib.md5(app_id.encode() + body + secret.encode()).hexdigest()
        if app_id and hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
            return None
        return "event-sign does not match MD5(app-id + body + the channel secret, Douyin's app_secret)"

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        return self.relay.delivery_id(headers)

    def parse(self, body: bytes, headers: Mapping[str, str], mapping: Mapping[str, str] | None) -> InboundOrder:
        return self.relay.parse(body, headers, mapping)

    def announced(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, ...]:
        payload = wire.load_json(body)
        if isinstance(payload, dict) and {"tag", "msg_id", "data"} <= payload.keys():
            payload = [payload]
        if not isinstance(payload, list):
            return ()  # a whole order
        found: dict[str, None] = {}
        tags = []
        for index, message in enumerate(payload):
            if not isinstance(message, dict) or not isinstance(message.get("data"), str):
                raise PayloadError("a Douyin message is {tag, msg_id, data: JSON text}", field=f"$[{index}]")
            data = wire.load_json(message["data"])
            order_id = data.get("p_id") if isinstance(data, dict) else None
            if not isinstance(order_id, bool) and isinstance(order_id, (int, str)) and str(order_id).strip():
                found[str(order_id).strip()] = None
            else:
                tags.append(str(message.get("tag", "?"))[:10])
        if not found:
            raise PayloadError(f"Douyin message tags {', '.join(tags) or 'none'} name no order (data.p_id)",
                               field="$[0].data.p_id")
        return tuple(found)

    def acknowledge(self, headers: Mapping[str, str], ok: bool, reason: str) -> tuple[str, bytes] | None:
        """Douyin's own pushes want ``{"code": 0, "msg": "success"}``; anything else makes it push again."""
        if DOUYIN_SIGN_HEADER not in headers:
            return None
        answer = {"code": 0, "msg": "success"} if ok else {"code": 40000, "msg": reason[:200]}
        return "application/json", json.dumps(answer, ensure_ascii=False).encode()


def _native(parse: Callable[[dict[str, Any]], InboundOrder]) -> Reader:
    return lambda payload, _mapping: parse(payload)


def _taobao(payload: dict[str, Any], _mapping: Mapping[str, str] | None) -> InboundOrder:
    return taobao.parse_order(payload)


def _taobao_announcement(payload: dict[str, Any]) -> str | None:
    """A TMC trade message (``taobao_trade_*`` topics) names its trade: ``content.tid``."""
    if "topic" not in payload or "content" not in payload:
        return None
    content = taobao.unwrap_tmc(payload)
    tid = content.get("tid")
    if isinstance(tid, bool) or not isinstance(tid, (int, str)) or not str(tid).strip():
        raise PayloadError("a TMC message without content.tid", field="content.tid")
    return str(tid).strip()


def _wechat_announcement(payload: dict[str, Any]) -> str | None:
    """A Channels shop order message (``MsgType`` event, ``Event`` ``channels_ec_order_*``) names its order:
    ``order_info.order_id`` (a JSON number beyond 2^53, kept exact)."""
    if payload.get("MsgType") != "event" or "Event" not in payload:
        return None
    info = payload.get("order_info")
    order_id = info.get("order_id") if isinstance(info, dict) else None
    if isinstance(order_id, bool) or not isinstance(order_id, (int, str)) or not str(order_id).strip():
        raise PayloadError(f"a WeChat {str(payload.get('Event'))[:60]!r} message without order_info.order_id",
                           field="order_info.order_id")
    return str(order_id).strip()


def _amazon(payload: dict[str, Any], _mapping: Mapping[str, str] | None) -> InboundOrder:
    """A relayed order is ``getOrder`` and ``getOrderItems`` side by side (``{order, items}``), or already merged."""
    if "order" in payload and "items" in payload:
        payload = amazon.combine(payload["order"], payload["items"])
    return amazon.parse_order(payload)


def _generic(payload: dict[str, Any], mapping: Mapping[str, str] | None) -> InboundOrder:
    if not mapping:
        raise BadMapping("the generic channel has no field mapping")
    try:
        generic.check_mapping(mapping)
    except ValueError as error:
        raise BadMapping(str(error)) from None
    return generic.parse_order(payload, dict(mapping))


CHANNELS: dict[str, ChannelFormat] = {
    **{kind: StandardWebhooksChannel(_native(parse)) for kind, parse in PARSERS.items()},
    shopify.SOURCE: ShopifyChannel(),
    taobao.SOURCE: StandardWebhooksChannel(_taobao, _taobao_announcement),
    wechat.SOURCE: StandardWebhooksChannel(_native(wechat.parse_order), _wechat_announcement),
    amazon.SOURCE: StandardWebhooksChannel(_amazon),
    "generic": StandardWebhooksChannel(_generic),
    "douyin": DouyinChannel(StandardWebhooksChannel(_native(PARSERS["douyin"]))),
}


# ------------------------------------------------------------------ tracking providers


@dataclass(frozen=True, slots=True)
class FormCarrier:
    """A provider that posts an HTML form signed inside the form (Kdniao, Kuaidi100)."""

    verify_form: Callable[[Mapping[str, str], str], bool]
    parse_form: Callable[[Mapping[str, str]], list[InboundTracking]]
    answer: Callable[[bool, str, Mapping[str, Any] | None, Mapping[str, str] | None], tuple[str, bytes]]

    def decode(self, body: bytes) -> Mapping[str, str] | None:
        return wire.parse_form(body)

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], form: Mapping[str, str] | None) -> bool:
        return form is not None and self.verify_form(form, secret)

    def parse(self, body: bytes, form: Mapping[str, str] | None) -> list[InboundTracking]:
        if form is None:
            raise PayloadError("expected a form body", field="$")
        return self.parse_form(form)

    def reply(self, success: bool, reason: str, config: Mapping[str, Any] | None,
              form: Mapping[str, str] | None) -> tuple[str, bytes]:
        return self.answer(success, reason, config, form)


def _kdniao_reply(success: bool, reason: str, config: Mapping[str, Any] | None,
                  form: Mapping[str, str] | None) -> tuple[str, bytes]:
    """Kdniao wants its EBusinessID echoed: from the account, else from the push itself."""
    business = str((config or {}).get("ebusiness_id", ""))
    if not business and form and form.get("RequestData"):
        try:
            decoded = wire.load_json(form["RequestData"])
            business = str(decoded.get("EBusinessID", "")) if isinstance(decoded, dict) else ""
        except PayloadError:
            business = ""
    return kdniao.reply(success, reason, ebusiness_id=business)


class AfterShipCarrier:
    """AfterShip: JSON body, ``aftership-hmac-sha256`` over it."""

    def decode(self, body: bytes) -> Mapping[str, str] | None:
        return None

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], form: Mapping[str, str] | None) -> bool:
        return aftership.verify(body, secret, headers.get(aftership.SIGNATURE_HEADER.lower(), ""))

    def parse(self, body: bytes, form: Mapping[str, str] | None) -> list[InboundTracking]:
        return aftership.parse_push(json_object(body))

    def reply(self, success: bool, reason: str, config: Mapping[str, Any] | None,
              form: Mapping[str, str] | None) -> tuple[str, bytes]:
        return aftership.reply(success, reason)


CARRIERS = {
    kdniao.PROVIDER: FormCarrier(kdniao.verify, kdniao.parse_push, _kdniao_reply),
    kuaidi100.PROVIDER: FormCarrier(kuaidi100.verify, kuaidi100.parse_push,
                                    lambda success, reason, _config, _form: kuaidi100.reply(success, reason)),
    aftership.PROVIDER: AfterShipCarrier(),
}

KEPT_HEADERS = frozenset({
    "content-type", "user-agent",
    "x-shopify-hmac-sha256", "x-shopify-webhook-id", "x-shopify-event-id", "x-shopify-topic",
    "x-shopify-shop-domain", "x-shopify-triggered-at", "x-shopify-api-version",
    standard_webhooks.ID_HEADER, standard_webhooks.TIMESTAMP_HEADER, standard_webhooks.SIGNATURE_HEADER,
    aftership.SIGNATURE_HEADER.lower(), "x-request-id", "x-delivery-via",
    DOUYIN_APP_HEADER, DOUYIN_SIGN_HEADER,
})

FORMATS = Formats(channels=CHANNELS, carriers=CARRIERS, files=OrderFileReader(), kept_headers=KEPT_HEADERS,
                  apis=CHANNEL_APIS)
