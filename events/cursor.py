"""Persistent outbox cursors (``DispatchCursor``): how far each durable consumer has got.

Advancing is a compare-and-set, so two processes that both believe they lead
can never both move a cursor from the same place: the loser gets
``CursorMoved`` and reloads.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import DispatchCursor


class CursorMoved(Exception):
    """Another process advanced this cursor first; reload it."""


async def load(name: str) -> int | None:
    return await DispatchCursor.filter(name=name).first().values_list("last_id", flat=True)


async def advance(name: str, old: int | None, new: int) -> None:
    """Move ``name`` from ``old`` (None: not created yet) to ``new``, or raise ``CursorMoved``."""
    if old is None:
        try:
            await DispatchCursor.create(name=name, last_id=new)
        except IntegrityError:
            raise CursorMoved(name) from None
        return
    if not await DispatchCursor.filter(name=name, last_id=old).update(last_id=new):
        raise CursorMoved(name)


async def load_or_start(name: str, start: int) -> int:
    """The stored position, creating the cursor at ``start`` first if it does not exist yet.

    Created eagerly so that a crash before the first event is handled still
    resumes from here, not from whatever is newest at the next start.
    """
    stored = await load(name)
    if stored is not None:
        return stored
    try:
        await advance(name, None, start)
    except CursorMoved:
        stored = await load(name)
        assert stored is not None
        return stored
    return start
