"""The second path: reading what the platforms' pull APIs say, so a dropped webhook is never a lost order.

Owns the poller (``poll``: windows from a persisted watermark, paging,
throttling, every order through the same intake as webhooks), the daily
count-and-checksum check (``daily_check``) and the round the leader runs
(``rounds``). The platform clients are ports (``domain.inbound.channel_api``)
that callers pass in, normally ``adapters.channels.api.CHANNEL_APIS``.
"""
