"""JSON out again exactly as :func:`adapters.wire.load_json` read it in: ``Decimal`` as its own digits, big ints whole.

    payload = wire.load_json(raw)            # 59.90 -> Decimal("59.90"), 5123456789012345678 stays an int
    body = exact.dumps({"order": payload["order"]})   # b'{"order":{... 59.90 ... 5123456789012345678 ...}}'

The pull clients cut one order out of a list answer, or join two answers
into the body a channel's webhook format reads; ``json.dumps`` cannot write
a ``Decimal`` as a number, and going through ``float`` would change digits.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _text(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)  # the digits as parsed ("59.90", "1E+5"): valid JSON numbers
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def dumps(value: Any) -> bytes:
    """``value`` (decoded by ``wire.load_json``) as UTF-8 JSON bytes, numbers unchanged."""
    return _text(value).encode()
