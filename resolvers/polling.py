"""Where a channel's poller stands, for the ``Channel.pulling`` field."""

from __future__ import annotations

from models import ChannelPoll


async def poll_state(channel_id: int) -> ChannelPoll | None:
    """The poller state of a channel already scoped to the caller's tenant (``None``: never polled)."""
    return await ChannelPoll.filter(channel_id=channel_id).first()
