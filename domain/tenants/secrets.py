"""Keeping every stored secret sealed with the newest data key.

    changed = await reseal_all()    # run by `ordergraph migrate` and `ordergraph secrets reseal`

Each sealed column (``models.sealing``) is read in clear and written back,
which seals it with the first key of ``ORDERGRAPH_DATA_KEYS``: secrets stored
before sealing existed get sealed, and after a key rotation (new key first,
old key kept) every token moves to the new key, after which the old key can go.
"""

from __future__ import annotations

from domain.unit_of_work import unit_of_work
from models import CarrierAccount, Channel, PaymentGatewayAccount, SystemConnection, WebhookSecret

#: Every model with sealed columns, and those columns.
SEALED = ((Channel, ("secret", "config")), (CarrierAccount, ("secret", "config")), (WebhookSecret, ("secret",)),
          (SystemConnection, ("config",)))
SEALED += ((PaymentGatewayAccount, ("config",)),)


async def reseal_all(batch: int = 500) -> int:
    """Rewrite every sealed value with the first key; how many rows were written."""
    written = 0
    for model, columns in SEALED:
        last_id = 0
        while True:
            rows = await model.filter(id__gt=last_id).order_by("id").limit(batch)
            if not rows:
                break
            last_id = rows[-1].id
            async with unit_of_work():
                for row in rows:
                    await row.save(update_fields=list(columns))
            written += len(rows)
    return written
