"""The Qimen (奇门) WMS interface on the wire: system parameters, signing, XML bodies, the response envelope.

The adapter (``adapters.wms.qimen``) and the simulator share this module, so
both sides sign and read exactly the same way.

* A request is ``POST {router}?{system parameters}`` with an XML body
  (``<request>…</request>``, ``Content-Type: text/xml``).
* System parameters: ``method`` (``taobao.qimen.deliveryorder.create``),
  ``app_key``, ``customerId`` (routes to the right WMS account),
  ``timestamp`` (``yyyy-MM-dd HH:mm:ss`` in GMT+8), ``format`` (``xml``),
  ``v`` (``2.0``), ``sign_method`` and ``sign``.
* ``sign``: every system parameter except ``sign`` (empty ones left out),
  sorted by name and concatenated as ``name + value``, then the body as sent.
  ``md5``: MD5(secret + text + body + secret); ``hmac``: HMAC-MD5(secret,
  text + body); ``hmac-sha256``: HMAC-SHA256(secret, text + body). Upper-case hex.
* Every answer, business error included, is HTTP 200 with
  ``<response><flag>success|failure</flag><code/><message/>…</response>``.

    params = system_params("taobao.qimen.order.cancel", app_key=k, customer_id=c, secret=s, body=xml)
    signature_matches(params, xml, s)   # True
"""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from adapters import wire

SIGN_METHODS = ("md5", "hmac", "hmac-sha256")
PREFIX = "taobao.qimen."
VERSION = "2.0"
CONTENT_TYPE = "text/xml;charset=utf-8"
#: The operations this adapter speaks, by their short names.
DELIVERY_CREATE = "deliveryorder.create"
DELIVERY_QUERY = "deliveryorder.query"
DELIVERY_CONFIRM = "deliveryorder.confirm"
ORDER_CANCEL = "order.cancel"
INVENTORY_QUERY = "inventory.query"
STOCK_CHANGE = "stockchange.report"
ENTRY_CREATE = "entryorder.create"
ENTRY_CONFIRM = "entryorder.confirm"
#: The failure the Qimen gateway answers a request whose signature does not match.
SIGN_FAILURE = "sign-check-failure"
MAX_BODY = 2 * 1024 * 1024


class XmlError(ValueError):
    """A body that is not the XML we expect; ``field`` names the element (``deliveryOrder/deliveryOrderCode``)."""

    def __init__(self, message: str, field: str = "$") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# ------------------------------------------------------------------ signing


def sign_text(params: Mapping[str, str], body: bytes) -> bytes:
    """What is signed: the sorted, concatenated system parameters, then the body."""
    joined = "".join(f"{name}{value}" for name, value in sorted(params.items())
                     if name != "sign" and value not in ("", None))
    return joined.encode("utf-8") + body


def qimen_sign(params: Mapping[str, str], body: bytes, secret: str, sign_method: str = "md5") -> str:
    """The ``sign`` of a request (or callback) with these system parameters and this body."""
    text = sign_text(params, body)
    key = secret.encode("utf-8")
    if sign_method == "md5":
        digest = hashlib.md5(key + text + key).hexdigest()
    elif sign_method == "hmac":
        digest = hmac.new(key, text, hashlib.md5).hexdigest()
    elif sign_method == "hmac-sha256":
        digest = hmac.new(key, text, hashlib.sha256).hexdigest()
    else:
        raise ValueError(f"sign_method is one of {', '.join(SIGN_METHODS)}")
    return digest.upper()


