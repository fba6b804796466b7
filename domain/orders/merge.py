"""Merging orders that go to the same person into one parcel (合单), before allocation; and undoing it.

    candidates = await merge_candidates(tenant_id, order.id)              # what the rules engine asks
    leader = await merge_orders(actor, [order.id, *(c.id for c in candidates)])
    await allocate_order(actor, leader.id)          # every member's lines reserved at one warehouse
    await ship_order(actor, leader.id, "SF", "SF1001")   # one waybill, a shipment row on every member
    await unmerge_order(actor, member_id, "buyer asked for two parcels")

The merge key is the one the leading Chinese OMS suites use (聚水潭, 旺店通,
万里牛): same tenant and shop (channel), same buyer, same receiver name, phone
and full address (province, city, district, street) compared in a normalised
form (Unicode NFKC, no spaces, case-folded; the phone in E.164). When the
platform sealed the receiver (Taobao, Pinduoduo, Douyin send ciphertext), the
clear fields are empty and the sealed contact is compared instead: the
platform's receiver handle (Taobao OAID) when both orders have one, else the
three ciphertexts. A platform may encrypt one address differently twice, so
such orders may fail to match; they never match wrongly.

Every order of a merge must be PAID with nothing reserved (merging happens
before allocation), not on hold, not cancelled, without an open after-sale or
refund, and not merged into an order outside the merge. The earliest-placed
order leads; the others get ``merged_into`` = the leader. An order that
already leads a merge brings its members along. ``merge_orders`` does not
apply the time window: that is the finder's (a rule's) choice; an operator may
merge older orders by hand.

Unmerging leaves reservations where they are: they belong to lines, so a
member allocated with its leader stays allocated at the group's warehouse as
an ordinary order of its own.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from domain.actor import Actor
from domain.allocation import groups
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.masking import normalize_phone, phone_hash
from domain.order_writes import require_writer
from domain.snapshots import order_state
from domain.statuses import AfterSaleStatus, OrderStatus, PaymentStatus
from domain.stock.reservations import ReservationStatus
from domain.unit_of_work import unit_of_work
from events import log
from models import AfterSale, Alert, ChannelOrderState, Order, Payment, Reservation, SealedContact, Shipment
from models.order import order_no

#: The finder's default window: orders placed this close to each other are offered for merging.
DEFAULT_WINDOW = timedelta(minutes=15)
MAX_WINDOW = timedelta(days=7)
#: Most orders one merge may hold (a parcel, not a pallet).
MAX_GROUP = 20
#: Most orders the finder looks at around one order.
_SCAN = 200
#: The alert intake raises while the channel reports an open after-sale.
AFTER_SALE_ALERT = "after_sale.open"
_OPEN_AFTER_SALE = frozenset({AfterSaleStatus.REQUESTED, AfterSaleStatus.APPROVED, AfterSaleStatus.AWAITING_RETURN,
                              AfterSaleStatus.RECEIVED})
_REFUNDED = (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED)


class MergeBlock(StrEnum):
    """Why an order cannot join a merge; the value is what the refusal says."""

    CANCELLED = "it is cancelled"
    ON_HOLD = "it is on hold"
    NOT_PAID = "it is not paid yet"
    ALLOCATED = "it is already allocated (orders merge before allocation)"
    RESERVED = "it has stock reserved (orders merge before allocation)"
    MERGED = "it is already merged into another order"
    AFTER_SALE = "it has an open after-sale or refund"
    SHOP = "it was placed in another shop"
    BUYER = "it was placed by another buyer"
    NAME = "it ships to another receiver name"
    PHONE = "it ships to another receiver phone"
    ADDRESS = "it ships to another address"
    SEALED = "it ships to another receiver (compared as the platform sealed it)"


class MergeRefused(Conflict):
    """An order of the merge fails a condition; ``order_id`` and ``block`` say which and why. Nothing changed."""

    def __init__(self, order_id: int, block: MergeBlock, detail: str = "") -> None:
        super().__init__(f"{order_no(order_id)} cannot be merged: {block.value}{f' ({detail})' if detail else ''}", field="ids")
        self.order_id = order_id
        self.block = block


def _text(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def _region(value: str) -> str:
    text = _text(value)
    return text[:-1] if len(text) > 2 and text[-1] in "省市" else text


@dataclass(frozen=True, slots=True)
class MergeKey:
    """What two orders must share to ship in one parcel; ``label`` shows it without personal data."""

    tenant_id: int
    channel_id: int
    customer_id: int | None
    name: str
    phone: str
    region: tuple[str, str, str]
    street: str
    #: The platform and its receiver handle (OAID) or ciphertexts, when it sealed the receiver; else empty.
    sealed_platform: str = ""
    open_id: str = ""
    ciphers: tuple[str, str, str] = ("", "", "")

    @property
    def sealed(self) -> bool:
        return bool(self.sealed_platform)

    def difference(self, other: MergeKey) -> MergeBlock | None:
        """The first part of ``other`` that differs from this key, or None when the two orders may merge."""
        if (self.tenant_id, self.channel_id) != (other.tenant_id, other.channel_id):
            return MergeBlock.SHOP
        if self.customer_id != other.customer_id:
            return MergeBlock.BUYER
        if self.sealed or other.sealed:
            if (self.sealed_platform, self.sealed) != (other.sealed_platform, other.sealed):
                return MergeBlock.SEALED
            same = (self.open_id == other.open_id) if self.open_id and other.open_id else self.ciphers == other.ciphers
            if not same:
                return MergeBlock.SEALED
        if self.name != other.name:
            return MergeBlock.NAME
        if self.phone != other.phone:
            return MergeBlock.PHONE
        if (self.region, self.street) != (other.region, other.street):
            return MergeBlock.ADDRESS
        return None

    @property
    def digest(self) -> str:
        """A keyed fingerprint of the receiver: equal for orders that match (the phone enters only as its HMAC)."""
        sealed = [self.sealed_platform, self.open_id] if self.open_id else [self.sealed_platform, *self.ciphers]
        parts = [self.name, phone_hash(self.phone) if self.phone else "", *self.region, self.street, *sealed]
        return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()

    @property
    def label(self) -> str:
        """``shop 3 · buyer 12 · receiver 5f0c…``: for display and lineage, no personal data."""
        return f"shop {self.channel_id} · buyer {self.customer_id or '-'} · receiver {self.digest[:12]}"


def key_of(order: Order, sealed: SealedContact | None) -> MergeKey:
    """The merge key of an order and its sealed contact row (if the platform sealed the receiver)."""
    return MergeKey(
        tenant_id=order.tenant_id,  # type: ignore[attr-defined]
        channel_id=order.channel_id,  # type: ignore[attr-defined]
        customer_id=order.customer_id,  # type: ignore[attr-defined]
        name=_text(order.ship_name),
        phone=normalize_phone(order.ship_phone) if order.ship_phone.strip() else "",
        region=(_region(order.ship_province), _region(order.ship_city), _text(order.ship_district)),
        street=_text(order.ship_address),
        sealed_platform=sealed.platform if sealed else "",
        open_id=sealed.open_id.strip() if sealed else "",
        ciphers=(sealed.name_cipher, sealed.phone_cipher, sealed.address_cipher) if sealed else ("", "", ""),
    )


async def merge_key(order: Order) -> MergeKey:
    """The order's merge key (reads its sealed contact, if any); ``merge_key(order).label`` for display."""
    return key_of(order, await SealedContact.filter(order_id=order.id).first())


