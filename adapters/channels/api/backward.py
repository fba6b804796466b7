"""Reading a window from its last page back to its first, as Taobao's and Pinduoduo's guides say to.

    cursor = Cursor.read(page_token, first=1, size=50, platform="taobao")   # token None: the counting call
    # ... ask the platform for page cursor.number of cursor.size orders ...
    return cursor.page(listed, total)

Lists run oldest-modified first. An order modified while a window is paged
leaves it, and every order after it moves one place toward the front: read
forwards, the order that moves onto a page already read is skipped; read
backwards, a move only repeats an order on the next (earlier) page, which
the poller drops. So the first call asks the first page only to count the
window (its orders are used when they are all there is), and the next calls
walk from the last page down. A platform that answers smaller pages than
asked is followed at its size. The token is ``"number:size:total"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.inbound.channel_api import ApiRefused, Listed, Page, Window


def seconds(window: Window) -> tuple[int, int]:
    """The whole seconds inside ``window`` (platform times are whole seconds): never wider than asked."""
    return math.ceil(window.start.timestamp()), math.floor(window.end.timestamp())


@dataclass(frozen=True, slots=True)
class Cursor:
    number: int
    size: int
    #: The window's count from the counting call (``None``: this is the counting call).
    total: int | None
    first: int

    @classmethod
    def read(cls, token: str | None, *, first: int, size: int, platform: str) -> Cursor:
        """The cursor a page token names (``ApiRefused`` for one this client did not write)."""
        if token is None:
            return cls(first, size, None, first)
        try:
            number, page_size, total = (int(part) for part in token.split(":"))
        except ValueError:
            number = page_size = total = -1
        if number < first or not 1 <= page_size <= size or total < 0:
            raise ApiRefused(f"{platform}: not a page token of this client: {token[:40]!r}", code="BAD_PAGE")
        return cls(number, page_size, total, first)

    def page(self, listed: tuple[Listed, ...], total: int) -> Page:
        """What the poller gets for this call, with the token of the next one."""
        if self.total is None:
            if total <= len(listed):
                return Page(listed, None, total)
            size = len(listed) if 0 < len(listed) < self.size else self.size
            last = self.first + math.ceil(total / size) - 1
            return Page((), f"{last}:{size}:{total}", total)
        earlier = self.number - 1
        return Page(listed, f"{earlier}:{self.size}:{self.total}" if earlier >= self.first else None, self.total)
