"""Which of the tenant's payments a gateway notice may be about: by normalised reference or transaction id.

A notice names the payment twice: the merchant's order number
(``out_trade_no``) and the gateway's own id (``transaction_id`` / ``trade_no``,
which channels such as Taobao record as the payment reference). Either,
normalised (``domain.payments.references``), may equal a payment's
``normalized_reference``; a payment already confirmed by this transaction is
found by its ``gateway_reference``. Only incoming kinds count (never refunds).

    found = await candidates(tenant_id, notice)     # locked, oldest first
"""

from __future__ import annotations

from tortoise.expressions import Q

from domain.payments.kinds import INCOMING
from domain.payments.ports import GatewayNotice
from domain.payments.references import normalize
from models import Payment


def keys_of(notice: GatewayNotice) -> list[str]:
    """The normalised references a notice may match on (empty ones dropped, order kept)."""
    keys = [normalize(notice.reference, notice.gateway), normalize(notice.transaction_id, notice.gateway)]
    return [key for index, key in enumerate(keys) if key and key not in keys[:index]]


async def candidates(tenant_id: int, notice: GatewayNotice, *, limit: int = 20) -> list[Payment]:
    """The tenant's incoming payments the notice could be about, locked (call inside the applying transaction)."""
    keys = keys_of(notice)
    condition = Q(normalized_reference__in=keys) if keys else Q(id=-1)
    if notice.transaction_id:
        condition |= Q(gateway_reference=notice.transaction_id[:64])
    ids = await (Payment.filter(condition, order__tenant_id=tenant_id, kind__in=[kind.value for kind in INCOMING])
                 .order_by("id").limit(limit).values_list("id", flat=True))
    if not ids:
        return []
    return list(await Payment.filter(id__in=list(ids)).order_by("id").select_for_update())