@dataclass(frozen=True, slots=True)
class _Facts:
    """What besides the order rows decides eligibility, read once for a set of orders."""

    reserved: set[int]
    after_sale: set[int]
    sealed: dict[int, SealedContact]

    @classmethod
    async def of(cls, order_ids: Iterable[int]) -> _Facts:
        ids = list(set(order_ids))
        reserved = set(await Reservation.filter(order_id__in=ids, line_slot__isnull=False).values_list("order_id", flat=True))
        after_sale = set(await Alert.filter(order_id__in=ids, kind=AFTER_SALE_ALERT, cleared_at__isnull=True)
                         .values_list("order_id", flat=True))
        after_sale |= set(await Payment.filter(order_id__in=ids, status__in=_REFUNDED).values_list("order_id", flat=True))
        after_sale |= set(await AfterSale.filter(order_id__in=ids).exclude(
            status__in=[AfterSaleStatus.REJECTED, AfterSaleStatus.CLOSED]).values_list("order_id", flat=True))
        after_sale |= set(await Payment.filter(order_id__in=ids, kind="refund").values_list("order_id", flat=True))
        for order_id, reported in await ChannelOrderState.filter(order_id__in=ids).values_list("order_id", "after_sale"):
            if any(status in _OPEN_AFTER_SALE for status in (reported or {}).values()):
                after_sale.add(order_id)
        sealed = {row.order_id: row for row in await SealedContact.filter(order_id__in=ids)}  # type: ignore[attr-defined]
        return cls(reserved=reserved, after_sale=after_sale, sealed=sealed)

    def block(self, order: Order, group: set[int]) -> tuple[MergeBlock, str] | None:
        """Why ``order`` cannot join a merge of the orders ``group``, or None."""
        status = order.status
        if status == OrderStatus.CANCELLED:
            return MergeBlock.CANCELLED, ""
        if status == OrderStatus.ON_HOLD:
            return MergeBlock.ON_HOLD, ""
        if status in (OrderStatus.PENDING_PAYMENT, OrderStatus.DEPOSIT_PAID):
            return MergeBlock.NOT_PAID, status
        if status != OrderStatus.PAID:
            return MergeBlock.ALLOCATED, status
        if order.id in self.reserved:
            return MergeBlock.RESERVED, ""
        leader = order.merged_into_id  # type: ignore[attr-defined]
        if leader is not None and leader not in group:
            return MergeBlock.MERGED, f"into {order_no(leader)}"
        if order.id in self.after_sale:
            return MergeBlock.AFTER_SALE, ""
        return None

    def key(self, order: Order) -> MergeKey:
        return key_of(order, self.sealed.get(order.id))


