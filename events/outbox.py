"""Reading the outbox: committed ``OrderEvent`` rows after a cursor, in id order, never past an open gap."""

from __future__ import annotations

from events.gaps import GapPolicy, TimeoutGaps
from models import OrderEvent


class OutboxReader:
    def __init__(self, gaps: GapPolicy | None = None, batch: int = 500) -> None:
        self.gaps = gaps or TimeoutGaps()
        self.batch = batch

    async def read(self, cursor: int) -> list[OrderEvent]:
        """Rows after ``cursor`` up to the first gap that may still fill (possibly none)."""
        # No join: most reads find nothing (every consumer reads after every commit), and the consumers
        # that need the orders' channel and status load them once per batch (``events.messages``).
        rows = await OrderEvent.filter(id__gt=cursor).order_by("id").limit(self.batch)
        ready: list[OrderEvent] = []
        expected = cursor + 1
        for row in rows:
            if row.id != expected:
                if not await self.gaps.is_final(expected):
                    return ready
                # The writers are done: anything in the hole now is committed and must not be skipped.
                if await OrderEvent.filter(id__gte=expected, id__lt=row.id).exists():
                    self.gaps.reset()
                    return ready
                self.gaps.reset()
            ready.append(row)
            expected = row.id + 1
        self.gaps.reset()
        return ready


async def newest_id() -> int:
    """The highest event id committed so far (0 for an empty log)."""
    return await OrderEvent.all().order_by("-id").first().values_list("id", flat=True) or 0
