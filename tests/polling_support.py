"""A simulated Taobao shop beside a served OrderGraph: pushes reach the app over HTTP, the poller reads the shop."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from adapters.channels.api import CHANNEL_APIS
from adapters.channels.api import http as channel_api_http
from adapters.channels.sim import taobao as taobao_sim
from adapters.channels.sim.core import Faults, Platform
from api.app import create_app
from domain.inbound.channel_api import ChannelApi
from models import Channel, Order
from tests.conftest import World, settings_for
from tests.intake_support import SECRET, add_channel
from tests.live_fixtures import serve_asgi


@dataclass
class Shop:
    """The platform (the truth), the channel it feeds, and a client of its API."""

    platform: Platform
    channel: Channel
    api: ChannelApi
    base_url: str

    async def held(self) -> dict[str, int]:
        """External id -> how many orders OrderGraph holds under it (1 each, or the test fails)."""
        ids = await Order.filter(channel_id=self.channel.id).values_list("external_id", flat=True)
        counts: dict[str, int] = {}
        for external_id in ids:
            counts[external_id] = counts.get(external_id, 0) + 1
        return counts

    def truth(self) -> set[str]:
        return set(self.platform.orders)


@contextlib.asynccontextmanager
async def taobao_shop(world: World, db: str, *, faults: Faults | None = None, push: bool = True,
                      code: str = "tb-pull", poll_seconds: float = 0) -> AsyncIterator[Shop]:
    """A Taobao shop simulator pointed at a served app's hook, and a channel with its API account.

    ``poll_seconds``: the served app's leader polls on its own at this period (0: the test drives the poller).
    """
    platform = Platform(taobao_sim.protocol(), faults=faults or Faults(), push_secret=SECRET)
    channel = await add_channel(world, code, "taobao")
    app = create_app(settings_for(db, poll_seconds=poll_seconds), manage_database=False)
    try:
        async with serve_asgi(platform.app()) as sim_url, serve_asgi(app) as app_url:
            channel.config = {**(channel.config or {}), "api": taobao_sim.account_config(sim_url)}
            await channel.save(update_fields=["config"])
            if push:
                platform.push_url = f"{app_url}/hooks/{world.tenant.slug}/{code}"
            api = CHANNEL_APIS.for_channel("taobao", channel.config["api"])
            assert api is not None
            yield Shop(platform, channel, api, sim_url)
            await platform.drain()
    finally:
        await platform.aclose()
        await channel_api_http.aclose()


def counts_of(report: Any) -> dict[str, int]:
    return {name: getattr(report, name) for name in ("created", "updated", "unchanged", "skipped", "quarantined")}
