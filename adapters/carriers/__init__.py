"""Tracking push parsers, one module per provider, all returning a list of
:class:`~domain.inbound.normalized.InboundTracking`.

Each module offers ``verify`` (its signature scheme), ``parse_push`` and
``reply`` (the acknowledgement the provider expects).  Kdniao and Kuaidi100
push HTML forms: decode the body with :func:`adapters.wire.parse_form` and
pass the form; AfterShip pushes JSON: decode with :func:`adapters.wire.load_json`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.carriers import aftership, kdniao, kuaidi100
from domain.inbound.normalized import InboundTracking

#: provider -> parse_push; the argument is the decoded form (kdniao, kuaidi100) or JSON body (aftership).
PARSERS: dict[str, Callable[[Mapping[str, Any]], list[InboundTracking]]] = {
    kdniao.PROVIDER: kdniao.parse_push,
    kuaidi100.PROVIDER: kuaidi100.parse_push,
    aftership.PROVIDER: aftership.parse_push,
}
