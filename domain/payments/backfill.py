"""Normalised references for payments written before ``Payment.normalized_reference`` existed.

Migration 0009 runs :func:`backfill_references` as its data step (no SQL of
its own: the rules live in ``domain.payments.references`` and would drift if
copied into SQL). It is idempotent and batched, so it can also be re-run after
the normalisation rules change:

    updated = await backfill_references()          # how many rows changed
"""

from __future__ import annotations

from domain.payments.references import normalize
from domain.unit_of_work import unit_of_work
from models import Payment, PaymentNotice

BATCH = 1000


async def backfill_references(*, batch: int = BATCH) -> int:
    """Set ``normalized_reference`` on every payment and notice whose stored value is not the current rule's."""
    changed = 0
    for model in (Payment, PaymentNotice):
        last_id = 0
        while True:
            rows = await (model.filter(id__gt=last_id).order_by("id").limit(batch)
                          .values_list("id", "reference", "gateway", "normalized_reference"))
            if not rows:
                break
            async with unit_of_work():
                for row_id, reference, gateway, stored in rows:
                    wanted = normalize(reference or "", gateway or "")
                    if wanted != stored:
                        await model.filter(id=row_id).update(normalized_reference=wanted)
                        changed += 1
            last_id = rows[-1][0]
    return changed
