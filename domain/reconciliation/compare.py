"""Which of an order's figures differ from the channel's by more than the threshold (pure: no database, no network).

    differences = compare(figures, Decimal("0.005"))     # 0.5 %: ¥100.30 against ¥100.00 is not a difference

Quantity: the channel's ordered units against the ERP's invoiced and the
WMS's shipped units. Amount: the channel's paid amount (less refunds) against
what the gateway confirmed and what the ERP invoiced. A figure of ``None`` is
not compared. The ratio is ``|other - channel| / |channel|`` (any difference
from a channel figure of 0 counts); a difference must exceed the threshold.
One order gives at most one difference per dimension: ``difference`` is the
largest deviation (other minus channel), the note names every source off.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.reconciliation.figures import ERP, GATEWAY, WMS, OrderFigures

QUANTITY, AMOUNT = "quantity", "amount"
DIMENSIONS = (QUANTITY, AMOUNT)
_LABELS = {(QUANTITY, ERP): "ERP invoiced", (QUANTITY, WMS): "WMS shipped", (AMOUNT, GATEWAY): "gateway confirmed",
           (AMOUNT, ERP): "ERP invoiced"}
_CENT = Decimal("0.01")
MAX_NOTE = 300


@dataclass(frozen=True, slots=True)
class Difference:
    order_id: int
    number: str
    dimension: str
    channel: Decimal
    erp: Decimal | None
    wms: Decimal | None
    gateway: Decimal | None
    difference: Decimal      # the largest deviation: other source minus channel
    note: str


def ratio(channel: Decimal, other: Decimal) -> Decimal:
    """How far ``other`` is from ``channel``, as a share of the channel's figure (infinite from 0)."""
    if channel == 0:
        return Decimal(0) if other == 0 else Decimal("Infinity")
    return abs(other - channel) / abs(channel)


def compare(figures: OrderFigures, threshold: Decimal) -> list[Difference]:
    found = []
    quantity = _dimension(figures, QUANTITY, Decimal(figures.channel_quantity),
                          {ERP: _number(figures.erp_quantity), WMS: _number(figures.wms_quantity)}, threshold)
    if quantity is not None:
        found.append(quantity)
    amount = _dimension(figures, AMOUNT, figures.channel_amount,
                        {GATEWAY: figures.gateway_amount, ERP: figures.erp_amount}, threshold)
    if amount is not None:
        found.append(amount)
    return found


def _number(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _dimension(figures: OrderFigures, dimension: str, channel: Decimal, others: dict[str, Decimal | None],
               threshold: Decimal) -> Difference | None:
    off = {name: value for name, value in others.items() if value is not None and ratio(channel, value) > threshold}
    if not off:
        return None
    worst = max(off, key=lambda name: abs(off[name] - channel))
    money = dimension == AMOUNT
    parts = [f"{_LABELS[(dimension, name)]} {_shown(value, money)} ({_shown(value - channel, money, signed=True)} "
             f"against the channel's {_shown(channel, money)})" for name, value in off.items()]
    parts += [figures.notes[name] for name in off if name in figures.notes]
    if ERP in off and not figures.erp_invoiced:
        parts.append("the ERP has no invoice for it")
    values = {ERP: figures.erp_amount if money else _number(figures.erp_quantity),
              WMS: None if money else _number(figures.wms_quantity),
              GATEWAY: figures.gateway_amount if money else None}
    note = "; ".join(parts)
    return Difference(order_id=figures.order_id, number=figures.number, dimension=dimension, channel=channel,
                      erp=values[ERP], wms=values[WMS], gateway=values[GATEWAY], difference=off[worst] - channel,
                      note=note if len(note) <= MAX_NOTE else note[:MAX_NOTE - 1] + "…")


def _shown(value: Decimal, money: bool, *, signed: bool = False) -> str:
    text = format(value.quantize(_CENT), "f") if money else format(value, "f")
    return f"+{text}" if signed and value > 0 else text