def _check_window(window: timedelta) -> None:
    if not timedelta(0) < window <= MAX_WINDOW:
        raise ValidationFailed("the window must be more than 0 and at most 7 days", field="window")


async def merge_candidates(tenant_id: int, order_id: int, window: timedelta = DEFAULT_WINDOW) -> list[Order]:
    """Orders that could merge with ``order_id`` now: same merge key, eligible, placed within ``window`` of it.

    Earliest placed first; empty when the order itself cannot merge (or when it
    is a member of a merge: its leader is the one to ask about). Reads only.
    """
    _check_window(window)
    order = await Order.filter(id=order_id, tenant_id=tenant_id).first()
    if order is None:
        raise NotFound("no such order", field="id")
    buyer = {"customer_id": order.customer_id} if order.customer_id is not None else {"customer_id__isnull": True}  # type: ignore[attr-defined]
    nearby = list(
        await Order.filter(
            tenant_id=tenant_id, channel_id=order.channel_id, status=OrderStatus.PAID, merged_into_id__isnull=True,  # type: ignore[attr-defined]
            placed_at__gte=order.placed_at - window, placed_at__lte=order.placed_at + window, **buyer,
        ).exclude(id=order.id).order_by("placed_at", "id").limit(_SCAN)
    )
    if not nearby:
        return []
    facts = await _Facts.of([order.id, *(o.id for o in nearby)])
    if facts.block(order, set()) is not None:
        return []
    key = facts.key(order)
    return [o for o in nearby if facts.block(o, set()) is None and key.difference(facts.key(o)) is None]


async def _lock(actor: Actor, order_ids: Sequence[int]) -> list[Order]:
    """The orders and the members of any of them that leads a merge, locked in id order."""
    wanted = set(order_ids)

    async def closure() -> set[int]:
        return wanted | set(await Order.filter(tenant_id=actor.tenant_id, merged_into_id__in=list(wanted)).values_list("id", flat=True))

    rows = await groups.lock_orders(actor.tenant_id, closure)
    missing = wanted - set(rows)
    if missing:
        raise NotFound(f"no such order: {order_no(min(missing))}", field="ids")
    return list(rows.values())


async def _merge_event(actor: Actor, order: Order, before: dict, type: str, reason: str, after: dict) -> None:
    order.version += 1
    await order.save()
    await log.append(tenant_id=actor.tenant_id, order_id=order.id, type=type, actor=actor.name, source=actor.source,
                     reason=reason, before=before, after={**order_state(order), **after})


