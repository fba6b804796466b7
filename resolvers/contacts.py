"""The receiver of an order whose platform sealed it: the platform's masks, or the clear values for who may see them.

    address = contacts.shown_receiver(ctx, order.pk, order.contact_masked, stored_address)

For a role that may not see personal data the platform's own masked forms
are shown as they came (no re-masking, no call, no lineage); a part the
platform sent neither sealed nor masked keeps the stored value, itself
masked for such roles. For a role that may, a per-request DataLoader
gathers every sealed order a response asks for and hands them to
``domain.contacts.reveal.reveal_receivers`` at once, which calls each
channel's decryption API once and records each look. A refusal (or any
failure) shows the masks and never fails the query; the domain logs it
without personal data.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from adapters.channels.decryption import DECRYPTORS
from domain.contacts.ports import ClearReceiver
from domain.contacts.reveal import reveal_receivers
from resolvers.context import Context

log = logging.getLogger("ordergraph.contacts")

#: An address object with ``name``, ``phone`` and ``address`` (the schema's ``Address``), replaced field by field.
A = TypeVar("A")


@dataclass(frozen=True, slots=True)
class ShownReceiver:
    """What the API shows of a sealed receiver: clear values or the platform's masks, field by field."""

    name: str
    phone: str
    address: str

    @classmethod
    def masked(cls, masks: Mapping[str, Any]) -> ShownReceiver:
        return cls(*(str(masks.get(key) or "") for key in ("name", "phone", "address")))

    def over(self, clear: ClearReceiver | None) -> ShownReceiver:
        """The clear values where there are some, the masks elsewhere."""
        if clear is None:
            return self
        return ShownReceiver(clear.name or self.name, clear.phone or self.phone, clear.address or self.address)

    def onto(self, address: A) -> A:
        """``address`` with these parts where there are some (its own stored parts elsewhere)."""
        return dataclasses.replace(address, name=self.name or address.name, phone=self.phone or address.phone,
                                   address=self.address or address.address)


def sealed_masks(order: Any) -> dict[str, Any] | None:
    """The platform's masks when the order's receiver may be sealed; ``None`` when it is plainly ours.

    Intake keeps masks in ``contact_masked`` and leaves name, phone and
    street empty for a sealed receiver; a platform may send ciphertext
    without masks, so an order with none of the three in clear is looked up
    too (one batched query per request, for roles that may see the result).
    """
    if order.contact_masked:
        return dict(order.contact_masked)
    if not (order.ship_name or order.ship_phone or order.ship_address):
        return {}
    return None


def receiver_loader(ctx: Context) -> DataLoader[int, ClearReceiver | None]:
    """One per ``ctx.loaders``, so it is renewed with them (per request, per subscription event).

    Kept on the context next to the loaders it belongs to, since those may
    be a slotted per-event stand-in that takes no new attributes.
    """
    held = getattr(ctx, "_receiver_loader", None)
    if held is not None and held[0] is ctx.loaders:
        return held[1]
    actor = ctx.actor

    async def load(order_ids: list[int]) -> list[ClearReceiver | None]:
        try:
            revealed = await reveal_receivers(actor, order_ids, DECRYPTORS)
        except Exception as error:  # masks instead; never the message (it may hold a URL or values)
            log.warning("sealed receivers not revealed for %d orders: %s", len(order_ids), type(error).__name__)
            return [None] * len(order_ids)
        return [revealed.receivers.get(order_id) for order_id in order_ids]

    loader: DataLoader[int, ClearReceiver | None] = DataLoader(load_fn=load)
    ctx._receiver_loader = (ctx.loaders, loader)  # type: ignore[attr-defined]
    return loader


def shown_receiver(ctx: Context, order_id: int, masks: Mapping[str, Any], address: A) -> A | Awaitable[A]:
    """``address`` as this caller may see it: at once for masked roles, after the batched decryption otherwise."""
    masked = ShownReceiver.masked(masks)
    if ctx.actor is None or not ctx.actor.sees_personal_data:
        return masked.onto(address)
    return _revealed(ctx, order_id, masked, address)


async def _revealed(ctx: Context, order_id: int, masked: ShownReceiver, address: A) -> A:
    return masked.over(await receiver_loader(ctx).load(order_id)).onto(address)
