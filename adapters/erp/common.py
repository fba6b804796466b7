"""What every ERP adapter needs: evidence redaction, exact quantities, config checks that name the bad key.

Evidence keeps what was asked and answered, never a password, an app secret,
a session id or a customer's name and phone in clear: :func:`redact` walks a
JSON body (any depth, JSON held in string values too) and stars or masks
values by the name of the key that holds them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from adapters.system_http import redact_value
from domain.masking import mask_address, mask_name, mask_phone

#: Keys (lower-cased, without ``_``/``-``/``.``) whose values are secrets or session handles: starred.
SECRET_KEYS = frozenset({
    "password", "pwd", "appsecret", "appsec", "secret", "clientsecret", "token", "accesstoken", "usertoken",
    "kdsvcsessionid", "sessionid", "session", "kdservicesessionid", "aspnetsessionid", "sign", "signature",
    "xapisignature", "xkdsignature", "authorization", "dbid",
})
#: ERP field names that hold people's names, phones and addresses (Kingdee's among them): masked.
_PERSONAL = {
    "username": mask_name, "customname": mask_name, "flinkman": mask_name, "freceivecontact": mask_name,
    "fcontact": mask_name, "contact": mask_name, "linkman": mask_name, "customername": mask_name,
    "receiver": mask_name,
    "flinkphone": mask_phone, "fphone": mask_phone, "fmobile": mask_phone, "linkphone": mask_phone,
    "customerphone": mask_phone, "mobilephone": mask_phone,
    "freceiveaddress": mask_address, "receiveaddress": mask_address,
}


def _kind(key: str) -> str:
    return re.sub(r"[_\-.]", "", key.lower())


def _redact_scalar(key: str, value: Any) -> Any:
    kind = _kind(key)
    if kind in SECRET_KEYS:
        return "***"
    masker = _PERSONAL.get(kind)
    if masker is not None and isinstance(value, str):
        return masker(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            inner = json.loads(value)
        except ValueError:
            return redact_value(key, value)
        return json.dumps(_walk(inner), ensure_ascii=False)
    return redact_value(key, value)


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value) if isinstance(value, (dict, list)) else _redact_scalar(str(key), value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item) for item in node]
    return node


#: Mainland mobile numbers in free text (an error page, a message): masked wherever they appear.
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    """A JSON body with secrets starred and personal values masked; other text (error pages) with mobiles masked."""
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return _MOBILE.sub(lambda match: mask_phone(match.group(0)) or "", text[:2000])
    return json.dumps(_walk(data), ensure_ascii=False)


# ------------------------------------------------------------------ values


def quantity(value: Any, where: str) -> int:
    """A whole quantity from a JSON number or numeric text (``2400.0`` -> 2400); a fraction is an error naming ``where``."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{where}: expected a quantity, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: expected a quantity, got {str(value)[:40]!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueError(f"{where}: expected a whole quantity, got {number}")
    return int(number)


def decimal_text(value: Any, where: str) -> str:
    """An amount as exact decimal text (``61488.0`` -> ``"61488.0"``); anything else is an error naming ``where``."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{where}: expected an amount, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{where}: expected an amount, got {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise ValueError(f"{where}: expected a finite amount")
    return format(number, "f")


# ------------------------------------------------------------------ config checks


def refuse_unknown(config: Mapping[str, Any], allowed: frozenset[str] | set[str], where: str = "") -> None:
    """A ``ValueError`` naming the first key the adapter does not know (a typo must not be ignored)."""
    for key in config:
        if key not in allowed:
            raise ValueError(f"{where}{key}: unknown key (known: {', '.join(sorted(allowed))})")


def require_text(config: Mapping[str, Any], key: str, where: str = "") -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}{key}: required text")
    return value.strip()


def optional_text(config: Mapping[str, Any], key: str, default: str, where: str = "") -> str:
    value = config.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{where}{key}: must be text")
    return value.strip()


def http_url(config: Mapping[str, Any], key: str, where: str = "") -> str:
    url = require_text(config, key, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{where}{key}: an http(s) URL, e.g. https://erp.example.com/k3cloud/")
    if parts.username or parts.password:
        raise ValueError(f"{where}{key}: credentials do not belong in the URL")
    return url


def number_in(config: Mapping[str, Any], key: str, default: float, low: float, high: float, where: str = "",
              *, whole: bool = False) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not float(value).is_integer()):
        raise ValueError(f"{where}{key}: must be a {'whole ' if whole else ''}number")
    if not low <= value <= high:
        raise ValueError(f"{where}{key}: must be between {low:g} and {high:g}")
    return float(value)


def filter_literal(value: str) -> str:
    """A value quoted for a SQL-like filter string: single quotes doubled, control characters refused."""
    if any(ord(ch) < 32 for ch in value):
        raise ValueError("a code holds a control character")
    return "'" + value.replace("'", "''") + "'"
