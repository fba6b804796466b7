"""Order numbers as people type them, read leniently: ``OG000000042``, ``og42`` and ``42`` all name order 42.

    order_number(42)                 # "OG000000042"
    order_id_from_number(" og42 ")   # 42
    order_id_from_number("T1001")    # None: not one of ours (maybe a channel's own number)
    parse_order_number("T1001")      # ValidationFailed, for callers that need one of ours

The number is derived from the id (``models.order.order_no``); the strict
``models.order.parse_order_no`` (the ``OG`` prefix required) serves the
customer pages, where a bare digit string is more likely a tracking number.
"""

from __future__ import annotations

import re

from domain.errors import ValidationFailed
from models.order import order_no

_NUMBER = re.compile(r"^(?:OG)?0*(\d{1,10})$", re.IGNORECASE)
#: Row ids are 32-bit; a bigger number cannot be one of ours.
MAX_ID = 2**31 - 1


def order_number(order_id: int) -> str:
    """``OG`` and the id on nine digits, the form quoted to customers."""
    return order_no(order_id)


def order_id_from_number(text: str) -> int | None:
    """The id behind one of our order numbers (any case, zeros optional, prefix optional), else None."""
    found = _NUMBER.match(str(text).strip())
    if found is None:
        return None
    number = int(found.group(1))
    return number if 1 <= number <= MAX_ID else None


def parse_order_number(text: str) -> int:
    """Like ``order_id_from_number`` but refusing what is not an order number (``ValidationFailed``)."""
    order_id = order_id_from_number(text)
    if order_id is None:
        raise ValidationFailed(f"{str(text)[:40]!r} is not an order number such as OG000000042", field="order")
    return order_id
