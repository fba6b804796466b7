"""The port a platform's receiver-decryption API implements, and what it answers.

A decryptor gets one channel's account settings (its ``config["api"]``,
opaque here: each adapter documents its keys) and a batch of sealed
receivers of that channel; it answers the clear values per order, or raises
:class:`DecryptRefused` when the platform refuses the whole batch (bad
signature, expired session, unreachable). Items the platform refuses one by
one are listed in :attr:`Decrypted.refused`, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class SealedReceiver:
    """One order's sealed receiver as the platform sent it; ``external_id`` is the platform's order id.

    The platform binds its ciphertext to that order id (Taobao ``tid``, PDD
    ``data_tag``, Douyin ``auth_id``), so it travels with the ciphertext.
    """

    order_id: int
    external_id: str
    name_cipher: str = ""
    phone_cipher: str = ""
    address_cipher: str = ""
    open_id: str = ""

    def __repr__(self) -> str:  # ciphertext is not for logs either
        return f"SealedReceiver(order_id={self.order_id}, external_id={self.external_id!r})"


@dataclass(frozen=True, slots=True)
class ClearReceiver:
    """Decrypted receiver: name, phone (a platform virtual number where it gives one) and street address.

    ``repr`` hides the values so that a stray log line cannot leak them.
    """

    name: str = ""
    phone: str = ""
    address: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        """Which parts were revealed (for lineage: the names, never the values)."""
        return tuple(name for name in ("name", "phone", "address") if getattr(self, name))

    def __repr__(self) -> str:
        return f"ClearReceiver(fields={list(self.fields)})"


@dataclass(frozen=True, slots=True)
class Decrypted:
    """What one call to a decryptor gave: clear receivers by order id, and per-order refusals (code only)."""

    receivers: Mapping[int, ClearReceiver] = field(default_factory=dict)
    refused: Mapping[int, str] = field(default_factory=dict)


class DecryptRefused(DomainError):
    """The platform (or the way to it) refused a whole batch; nothing was decrypted.

    ``platform_code`` is the platform's own code (``"27/invalid-sessionkey"``,
    ``"10019"``, ``"40003/isv.access-token-expired"``) or ours for what never
    reached it (``NOT_CONFIGURED``, ``TIMEOUT``, ``UNREACHABLE``, ``BAD_RESPONSE``).
    ``session_expired``: the merchant must re-authorise the shop. The message
    never carries personal data or credentials.
    """

    code = "DECRYPT_REFUSED"

    def __init__(self, platform: str, platform_code: str, message: str, *, session_expired: bool = False,
                 retryable: bool = False, field: str | None = None) -> None:
        super().__init__(f"{platform}: {message} ({platform_code})", field=field)
        self.platform = platform
        self.platform_code = platform_code
        self.session_expired = session_expired
        self.retryable = retryable


class ContactDecryptor(Protocol):
    """One platform's decryption API. Called once per channel per batch; splits into the platform's own limits."""

    async def decrypt(self, account: Mapping[str, Any], batch: Sequence[SealedReceiver]) -> Decrypted:
        ...