async def merge_orders(actor: Actor, order_ids: Sequence[int]) -> Order:
    """Merge the orders into one parcel led by the earliest placed; returns the leader.

    One transaction: every order (and the members of any that already leads a
    merge) locked in id order, every condition checked, then ``merged_into``
    set and an ``order.merged`` lineage row on every order whose group changed
    and on the leader. Raises ``MergeRefused`` naming the first order that fails
    and why, with nothing changed. Merging orders already merged the same way
    changes nothing.
    """
    require_writer(actor)
    wanted = sorted(set(order_ids))
    if len(wanted) < 2:
        raise ValidationFailed("give at least two different orders to merge", field="ids")
    if len(wanted) > MAX_GROUP:
        raise ValidationFailed(f"at most {MAX_GROUP} orders ship in one merged parcel", field="ids")
    async with unit_of_work():
        rows = await _lock(actor, wanted)
        if len(rows) > MAX_GROUP:
            raise ValidationFailed(f"with the orders already merged into them these are {len(rows)} orders; "
                                   f"at most {MAX_GROUP} ship in one merged parcel", field="ids")
        group = {row.id for row in rows}
        facts = await _Facts.of(group)
        leader = min(rows, key=lambda row: (row.placed_at, row.id))
        key = facts.key(leader)
        for row in rows:
            blocked = facts.block(row, group)
            if blocked is not None:
                raise MergeRefused(row.id, *blocked)
            differs = key.difference(facts.key(row))
            if differs is not None:
                raise MergeRefused(row.id, differs, f"from {order_no(leader.id)}")
        changed = [row for row in rows if row.merged_into_id != (None if row.id == leader.id else leader.id)]  # type: ignore[attr-defined]
        if not changed:
            return leader
        members = [row.id for row in rows if row.id != leader.id]
        after = {"leader": leader.id, "members": members, "merge_key": key.label}
        reason = f"{order_no(leader.id)} leads " + ", ".join(order_no(m) for m in members)
        for row in sorted({row.id: row for row in [*changed, leader]}.values(), key=lambda r: r.id):
            before = {**order_state(row), "merged_into": row.merged_into_id}  # type: ignore[attr-defined]
            row.merged_into_id = None if row.id == leader.id else leader.id  # type: ignore[attr-defined]
            await _merge_event(actor, row, before, "order.merged", reason, {"merged_into": row.merged_into_id, **after})  # type: ignore[attr-defined]
    return leader


async def unmerge_order(actor: Actor, order_id: int, reason: str) -> Order:
    """Take one member out of its merge, or (given the leader) dissolve the whole merge; returns the order.

    Refused once any order of the group has shipped. Reservations stay on their
    lines: a member allocated with its leader remains allocated at the same
    warehouse, now as an order of its own.
    """
    require_writer(actor)
    if not reason.strip():
        raise ValidationFailed("say why the orders are unmerged", field="reason")
    async with unit_of_work():
        group = await groups.lock_group(actor, order_id)
        order, leader = group.order, group.leader
        leaving = [order] if order.id != leader.id else list(group.members)
        if not leaving:
            raise Conflict(f"{order_no(order.id)} is not merged with any order", field="id")
        involved = [leader.id, *(m.id for m in group.members)]
        shipped = set(await Shipment.filter(order_id__in=involved).values_list("order_id", flat=True))
        shipped |= set(await Reservation.filter(order_id__in=involved, status=ReservationStatus.CONSUMED)
                       .values_list("order_id", flat=True))
        if shipped:
            raise Conflict(f"{order_no(min(shipped))} has shipped in the merged parcel: it can no longer be unmerged", field="id")
        remaining = [m.id for m in group.members if m.id not in {row.id for row in leaving}]
        after = {"leader": leader.id, "members": remaining, "unmerged": [m.id for m in leaving]}
        for row in sorted([*leaving, leader], key=lambda r: r.id):
            before = {**order_state(row), "merged_into": row.merged_into_id}  # type: ignore[attr-defined]
            row.merged_into_id = None  # type: ignore[attr-defined]
            await _merge_event(actor, row, before, "order.unmerged", reason.strip()[:500], {"merged_into": None, **after})
    return order
