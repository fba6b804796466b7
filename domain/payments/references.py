"""One payment, many names: make the channel's, the gateway's and the ERP's reference for it comparable.

The same Alipay payment reaches OrderGraph as ``2026112222001412345678901234``
(the gateway's ``trade_no``), ``TB:2026112222001412345678901234`` (the channel)
and ``ALI-2026112222001412345678901234 `` (the ERP); a WeChat Pay one as
``4200001234202611223456789012`` or ``wx 4200-0012-3420-2611-2234-5678-9012``.
:func:`normalize` turns each into one key, by rules kept as data:

1. Unicode NFKC (full-width ``ＴＢ：`` becomes ``TB:``), outer blanks dropped, upper-cased;
2. a known prefix (the source's or the gateway's: ``TB``, ``ERP``, ``ALI``, ``WX`` …)
   is dropped when a separator follows it, or when what follows is the
   gateway's own id shape (``ALIPAY2026…``), repeatedly (``ERP-ALI-2026…``);
3. every separator (blank, ``-``, ``_``, ``:``, ``/``, ``.``, ``#``, ``|``) goes.

    >>> normalize("ALI-2026112222001412345678901234 ", "erp")
    '2026112222001412345678901234'
    >>> normalize("TB:2026112222001412345678901234", "alipay")
    '2026112222001412345678901234'

Stored in ``Payment.normalized_reference`` (and ``PaymentNotice``'s) wherever
a payment is written; matching compares only these.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: What separates the parts of a reference as people and systems write it.
SEPARATORS = " \t-_:/.#|"
_SEPARATOR_RUN = re.compile("[" + re.escape(SEPARATORS) + "]+")
#: The column it goes to is 64 characters long.
MAX_LENGTH = 64


@dataclass(frozen=True, slots=True)
class GatewayRule:
    """How one gateway's references look: the names it goes by, prefixes put before its ids, its id shape."""

    aliases: tuple[str, ...]
    prefixes: tuple[str, ...]
    id_shape: re.Pattern[str]


#: Prefixes any source may put before a payment id (channel and ERP markers), whatever the gateway.
SOURCE_PREFIXES: tuple[str, ...] = (
    "TMALL", "TAOBAO", "TB", "JD", "PDD", "DOUYIN", "DY", "KS", "SHOPIFY", "ERP", "U8", "K3", "KINGDEE",
    "PAYMENT", "PAY", "TXN", "TRADE", "REF", "NO",
)

#: Per gateway (by its canonical name): the names payments give it, its prefixes, the shape of its own ids.
GATEWAYS: dict[str, GatewayRule] = {
    "alipay": GatewayRule(
        aliases=("alipay", "ali", "zfb", "zhifubao", "支付宝", "alipay_hk", "alipayplus"),
        prefixes=("ALIPAY", "ALI", "ZFB", "AP"),
        id_shape=re.compile(r"^\d{28,32}$"),  # trade_no: yyyyMMdd + 20 digits (28), some products longer
    ),
    "wechatpay": GatewayRule(
        aliases=("wechatpay", "wechat", "wxpay", "weixin", "wx", "tenpay", "微信支付", "微信"),
        prefixes=("WECHATPAY", "WECHAT", "WEIXIN", "WXPAY", "TENPAY", "WX", "WXP"),
        id_shape=re.compile(r"^4\d{27}$"),  # transaction_id: 28 digits starting 42000…
    ),
    "unionpay": GatewayRule(
        aliases=("unionpay", "upop", "银联"),
        prefixes=("UNIONPAY", "UPOP", "UP"),
        id_shape=re.compile(r"^\d{21}$"),
    ),
}


def canonical_gateway(gateway: str) -> str:
    """``"WeChat"`` → ``"wechatpay"``; a name no rule knows is returned lower-cased."""
    name = unicodedata.normalize("NFKC", gateway or "").strip().lower()
    for canonical, rule in GATEWAYS.items():
        if name == canonical or name in rule.aliases:
            return canonical
    return name


def _rules_for(gateway: str) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """Prefixes (longest first) and id shapes that apply to references of ``gateway``.

    A gateway no rule knows (``channel``, ``erp``, ``taobao``) may carry any
    gateway's id, so every gateway's prefixes apply to it.
    """
    rule = GATEWAYS.get(canonical_gateway(gateway))
    chosen = [rule] if rule else list(GATEWAYS.values())
    prefixes = set(SOURCE_PREFIXES)
    for item in chosen:
        prefixes.update(item.prefixes)
    return tuple(sorted(prefixes, key=len, reverse=True)), tuple(item.id_shape for item in chosen)


def _strip_prefix(text: str, prefixes: tuple[str, ...], shapes: tuple[re.Pattern[str], ...]) -> str | None:
    """``text`` without one leading prefix, or ``None`` when none applies."""
    for prefix in prefixes:
        if not text.startswith(prefix) or len(text) == len(prefix):
            continue
        rest = text[len(prefix):]
        if rest[0] in SEPARATORS:
            remainder = rest.lstrip(SEPARATORS)
            if remainder:
                return remainder
        elif any(shape.match(_SEPARATOR_RUN.sub("", rest)) for shape in shapes):
            return rest  # glued on: dropped only when the gateway's own id shape follows
    return None


def normalize(reference: str, gateway: str = "") -> str:
    """The comparable key of ``reference`` as written for a payment through ``gateway`` (see module doc)."""
    text = unicodedata.normalize("NFKC", reference or "").strip().upper()
    if not text:
        return ""
    prefixes, shapes = _rules_for(gateway)
    for _ in range(4):  # "ERP-ALI-…": a few stacked prefixes, never a loop
        stripped = _strip_prefix(text, prefixes, shapes)
        if stripped is None:
            break
        text = stripped
    return _SEPARATOR_RUN.sub("", text)[:MAX_LENGTH]
