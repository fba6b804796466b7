"""A poller's page of orders OrderGraph has never seen, written ``CHUNK`` to a transaction; the rest one by one.

    created, rest = await apply_first_seen(channel, bodies, formats=FORMATS)
    # ``created``: external ids now held; ``rest``: bodies for receive_channel(..., pulled=True)

A back-fill reads orders by the hundred thousand, nearly all new. Each is
parsed, stored as evidence and planned exactly as a webhook's would be
(``plan.plan_new_order``), then written together, ``CHUNK`` orders at a time
(``first_seen.insert_first_seen``: the same rows, lineage, alerts and
reservations as ``apply.insert_order``). Whatever is not simply new goes back
to the caller for the one-by-one webhook path, which knows updates,
duplicates, stale versions and quarantine: an order already held, a body that
does not parse, and the whole chunk when a webhook created one of its orders
meanwhile (the transaction is rolled back on the unique constraint).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.allocation.policy import policy_for
from domain.inbound import payloads
from domain.inbound import status_mapping as mapping_tables
from domain.inbound.formats import BadMapping, Formats
from domain.inbound.normalized import InboundOrder, PayloadError
from domain.intake.apply import channel_actor
from domain.intake.first_seen import insert_first_seen
from domain.intake.lookup import aliases_for, by_external_ids
from domain.intake.plan import check_storable, plan_new_order
from domain.intake.reading import read, tables_for
from domain.intake.receive import parse_channel_order
from domain.unit_of_work import unit_of_work
from models import Channel


#: New orders written per transaction. A transaction that allocates holds the stock rows of all its orders' SKUs
#: (locked together, in id order, against deadlocks) until it commits: a whole page of 50-100 orders held a hot
#: SKU's rows for over ten seconds at a peak, and every webhook, allocation and shipment of that SKU waited.
CHUNK = 10


async def apply_first_seen(channel: Channel, bodies: Sequence[bytes], *,
                           formats: Formats) -> tuple[list[str], list[bytes]]:
    """Write the orders among ``bodies`` that are new; return their external ids and the bodies left over."""
    parsed: dict[str, tuple[InboundOrder, bytes]] = {}
    rest: list[bytes] = []
    for body in bodies:
        try:
            inbound = parse_channel_order(formats, channel, body, {})
            check_storable(inbound)
        except (PayloadError, BadMapping):
            rest.append(body)  # the webhook path quarantines it with the reason
            continue
        if inbound.external_id in parsed:
            rest.append(body)  # the same order twice on a page: the second is an update or a duplicate
            continue
        parsed[inbound.external_id] = (inbound, body)
    if not parsed:
        return [], rest
    tenant_id: int = channel.tenant_id  # type: ignore[attr-defined]
    policy = await policy_for(tenant_id, channel.id)
    written: list[str] = []
    items = list(parsed.items())
    for start in range(0, len(items), CHUNK):
        chunk = dict(items[start:start + CHUNK])
        try:
            async with unit_of_work():
                held = {row[0] for row in await by_external_ids(tenant_id, channel.id, chunk)}
                fresh = [(inbound, body) for external_id, (inbound, body) in chunk.items() if external_id not in held]
                if fresh:
                    await _insert(channel, fresh, auto_allocate=policy.auto_allocate)
        except IntegrityError:  # a webhook created one of them meanwhile: every order of the chunk one by one
            rest += [body for _, body in chunk.values()]
            continue
        written += [inbound.external_id for inbound, _ in fresh]
        rest += [chunk[external_id][1] for external_id in held]
    return written, rest


async def _insert(channel: Channel, fresh: list[tuple[InboundOrder, bytes]], *, auto_allocate: bool) -> None:
    tenant_id: int = channel.tenant_id  # type: ignore[attr-defined]
    digests = await payloads.store_many(tenant_id, "channel", channel.code, [body for _, body in fresh])
    aliases = await aliases_for(tenant_id, channel.id, (line.sku for inbound, _ in fresh for line in inbound.lines))
    tables: dict[frozenset[str], Any] = {}
    now = datetime.now(UTC)
    plans = []
    for (inbound, _), digest in zip(fresh, digests):
        names = frozenset(tables_for(inbound.source, inbound.extra_codes))
        if names not in tables:
            tables[names] = await mapping_tables.load(tenant_id, names)
        reading = read(inbound.source, inbound.status_code, inbound.extra_codes, tables[names])
        plan = plan_new_order(inbound, reading, channel_id=channel.id, source=inbound.source, payload_sha256=digest,
                              received_at=now, aliases=aliases)
        plans.append((plan, payloads.ref(digest)))
    await insert_first_seen(channel_actor(tenant_id, channel.code, "poller"), channel.id, plans, via="poller",
                            reason="channel reports {status_code}", auto_allocate=auto_allocate)
