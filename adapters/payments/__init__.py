"""Payment gateways' notification formats, one module per gateway, and a sender that signs like them.

    GATEWAYS["wechatpay"].read_notice(config, body, headers, now=now, tolerance=300)

``GATEWAYS`` is what ``api/`` hands ``domain.payments.receive`` (the domain
never imports adapters).
"""

from __future__ import annotations

from adapters.payments.alipay import Alipay
from adapters.payments.wechatpay import WeChatPayV3
from domain.payments.ports import PaymentGateway

GATEWAYS: dict[str, PaymentGateway] = {"wechatpay": WeChatPayV3(), "alipay": Alipay()}
