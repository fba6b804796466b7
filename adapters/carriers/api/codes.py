"""Each tracking provider's company code for the carriers we normalise, as data.

    company("kuaidi100", "SF")      # "shunfeng"
    company("kdniao", "YUNDA")      # "YD"
    company("aftership", "JT")      # "jtexpress-cn"

The shipment stores the normalised code (:mod:`domain.inbound.carrier_codes`);
subscribing or querying needs the provider's own code. Every code here
normalises back to its key (a test checks), so a push that names the carrier
the provider's way finds the shipment again. Sources: Kuaidi100's company
code table (lower case, ``shunfeng``), Kdniao's ShipperCode list (``SF``,
``YD``, ``JTSD``, ``YZPY``), AfterShip's courier slugs (``sf-express``).
"""

from __future__ import annotations

from domain.inbound import carrier_codes

#: provider -> normalised carrier code -> the provider's company code.
COMPANIES: dict[str, dict[str, str]] = {
    "kuaidi100": {
        "SF": "shunfeng", "ZTO": "zhongtong", "YTO": "yuantong", "STO": "shentong", "YUNDA": "yunda",
        "JT": "jtexpress", "EMS": "ems", "CHINAPOST": "youzhengguonei", "JD": "jd", "DEPPON": "debangkuaidi",
        "BEST": "huitongkuaidi", "UPS": "ups", "USPS": "usps", "FEDEX": "fedex", "DHL": "dhl",
    },
    "kdniao": {
        "SF": "SF", "ZTO": "ZTO", "YTO": "YTO", "STO": "STO", "YUNDA": "YD", "JT": "JTSD", "EMS": "EMS",
        "CHINAPOST": "YZPY", "JD": "JD", "DEPPON": "DBL", "BEST": "HTKY", "UPS": "UPS", "USPS": "USPS",
        "FEDEX": "FEDEX", "DHL": "DHL",
    },
    "aftership": {
        "SF": "sf-express", "ZTO": "zto-express", "YTO": "yto", "STO": "sto", "YUNDA": "yunda",
        "JT": "jtexpress-cn", "EMS": "china-ems", "CHINAPOST": "china-post", "JD": "jd-logistics",
        "DEPPON": "deppon", "BEST": "best-express", "UPS": "ups", "USPS": "usps", "FEDEX": "fedex", "DHL": "dhl",
    },
}


def company(provider: str, carrier: str) -> str:
    """The provider's code for a carrier (normalised code or any known spelling); ``""`` when it has none."""
    table = COMPANIES.get(provider, {})
    return table.get(carrier) or table.get(carrier_codes.normalize(carrier), "")
