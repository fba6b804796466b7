"""Showing sealed receivers to a role that may see them, and recording who looked.

    revealed = await reveal_receivers(actor, [order.id, ...], decryptors=DECRYPTORS)
    revealed.receivers[order.id].phone

The order of work: the role check; the tenant's sealed rows and their
channels; one decryptor call per channel (concurrently, outside any
transaction, since it is a network call); then one transaction appending an
``order.contact_revealed`` event per order shown, naming who, which fields
and which platform, never the values. If that write fails, nothing is
returned: no look without a trace. Refusals are logged with codes and counts
only, and returned so the caller can fall back to the masked forms.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.actor import Actor
from domain.contacts.ports import ClearReceiver, ContactDecryptor, Decrypted, DecryptRefused, SealedReceiver
from domain.errors import Forbidden
from domain.unit_of_work import unit_of_work
from events import log as lineage
from models import Channel, SealedContact

#: Lineage event type of one look at one order's clear receiver.
REVEALED = "order.contact_revealed"

log = logging.getLogger("ordergraph.contacts")


@dataclass(frozen=True, slots=True)
class Refusal:
    """One channel's batch that was not decrypted, as the platform (or the way to it) said."""

    channel: str
    platform: str
    platform_code: str
    orders: int
    session_expired: bool = False


@dataclass(frozen=True, slots=True)
class Revealed:
    """Clear receivers by order id (only orders whose look was recorded), and the refused batches."""

    receivers: dict[int, ClearReceiver] = field(default_factory=dict)
    refusals: tuple[Refusal, ...] = ()


@dataclass(frozen=True, slots=True)
class _Batch:
    channel: Channel
    platform: str
    receivers: tuple[SealedReceiver, ...]


async def reveal_receivers(actor: Actor, order_ids: Sequence[int],
                           decryptors: Mapping[str, ContactDecryptor]) -> Revealed:
    """Decrypt the sealed receivers of these orders (of the actor's tenant) for an actor who may see them.

    ``decryptors`` maps a channel kind to its platform's decryption port
    (normally ``adapters.channels.decryption.DECRYPTORS``). Orders without a
    sealed receiver, or of another tenant, are simply absent from the answer.
    """
    if not actor.sees_personal_data:
        raise Forbidden(f"role {actor.role} may not see receivers' personal data")
    wanted = list(dict.fromkeys(order_ids))
    if not wanted:
        return Revealed()
    batches = await _sealed_batches(actor.tenant_id, wanted)
    outcomes = await asyncio.gather(*(_decrypt(batch, decryptors) for batch in batches))
    shown: dict[int, tuple[ClearReceiver, _Batch]] = {}
    refusals: list[Refusal] = []
    for batch, outcome in zip(batches, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            refusals.append(outcome)
            continue
        asked = {receiver.order_id for receiver in batch.receivers}
        for order_id, clear in outcome.receivers.items():
            if order_id in asked and clear.fields:
                shown[order_id] = (clear, batch)
        if outcome.refused:
            codes = sorted(set(outcome.refused.values()))
            log.warning("receiver decryption refused for %d of %d orders: platform=%s channel=%s codes=%s",
                        len(outcome.refused), len(batch.receivers), batch.platform, batch.channel.code, codes)
    if shown:
        await _record_looks(actor, shown)
    return Revealed({order_id: clear for order_id, (clear, _) in shown.items()}, tuple(refusals))


async def _sealed_batches(tenant_id: int, order_ids: list[int]) -> list[_Batch]:
    """The tenant's sealed rows for these orders, one batch per channel."""
    rows = await SealedContact.filter(order_id__in=order_ids, order__tenant_id=tenant_id).values(
        "order_id", "platform", "name_cipher", "phone_cipher", "address_cipher", "open_id",
        external_id="order__external_id", channel_id="order__channel_id",
    )
    if not rows:
        return []
    channels = {c.id: c for c in await Channel.filter(tenant_id=tenant_id, id__in={r["channel_id"] for r in rows})}
    grouped: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row["channel_id"]].append(row)
    return [
        _Batch(
            channel=channels[channel_id],
            platform=group[0]["platform"],
            receivers=tuple(
                SealedReceiver(order_id=r["order_id"], external_id=r["external_id"], name_cipher=r["name_cipher"],
                               phone_cipher=r["phone_cipher"], address_cipher=r["address_cipher"], open_id=r["open_id"])
                for r in group
            ),
        )
        for channel_id, group in grouped.items()
        if channel_id in channels
    ]


async def _decrypt(batch: _Batch, decryptors: Mapping[str, ContactDecryptor]) -> Decrypted | Refusal:
    """One port call for one channel's batch; every failure becomes a :class:`Refusal`, logged without data."""
    channel = batch.channel
    decryptor = decryptors.get(channel.kind) or decryptors.get(batch.platform)
    if decryptor is None:
        refusal = Refusal(channel.code, batch.platform, "NO_DECRYPTOR", len(batch.receivers))
    else:
        account = (channel.config or {}).get("api") or {}
        try:
            return await decryptor.decrypt(account, batch.receivers)
        except DecryptRefused as refused:
            refusal = Refusal(channel.code, batch.platform, refused.platform_code, len(batch.receivers),
                              refused.session_expired)
        except Exception as error:  # an adapter bug must not fail the caller; its message may hold a URL with a token
            refusal = Refusal(channel.code, batch.platform, f"ADAPTER_ERROR/{type(error).__name__}", len(batch.receivers))
    log.warning("receiver decryption refused: platform=%s channel=%s code=%s session_expired=%s orders=%d",
                refusal.platform, refusal.channel, refusal.platform_code, refusal.session_expired, refusal.orders)
    return refusal


async def _record_looks(actor: Actor, shown: Mapping[int, tuple[ClearReceiver, _Batch]]) -> None:
    """One lineage event per order shown: who, which fields, which platform — never the values."""
    async with unit_of_work():
        for order_id, (clear, batch) in shown.items():
            fields = list(clear.fields)
            await lineage.append(
                tenant_id=actor.tenant_id,
                order_id=order_id,
                type=REVEALED,
                actor=actor.name,
                source=actor.source,
                reason=f"receiver {', '.join(fields)} shown decrypted through {batch.platform}",
                after={"platform": batch.platform, "channel": batch.channel.code, "fields": fields,
                       "role": actor.role.value},
            )
