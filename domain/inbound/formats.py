"""The wire formats the inbound pipeline needs, as ports: ``adapters/`` implements them, callers hand them in.

The domain never imports ``adapters/`` (arrows point one way). Whoever runs
the pipeline — the webhook endpoints, the replay mutation, the maintenance
loop, the CLI — passes the formats, normally ``adapters.formats.FORMATS``::

    answer = await receive_channel(tenant_id, "tmall", channel, body, headers, formats=FORMATS)

Each method either answers or raises :class:`~domain.inbound.normalized.PayloadError`
(the payload does not fit) or :class:`BadMapping` (the merchant's configuration
cannot be used: fix it, then replay).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from domain.inbound.normalized import InboundOrder, InboundTracking
from domain.inbound.channel_api import ChannelApis


class BadMapping(Exception):
    """The channel's configured mapping cannot be used (fix it, then replay)."""


class ChannelFormat(Protocol):
    """One kind of sales channel's webhook: how it is signed, what names a delivery, how its body reads."""

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], *, tolerance: int | None) -> str | None:
        """``None`` when authentic, else why not (``tolerance``: seconds of clock skew allowed, ``None`` = any)."""
        ...

    def delivery_id(self, headers: Mapping[str, str]) -> str:
        """The sender's id of this delivery (a retry repeats it), or ``""``."""
        ...

    def parse(self, body: bytes, headers: Mapping[str, str], mapping: Mapping[str, str] | None) -> InboundOrder:
        """The order the body describes; ``mapping`` is the channel's field mapping, where the kind uses one."""
        ...

    def announced(self, body: bytes, headers: Mapping[str, str]) -> tuple[str, ...]:
        """The platform's order ids when the body only announces changes (Taobao TMC, Douyin, WeChat messages):
        the whole orders must then be fetched through the channel's API. Empty for a whole order."""
        ...

    def acknowledge(self, headers: Mapping[str, str], ok: bool, reason: str) -> tuple[str, bytes] | None:
        """The answer in the sender's own format, where it expects one (Douyin's ``{"code": 0}``): ``(content
        type, body)``; ``None`` for OrderGraph's JSON answer."""
        ...


class CarrierFormat(Protocol):
    """One tracking provider's push: its encoding, signature, reading and the reply it expects."""

    def decode(self, body: bytes) -> Mapping[str, str] | None:
        """The posted form for providers that post forms; ``None`` for JSON providers (read in ``parse``)."""
        ...

    def verify(self, secret: str, body: bytes, headers: Mapping[str, str], form: Mapping[str, str] | None) -> bool:
        ...

    def parse(self, body: bytes, form: Mapping[str, str] | None) -> list[InboundTracking]:
        ...

    def reply(self, success: bool, reason: str, config: Mapping[str, Any] | None,
              form: Mapping[str, str] | None) -> tuple[str, bytes]:
        """The acknowledgement in the provider's own format: ``(content type, body)``."""
        ...


@dataclass(frozen=True, slots=True)
class ParsedGroup:
    """One order's rows of an imported file, parsed (``inbound``) or refused (``field`` + ``error``)."""

    first_row: int
    last_row: int
    inbound: InboundOrder | None = None
    field: str = ""
    error: str = ""

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1


class OrderFiles(Protocol):
    """Reading a CSV/XLSX file of orders with a channel's generic field mapping."""

    def check_mapping(self, mapping: Mapping[str, str]) -> None:
        """Raise ``ValueError`` naming everything wrong with a mapping."""
        ...

    def detect_format(self, file_name: str, data: bytes, explicit: str | None) -> str:
        """``"csv"`` or ``"xlsx"``; ``ValueError`` for anything else."""
        ...

    def count_rows(self, data: bytes, fmt: str, *, encoding: str) -> int:
        ...

    def groups(self, data: bytes, fmt: str, mapping: Mapping[str, str], *, encoding: str,
               start_row: int) -> Iterator[ParsedGroup]:
        """Adjacent rows of one order, grouped and parsed; refusals carry their row numbers."""
        ...


@dataclass(frozen=True, slots=True)
class Formats:
    """Every wire format the inbound side speaks, keyed by channel kind and tracking provider."""

    channels: Mapping[str, ChannelFormat]
    carriers: Mapping[str, CarrierFormat]
    files: OrderFiles
    #: Headers kept with a stored payload: what identifies, signs or describes it (never cookies or API keys).
    kept_headers: frozenset[str]
    #: The platforms' pull APIs: fetch what an announcement names (``None``: announcements are quarantined).
    apis: ChannelApis | None = None

    def keep(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name.lower(): value[:1000] for name, value in headers.items() if name.lower() in self.kept_headers}
