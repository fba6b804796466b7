"""Customer-facing use cases: prove an order is yours, confirm receipt (once it is at the door), rate it.

Each change runs in one transaction and leaves lineage with source
``customer``. The actor is ``customer:<id>`` (never a name or a phone).

Proof comes two ways:
- an order reference (``OG000000042`` or the channel's own order number) and
  the last four digits of the phone on it: ``find_by_order``. A miss does the
  same work whether the order exists or not, and says only "no match";
- a phone number and a one-time code sent to it: ``start_otp`` then
  ``verify_otp``. Codes are 6 digits, live 5 minutes, allow 5 tries, and are
  stored as a keyed hash.
"""

from __future__ import annotations

import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import F, Q

from domain.contact_fields import valid_phone
from domain.errors import Duplicate, IllegalTransition, NotFound, ValidationFailed
from domain.masking import phone_hash
from domain.order_machine import check_transition
from domain.snapshots import order_state
from domain.statuses import OrderStatus
from domain.tracking.customer_view import CUSTOMER, Scope, receipt_confirmable
from domain.tracking.links import derive_key
from domain.unit_of_work import unit_of_work
from events import log
from models import Customer, Order, OrderFeedback, OtpChallenge, Shipment
from models.order import parse_order_no

SOURCE = "customer"
OTP_LIFETIME = timedelta(minutes=5)
OTP_ATTEMPTS = 5
MAX_COMMENT = 500
#: Lookups logged per OTP sign-in: one lineage row per order, newest first.
MAX_LOGGED_ORDERS = 20
_REFERENCE = re.compile(r"^[A-Za-z0-9-]{4,64}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _actor(customer_id: int | None) -> str:
    return f"customer:{customer_id}" if customer_id else "customer"


def _digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def _halfwidth(text: str) -> str:
    """Full-width input (common from Chinese keyboards) as plain ASCII: ``５６７８`` -> ``5678``."""
    return unicodedata.normalize("NFKC", text)


def clean_reference(reference: str) -> str:
    """The order reference as typed, trimmed (and without a leading ``#``); ``ValidationFailed`` if it cannot be one."""
    cleaned = "".join(_halfwidth(reference).split()).lstrip("#")
    if not _REFERENCE.match(cleaned):
        raise ValidationFailed("enter the order number from your receipt", field="order")
    return cleaned.upper() if parse_order_no(cleaned) is not None else cleaned


def clean_last4(last4: str) -> str:
    digits = _halfwidth(last4).strip()
    if len(digits) != 4 or not digits.isdigit():
        raise ValidationFailed("enter the last 4 digits of your phone number", field="last4")
    return digits


async def attempt_key(tenant_id: int, reference: str) -> str:
    """What failed look-ups are counted against: the order the reference names, however it was typed.

    ``OG000000617``, ``og617`` and the order's external id all count against
    ``order:617``; a reference that names no order counts against itself.
    """
    reference = clean_reference(reference)
    order_id = parse_order_no(reference)
    if order_id is None:
        order_id = await Order.filter(tenant_id=tenant_id, external_id=reference).order_by("id").first().values_list(
            "id", flat=True)
    return f"order:{order_id}" if order_id is not None else f"reference:{reference}"


async def find_by_order(tenant_id: int, reference: str, last4: str) -> Scope | None:
    """The scope an (order reference, last 4 digits) pair opens, or None.

    One query whether or not the order exists, every candidate phone compared
    in constant time, and at least one comparison even when nothing matched.
    """
    reference, last4 = clean_reference(reference), clean_last4(last4)
    order_id = parse_order_no(reference)
    match = Q(external_id=reference) if order_id is None else Q(id=order_id) | Q(external_id=reference)
    rows = await Order.filter(tenant_id=tenant_id).filter(match).limit(5).values_list(
        "id", "customer_id", "ship_phone", "customer__phone"
    )
    found: Scope | None = None
    for row_id, customer_id, ship_phone, customer_phone in rows or [(0, None, "", "")]:
        hit = False
        for phone in (ship_phone, customer_phone):
            hit |= hmac.compare_digest(_digits(phone)[-4:].rjust(4, "x"), last4)
        if hit and row_id and found is None:
            found = Scope(tenant_id, frozenset({customer_id} if customer_id else ()), frozenset({row_id}))
    return found


async def record_lookup(scope: Scope, order_ids: list[int], method: str) -> None:
    """Lineage: this customer looked at these orders (by ``order``, ``otp`` or ``link``)."""
    if not order_ids:
        return
    customer_id = min(scope.customer_ids) if scope.customer_ids else None
    async with unit_of_work():
        for order_id in order_ids[:MAX_LOGGED_ORDERS]:
            await log.append(
                tenant_id=scope.tenant_id,
                order_id=order_id,
                type="customer.lookup",
                actor=_actor(customer_id),
                source=SOURCE,
                reason=f"tracking page, verified by {method}",
                after={"method": method},
            )


@dataclass(frozen=True, slots=True)
class OtpStart:
    challenge_id: int
    code: str
    phone: str  # E.164, for the SMS sender only: never logged, never rendered
    known: bool  # the number has orders here, so a text is worth sending


def clean_phone(phone: str) -> str:
    """E.164 of a plausible phone number, or ``ValidationFailed``."""
    try:
        return valid_phone(phone, "phone")
    except ValidationFailed:
        raise ValidationFailed("enter your mobile number", field="phone") from None


def _code_hash(secret: str, tenant_id: int, phone_key: str, code: str) -> str:
    return hmac.new(derive_key(secret, "otp"), f"{tenant_id}:{phone_key}:{code}".encode(), "sha256").hexdigest()


async def start_otp(secret: str, tenant_id: int, phone: str, *, now: datetime | None = None) -> OtpStart:
    """Create a fresh code for ``phone`` (earlier open codes for it stop working)."""
    e164 = clean_phone(_halfwidth(phone))
    key = phone_hash(e164)
    now = now or datetime.now(UTC)
    code = f"{secrets.randbelow(10**6):06d}"
    known = await Customer.exists(tenant_id=tenant_id, phone_hash=key)
    async with unit_of_work():
        await OtpChallenge.filter(tenant_id=tenant_id, phone_hash=key, consumed_at__isnull=True).update(consumed_at=now)
        await OtpChallenge.filter(expires_at__lt=now - timedelta(days=1)).delete()
        challenge = await OtpChallenge.create(
            tenant_id=tenant_id,
            phone_hash=key,
            code_hash=_code_hash(secret, tenant_id, key, code),
            max_attempts=OTP_ATTEMPTS,
            expires_at=now + OTP_LIFETIME,
        )
    return OtpStart(challenge.id, code, e164, known)


@dataclass(frozen=True, slots=True)
class OtpResult:
    scope: Scope | None  # set when the code was right
    expired: bool = False  # no tries left, spent or too old: ask for a new code
    attempts_left: int = 0


async def verify_otp(secret: str, tenant_id: int, challenge_id: int, code: str, *, now: datetime | None = None) -> OtpResult:
    """Spend one try of a challenge; the right code opens every order of that phone's customer."""
    now = now or datetime.now(UTC)
    code = _halfwidth(code).strip()
    live = OtpChallenge.filter(
        id=challenge_id, tenant_id=tenant_id, consumed_at__isnull=True, expires_at__gt=now, attempts__lt=F("max_attempts")
    )
    if not await live.update(attempts=F("attempts") + 1):
        return OtpResult(None, expired=True)
    challenge = await OtpChallenge.get(id=challenge_id)
    left = challenge.max_attempts - challenge.attempts
    right = len(code) == 6 and code.isdigit()
    right &= hmac.compare_digest(challenge.code_hash, _code_hash(secret, tenant_id, challenge.phone_hash, code))
    if not right:
        return OtpResult(None, expired=left <= 0, attempts_left=left)
    if not await OtpChallenge.filter(id=challenge_id, consumed_at__isnull=True).update(consumed_at=now):
        return OtpResult(None, expired=True)  # spent by a concurrent request
    customers = await Customer.filter(tenant_id=tenant_id, phone_hash=challenge.phone_hash).values_list("id", flat=True)
    return OtpResult(Scope(tenant_id, frozenset(customers)))


async def _lock_in_scope(scope: Scope, order_id: int) -> Order:
    order = await Order.filter(id=order_id, tenant_id=scope.tenant_id).filter(scope.query()).select_for_update().first()
    if order is None:
        raise NotFound("no such order", field="order")
    return order


async def confirm_receipt(scope: Scope, order_id: int) -> Order:
    """The customer says the parcel arrived: the order is COMPLETED (where the state machine allows).

    Refused (``IllegalTransition``) while a parcel is still on its way: only once
    every parcel is out for delivery, at a pick-up point or delivered.
    """
    async with unit_of_work():
        order = await _lock_in_scope(scope, order_id)
        check_transition(OrderStatus(order.status), OrderStatus.COMPLETED, CUSTOMER)
        parcels = await Shipment.filter(order_id=order.id).values_list("status", flat=True)
        if not receipt_confirmable(order.status, [str(p) for p in parcels]):
            raise IllegalTransition(order.status, OrderStatus.COMPLETED, "the parcel is not out for delivery yet")
        before = order_state(order)
        order.status = OrderStatus.COMPLETED
        order.version += 1
        await order.save()
        await log.append(
            tenant_id=scope.tenant_id,
            order_id=order.id,
            type="order.receipt_confirmed",
            actor=_actor(order.customer_id),  # type: ignore[attr-defined]
            source=SOURCE,
            reason="customer confirmed receipt on the tracking page",
            before=before,
            after=order_state(order),
        )
    return order


def clean_comment(comment: str) -> str:
    return _CONTROL.sub("", comment.replace("\r\n", "\n")).strip()[:MAX_COMMENT]


async def rate_order(scope: Scope, order_id: int, rating: int, comment: str = "") -> OrderFeedback:
    """One 1-5 rating (and optional comment) per delivered order."""
    if not 1 <= rating <= 5:
        raise ValidationFailed("choose 1 to 5 stars", field="rating")
    comment = clean_comment(comment)
    async with unit_of_work():
        order = await _lock_in_scope(scope, order_id)
        if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
            raise ValidationFailed("orders can be rated once they have arrived", field="rating")
        if await OrderFeedback.exists(order_id=order.id):
            raise Duplicate("this order has been rated already", field="rating")
        feedback = await OrderFeedback.create(
            tenant_id=scope.tenant_id, order_id=order.id, customer_id=order.customer_id, rating=rating, comment=comment  # type: ignore[attr-defined]
        )
        await log.append(
            tenant_id=scope.tenant_id,
            order_id=order.id,
            type="order.rated",
            actor=_actor(order.customer_id),  # type: ignore[attr-defined]
            source=SOURCE,
            reason=f"customer rated the order {rating}/5",
            after={"rating": rating, "comment": bool(comment), "feedback_id": feedback.id},
        )
    return feedback
