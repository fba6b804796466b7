"""Reading the outbox: committed ``OrderEvent`` rows after a cursor, in id order, never past an open gap.

    reader = OutboxReader(PgSnapshotGaps())
    rows = await reader.read(cursor)   # hand them on, then read(rows[-1].id)

A gap is an id taken by a transaction still open (or rolled back). While one
is open every commit rings every dispatcher, and each used to read the whole
batch after its cursor again to find it still open: with intake transactions
waiting seconds on a hot SKU's stock rows, that was a third of a server's CPU
on the chaotic day. Rows already read past a gap are committed, and the log
is append-only, so they are kept (``_ahead``); the next read asks only for
the ids missing among them and for what comes after them.
"""

from __future__ import annotations

from events.gaps import GapPolicy, TimeoutGaps
from models import OrderEvent


class OutboxReader:
    def __init__(self, gaps: GapPolicy | None = None, batch: int = 500) -> None:
        self.gaps = gaps or TimeoutGaps()
        self.batch = batch
        self._ahead: list[OrderEvent] = []

    async def read(self, cursor: int) -> list[OrderEvent]:
        """Rows after ``cursor`` up to the first gap that may still fill (possibly none)."""
        rows = await self._rows_after(cursor)
        ready: list[OrderEvent] = []
        expected = cursor + 1
        for index, row in enumerate(rows):
            if row.id != expected:
                if not await self.gaps.is_final(expected):
                    self._ahead = rows[index:]
                    return ready
                # The writers are done: anything in the hole now is committed and must not be skipped.
                if await OrderEvent.filter(id__gte=expected, id__lt=row.id).exists():
                    self.gaps.reset()
                    self._ahead = rows[index:]
                    return ready
                self.gaps.reset()
            ready.append(row)
            expected = row.id + 1
        self.gaps.reset()
        self._ahead = []
        return ready

    async def _rows_after(self, cursor: int) -> list[OrderEvent]:
        """Up to ``batch`` committed rows after ``cursor`` in id order: those kept from the last read, the ids
        missing among them, then the newer ones. (No join: most reads find nothing, and the consumers that need
        the orders' channel and status load them once per batch, ``events.messages``.)"""
        ahead = [row for row in self._ahead if row.id > cursor]
        top = ahead[-1].id if ahead else cursor
        if top - cursor - len(ahead) > self.batch:  # too many holes to name: read afresh
            ahead, top = [], cursor
        kept = {row.id for row in ahead}
        holes = [i for i in range(cursor + 1, top) if i not in kept]
        found = list(await OrderEvent.filter(id__in=holes)) if holes else []
        room = self.batch - len(ahead) - len(found)
        newer = list(await OrderEvent.filter(id__gt=top).order_by("id").limit(room)) if room > 0 else []
        return sorted([*ahead, *found], key=lambda row: row.id) + newer


async def newest_id() -> int:
    """The highest event id committed so far (0 for an empty log)."""
    return await OrderEvent.all().order_by("-id").first().values_list("id", flat=True) or 0
