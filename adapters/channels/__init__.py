"""Channel order parsers, one module per platform, all returning :class:`~domain.inbound.normalized.InboundOrder`.

``PARSERS`` maps a channel kind to its ``parse_order(payload)``; the generic
JMESPath parser needs a mapping as well and is therefore called directly
(:func:`adapters.channels.generic.parse_order`).
"""

from __future__ import annotations

from collections.abc import Callable

from adapters.channels import amazon, douyin, pinduoduo, shopify, taobao, wechat
from domain.inbound.normalized import InboundOrder

PARSERS: dict[str, Callable[[dict], InboundOrder]] = {
    shopify.SOURCE: shopify.parse_order,
    taobao.SOURCE: taobao.parse_order,
    pinduoduo.SOURCE: pinduoduo.parse_order,
    douyin.SOURCE: douyin.parse_order,
    wechat.SOURCE: wechat.parse_order,
    amazon.SOURCE: amazon.parse_order,
}
