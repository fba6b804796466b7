"""The channel row itself: a storefront code, its kind and secret.

Registering a channel for intake (secret and mapping checks, lineage) is
``domain.intake.sources.register_channel``, which writes the row through here.
"""

from __future__ import annotations

from typing import Any

from domain.errors import Duplicate, ValidationFailed
from models import Channel


async def create_channel(
    tenant_id: int, code: str, kind: str, name: str, *, secret: str | None = None, config: dict[str, Any] | None = None
) -> Channel:
    if not code.strip():
        raise ValidationFailed("channel code must not be empty", field="code")
    if await Channel.exists(tenant_id=tenant_id, code=code):
        raise Duplicate(f"channel {code} exists", field="code")
    return await Channel.create(tenant_id=tenant_id, code=code, kind=kind, name=name, secret=secret, config=config or {})