def signature_matches(params: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Constant-time check of ``params["sign"]`` against what ``secret`` gives."""
    method = params.get("sign_method") or "md5"
    if method not in SIGN_METHODS or not params.get("sign"):
        return False
    expected = qimen_sign(params, body, secret, method)
    return hmac.compare_digest(expected.encode(), params["sign"].strip().upper().encode())


def timestamp(now: datetime | None = None) -> str:
    """Qimen's ``timestamp``: ``yyyy-MM-dd HH:mm:ss`` in GMT+8."""
    return (now or datetime.now(UTC)).astimezone(wire.CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


def system_params(method: str, *, app_key: str, customer_id: str, secret: str, body: bytes,
                  sign_method: str = "md5", version: str = VERSION, now: datetime | None = None) -> dict[str, str]:
    """The signed query string of one call (``method`` in full, e.g. ``taobao.qimen.deliveryorder.create``)."""
    params = {"method": method, "app_key": app_key, "customerId": customer_id, "timestamp": timestamp(now),
              "format": "xml", "v": version, "sign_method": sign_method}
    params["sign"] = qimen_sign(params, body, secret, sign_method)
    return params


def short_method(method: str) -> str:
    """``taobao.qimen.deliveryorder.confirm`` and ``deliveryorder.confirm`` both name the same operation."""
    method = method.strip()
    return method[len(PREFIX):] if method.startswith(PREFIX) else method


# ------------------------------------------------------------------ XML out


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    if value is None or value == "":
        return
    if isinstance(value, list):
        for item in value:
            _append(parent, tag, item)
        return
    child = ET.SubElement(parent, tag)
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _append(child, key, inner)
    else:
        child.text = str(value)


def to_xml(root: str, content: Mapping[str, Any]) -> bytes:
    """``{"deliveryOrder": {...}, "orderLines": {"orderLine": [{...}, {...}]}}`` as ``<root>…</root>`` bytes.

    A list repeats its key's element; ``None`` and ``""`` are left out.
    """
    element = ET.Element(root)
    for key, value in content.items():
        _append(element, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def response_xml(success: bool, code: str, message: str, extra: Mapping[str, Any] | None = None) -> bytes:
    """The Qimen answer envelope."""
    content: dict[str, Any] = {"flag": "success" if success else "failure", "code": code or ("0" if success else "1"),
                               "message": message}
    content.update(extra or {})
    element = ET.Element("response")
    for key, value in content.items():
        if key in ("code", "message") and value == "":
            ET.SubElement(element, key)
            continue
        _append(element, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


# ------------------------------------------------------------------ XML in


def parse(body: bytes, root: str) -> ET.Element:
    """The ``<root>`` element of ``body``, or ``XmlError``. Document types and entities are refused outright."""
    if len(body) > MAX_BODY:
        raise XmlError(f"body larger than {MAX_BODY} bytes")
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise XmlError("document type declarations and entities are not accepted")
    try:
        element = ET.fromstring(body)
    except ET.ParseError as error:
        raise XmlError(f"not well-formed XML ({error})") from None
    if element.tag != root:
        raise XmlError(f"expected a <{root}> document, got <{element.tag[:40]}>")
    return element


def text(element: ET.Element | None, path: str) -> str:
    """The stripped text at ``path`` under ``element`` ("" when absent)."""
    if element is None:
        return ""
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def required(element: ET.Element, path: str, where: str = "") -> str:
    value = text(element, path)
    if not value:
        raise XmlError("required element is missing or empty", f"{where}{path}")
    if len(value) > 64:
        raise XmlError("longer than 64 characters", f"{where}{path}")
    return value


def quantity(element: ET.Element, path: str, where: str = "", *, signed: bool = False,
             default: int | None = None) -> int:
    """A whole number at ``path`` (``-3`` allowed only when ``signed``)."""
    raw = text(element, path)
    if not raw:
        if default is not None:
            return default
        raise XmlError("required quantity is missing", f"{where}{path}")
    try:
        value = int(raw)
    except ValueError:
        raise XmlError(f"expected a whole number, got {raw[:20]!r}", f"{where}{path}") from None
    if not signed and value < 0:
        raise XmlError(f"expected a quantity >= 0, got {value}", f"{where}{path}")
    if abs(value) > 10_000_000:
        raise XmlError(f"implausible quantity {value}", f"{where}{path}")
    return value


def china_time(element: ET.Element, path: str, where: str = "", default: datetime | None = None) -> datetime:
    """A ``yyyy-MM-dd HH:mm:ss`` GMT+8 time at ``path``, in UTC."""
    raw = text(element, path)
    if not raw:
        if default is not None:
            return default
        raise XmlError("required time is missing", f"{where}{path}")
    try:
        return wire.china_time(raw, f"{where}{path}")
    except ValueError as error:
        raise XmlError(getattr(error, "reason", str(error)), f"{where}{path}") from None


def items(element: ET.Element | None, path: str) -> Iterator[tuple[int, ET.Element]]:
    """The repeated elements at ``path`` (``orderLines/orderLine``), numbered from 0."""
    if element is None:
        return iter(())
    return enumerate(element.findall(path))


@dataclass(frozen=True, slots=True)
class Answer:
    """A Qimen response, read."""

    success: bool
    code: str
    message: str
    root: ET.Element


def read_answer(body: bytes) -> Answer:
    """The envelope of an answer, or ``XmlError`` if it is not one."""
    root = parse(body, "response")
    flag = text(root, "flag").lower()
    if flag not in ("success", "failure"):
        raise XmlError(f"flag is {flag[:20]!r}, expected success or failure", "flag")
    return Answer(flag == "success", text(root, "code"), text(root, "message")[:300], root)
