"""Keeping phone look-up keys in step with the server's secret.

    changed = await rekey_phone_hashes()    # after an upgrade or a key rotation; run by `ordergraph migrate`

A customer's ``phone_hash`` is an HMAC of the phone under
``ORDERGRAPH_PHONE_HASH_KEY`` (``domain.masking.phone_hash``). Rows written
under another key (or by the unkeyed SHA-256 of earlier versions) are
recomputed from the phone kept in clear; a customer whose phone is not kept
has no key to fix. Open one-time codes were issued under the old key, so they
are spent and the customer asks for a new one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.masking import phone_hash
from domain.unit_of_work import unit_of_work
from models import Customer, OtpChallenge


async def rekey_phone_hashes(batch: int = 1000) -> int:
    """Recompute every stale ``phone_hash``; returns how many rows changed."""
    changed = 0
    last_id = 0
    while True:
        rows = await Customer.filter(id__gt=last_id, phone__isnull=False).order_by("id").limit(batch).values_list(
            "id", "phone", "phone_hash")
        if not rows:
            break
        last_id = rows[-1][0]
        stale = [(row_id, phone_hash(phone)) for row_id, phone, stored in rows if phone and phone_hash(phone) != stored]
        if stale:
            async with unit_of_work():
                for row_id, fresh in stale:
                    await Customer.filter(id=row_id).update(phone_hash=fresh)
            changed += len(stale)
    if changed:
        await OtpChallenge.filter(consumed_at__isnull=True).update(consumed_at=datetime.now(UTC))
    return changed
