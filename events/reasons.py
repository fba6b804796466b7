"""The reason a caller gives for a whole request, recorded on every lineage row it writes without one.

An operator changing a channel or an allocation policy says why once, in the ``OrderGraph-Reason``
header (UTF-8, percent-encoded when it is not ASCII); every event the request writes carries it, before
the row's own reason when it has one (``channel x registered``, a ``releaseHold(reason:)``): nothing
either side said is lost.

    with request_reason("盘点后修正宁波仓库存"):
        await register_channel(...)   # reason: "盘点后修正宁波仓库存 — channel x (generic) registered"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import unquote

MAX_LENGTH = 500
HEADER = "ordergraph-reason"

_current: ContextVar[str] = ContextVar("ordergraph_request_reason", default="")


def from_header(value: str | None) -> str:
    """The header's text: percent-decoded, control characters dropped, at most ``MAX_LENGTH`` characters."""
    if not value:
        return ""
    text = unquote(value, errors="replace")
    return "".join(char for char in text if char.isprintable()).strip()[:MAX_LENGTH]


@contextmanager
def request_reason(text: str) -> Iterator[None]:
    token = _current.set(text)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


def combined(own: str) -> str:
    """The reason a row is written with: the request's, then the row's own, at most ``MAX_LENGTH``."""
    given = _current.get()
    if not given or given == own:
        return own[:MAX_LENGTH]
    return (f"{given} — {own}" if own else given)[:MAX_LENGTH]
