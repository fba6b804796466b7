"""One code per carrier, whatever a channel or tracking provider calls it — as data.

    >>> normalize("顺丰速运"), normalize("shunfeng"), normalize("sf-express"), normalize("SF")
    ('SF', 'SF', 'SF', 'SF')
    >>> normalize("J&T Express"), normalize("jtexpress"), normalize("JTSD")
    ('JT', 'JT', 'JT')
    >>> normalize("Some Local Courier")
    ''

Channels name carriers by their own codes (Taobao ``SF``/``POSTB``, Shopify
``"UPS"``, WeChat ``delivery_id`` strings) and tracking providers by theirs
(Kdniao ``ShipperCode``, Kuaidi100 ``com``, AfterShip ``slug``). A shipment
stores the normalised code, so a later push for the same parcel finds it
however either side spelled the carrier. An unknown name normalises to ``""``:
the caller keeps the raw name and matches on the waybill number alone.
"""

from __future__ import annotations

import re

#: Normalised code -> display name and every spelling seen for it (matched case- and punctuation-insensitively).
CARRIERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "SF": ("SF Express 顺丰速运", ("sf", "顺丰", "顺丰速运", "顺丰快递", "shunfeng", "sfexpress", "sf-express",
                                   "sfexpresscn", "sf express")),
    "ZTO": ("ZTO Express 中通快递", ("zto", "中通", "中通快递", "zhongtong", "zto-express", "ztoexpress")),
    "YTO": ("YTO Express 圆通速递", ("yto", "圆通", "圆通速递", "圆通快递", "yuantong", "yto-express")),
    "STO": ("STO Express 申通快递", ("sto", "申通", "申通快递", "shentong", "sto-express")),
    "YUNDA": ("Yunda Express 韵达快递", ("yunda", "yd", "韵达", "韵达快递", "韵达速递", "yunda-express")),
    "JT": ("J&T Express 极兔速递", ("jt", "jtsd", "j&t", "j&t express", "jtexpress", "jtexpress-cn", "极兔",
                                  "极兔速递", "极兔快递", "jitu")),
    "EMS": ("China EMS 中国邮政速递", ("ems", "china-ems", "chinaems", "邮政ems", "中国ems", "ems快递")),
    "CHINAPOST": ("China Post 中国邮政", ("chinapost", "china-post", "postb", "yzpy", "youzhengguonei",
                                          "中国邮政", "邮政快递包裹", "邮政包裹", "邮政")),
    "JD": ("JD Logistics 京东物流", ("jd", "jdl", "京东", "京东物流", "京东快递", "jingdong", "jd-logistics",
                                   "jdexpress")),
    "DEPPON": ("Deppon 德邦快递", ("deppon", "dbl", "dbkd", "德邦", "德邦快递", "德邦物流", "debangwuliu",
                                  "debangkuaidi")),
    "BEST": ("Best Express 百世快递", ("best", "htky", "百世", "百世快递", "百世汇通", "huitongkuaidi",
                                     "best-express")),
    "UPS": ("UPS", ("ups", "united parcel service")),
    "USPS": ("USPS", ("usps", "united states postal service", "us postal service")),
    "FEDEX": ("FedEx", ("fedex", "fed ex", "federal express")),
    "DHL": ("DHL Express", ("dhl", "dhl express", "dhl-express", "dhlexpress")),
}

_PUNCTUATION = re.compile(r"[\s_.\-/()（）]+")


def _key(name: str) -> str:
    return _PUNCTUATION.sub("", name.strip().lower())


_INDEX: dict[str, str] = {}
for _code, (_display, _names) in CARRIERS.items():
    for _name in (_code, *_names):
        _INDEX[_key(_name)] = _code


def normalize(name: str) -> str:
    """The normalised code for a carrier name or code, or ``""`` when the name is not known."""
    return _INDEX.get(_key(name), "") if name else ""


def display_name(code: str) -> str:
    """A person's name for a normalised code (the code itself when unknown)."""
    entry = CARRIERS.get(code)
    return entry[0] if entry else code
