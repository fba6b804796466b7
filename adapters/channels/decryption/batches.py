"""Splitting one channel's batch into the platform's per-call limit, and putting the answers back together.

The chunks go out concurrently. A chunk the platform refuses marks only its
own orders refused (with the platform's code); when every chunk is refused
the whole batch is, with the first refusal, so an expired session reads as
such and not as a hundred separate failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from domain.contacts.ports import Decrypted, DecryptRefused

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


async def in_chunks(items: Sequence[T], size: int, order_id: Callable[[T], int],
                    call: Callable[[list[T]], Awaitable[Decrypted]], *, refused: dict[int, str] | None = None) -> Decrypted:
    """``call`` once per chunk of at most ``size`` items; merged answer (``refused`` holds pre-refused orders)."""
    receivers: dict = {}
    refused = dict(refused or {})
    parts = chunks(items, size)
    if not parts:
        return Decrypted(receivers, refused)
    answers = await asyncio.gather(*(call(part) for part in parts), return_exceptions=True)
    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    if len(failures) == len(parts):
        raise failures[0]
    for part, answer in zip(parts, answers, strict=True):
        if isinstance(answer, DecryptRefused):
            refused.update({order_id(item): answer.platform_code for item in part})
        elif isinstance(answer, BaseException):
            raise answer
        else:
            receivers.update(answer.receivers)
            refused.update(answer.refused)
    return Decrypted(receivers, refused)
