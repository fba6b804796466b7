"""The merchant's other systems for one simulated day, served in this process, and the tenant wired to them.

    async with simulated_systems(profile, seed=7) as systems:      # shops, WMSs, ERP, carrier, partner: real HTTP
        await set_up_tenant(systems, base_url, profile)              # the tenant, its channels, warehouses, stock …
        systems.shops["taobao"].place(paid_at=now)                   # the truth lives in the simulators

Every system is one of the project's simulators (``adapters/*/sim*``), served
by uvicorn on a free port and speaking its real wire format, so OrderGraph
talks to them exactly as it talks to the real ones. The simulators keep the
truth: the shops their orders, each WMS its delivery orders and stock, the
carrier its scans. The partner is a Standard Webhooks receiver that records
every lineage event id OrderGraph delivers (the "lost events" check).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from adapters import standard_webhooks
from adapters.carriers import sim as carrier_sim
from adapters.channels import generic
from adapters.channels import sim as channel_sims
from adapters.channels.sim.core import Faults, Platform
from adapters.erp.simulator import ErpSimulator, kingdee_config
from adapters.systems import SYSTEMS
from adapters.wms.simulator import Profile as WmsProfile
from adapters.wms.simulator import WmsSimulator, account_config
from chaos.profile import Profile
from domain.actor import Actor, Role
from domain.allocation import policy as allocation_policy
from domain.catalog import setup as catalog
from domain.federation.connections import link_warehouse, save_connection
from domain.intake import sources
from domain.stock import levels as stock
from domain.tenants.accounts import create_api_key, create_tenant
from domain.webhooks.endpoints import UrlPolicy, register_endpoint
from models import OrderEvent, Tenant

TENANT = "chaos"
SKUS = {"SKU-A": "Longjing 250 g", "SKU-B": "Mug 350 ml", "SKU-C": "Flask 500 ml", "SKU-D": "Canvas bag",
        "SKU-E": "Earphones"}
OPENING_STOCK = 1_000_000
#: Signs the shops' pushes (Standard Webhooks; Shopify's HMAC takes the same string as its key).
SHOP_SECRET = "whsec_Y2hhb3MtZGF5LXNob3AtcHVzaC1zZWNyZXQtMDEy"
#: Where each warehouse is, and which warehouse each channel prefers (the other is its fallback).
WAREHOUSE_PLACES = {0: ("上海", "上海", 31.23, 121.47), 1: ("广东", "广州", 23.13, 113.26),
                    2: ("天津", "天津", 39.08, 117.2)}


@dataclass
class Partner:
    """A partner system's webhook endpoint: which lineage events reached it, and how often."""

    secret: str = ""
    #: The last lineage event before the endpoint existed: only later ones are owed to the partner.
    since_event: int = 0
    received: Counter[int] = field(default_factory=Counter)
    refused: int = 0

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            try:
                body = await request.body()
            except ClientDisconnect:  # the sender gave up (its timeout) mid-body: nothing was received
                return Response(status_code=400)
            if not standard_webhooks.verify(self.secret, request.headers, body, tolerance=None):
                self.refused += 1
                return Response(status_code=401)
            data = json.loads(body).get("data") or {}
            if isinstance(data.get("eventId"), int):
                self.received[data["eventId"]] += 1
            return Response(status_code=204)

        return Starlette(routes=[Route("/hooks/ordergraph", receive, methods=["POST"])])


@dataclass
class Systems:
    """Every simulator of the day, by name, with the base URL each listens on."""

    shops: dict[str, Platform]
    wms: dict[str, WmsSimulator]
    erp: ErpSimulator
    carrier: carrier_sim.TrackingSimulator
    partner: Partner
    urls: dict[str, str] = field(default_factory=dict)
    api_key: str = ""


@contextlib.asynccontextmanager
async def simulated_systems(profile: Profile, *, seed: int) -> AsyncIterator[Systems]:
    """Start every simulator the profile needs (each a real uvicorn server in this event loop)."""
    messages = profile.messages
    shop_faults = Faults(drop_push=messages.drop, duplicate_push=messages.duplicate, reorder_push=messages.reorder,
                         reorder_delay_s=2.0, delay_push=messages.delay, delay_max_s=0.0)
    shops = {kind: Platform(channel_sims.module(kind).protocol(), faults=shop_faults, seed=seed + index,
                            push_secret=SHOP_SECRET, push_retries=6)
             for index, kind in enumerate(profile.channels)}
    wms = {code: WmsSimulator(seed=seed + 100 + index, profile=WmsProfile(drop_callback_rate=messages.wms_callback_drop))
           for index, code in enumerate(profile.warehouses)}
    carrier = carrier_sim.TrackingSimulator(seed=seed + 200,
                                            faults=carrier_sim.Faults(drop_push=messages.carrier_push_drop))
    systems = Systems(shops=shops, wms=wms, erp=ErpSimulator(), carrier=carrier, partner=Partner())
    apps: dict[str, Any] = {f"shop:{kind}": shop.app() for kind, shop in shops.items()}
    apps |= {f"wms:{code}": sim.app for code, sim in wms.items()}
    apps |= {"erp": systems.erp.app, "carrier": carrier.app(), "partner": systems.partner.app()}
    async with contextlib.AsyncExitStack() as stack:
        for name, app in apps.items():
            systems.urls[name] = await stack.enter_async_context(serve(app))
        yield systems


class _Embedded(uvicorn.Server):
    """A server inside a larger program: the program, not each simulator, decides what a signal does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    """``app`` under uvicorn on a free port in this event loop; yields its base URL."""
    port = free_port()
    server = _Embedded(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on",
                                           access_log=False))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("a simulator exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError("a simulator did not start within 20 s")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(task, timeout=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def set_up_tenant(systems: Systems, api_url: str, profile: Profile) -> None:
    """The merchant as a person would set it up (the same use cases the API calls), pointed at the simulators.

    Needs the database initialised in this process. Leaves the admin key in ``systems.api_key``.
    """
    tenant = await create_tenant(TENANT, "Chaos Tea Co.")
    admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="chaos set-up", source="cli")
    _key, systems.api_key = await create_api_key(TENANT, Role.ADMIN, "chaos judge", owner="ordergraph simulate")
    for sku, title in SKUS.items():
        await catalog.upsert_sku(tenant.id, sku, title, "goods")
    await save_connection(admin, "erp", "erp", "kingdee", name="Kingdee K3 Cloud (simulated)",
                          config=kingdee_config(systems.urls["erp"], drift_close_after_minutes=0.25), systems=SYSTEMS)
    for index, code in enumerate(profile.warehouses):
        province, city, lat, lng = WAREHOUSE_PLACES[index % len(WAREHOUSE_PLACES)]
        warehouse = await catalog.create_warehouse(tenant.id, code, f"{city} DC", province=province, city=city,
                                                   latitude=lat, longitude=lng, priority=index + 1)
        for sku in SKUS:
            await stock.receive_stock(admin, warehouse.id, sku, OPENING_STOCK, safety=0, reason="opening stock")
        wms = systems.wms[code]
        for sku in SKUS:
            wms.set_stock(code, sku, OPENING_STOCK)
        systems.erp.set_stock(code, dict.fromkeys(SKUS, OPENING_STOCK))
        wms.callback_url = f"{api_url}/hooks/{TENANT}/wms/{code}"
        await save_connection(admin, f"wms-{code}", "wms", "qimen", name=f"Qimen WMS {code} (simulated)",
                              config=account_config(systems.urls[f"wms:{code}"]), systems=SYSTEMS)
        await link_warehouse(admin, warehouse.id, wms=f"wms-{code}", wms_warehouse_code=code, erp_warehouse_code=code)
    warehouses = list(profile.warehouses)
    await allocation_policy.save_policy(admin, {"strategy": "priority", "auto_allocate": True, "allow_split": False,
                                                "priority": warehouses})
    for index, kind in enumerate(profile.channels):
        await sources.register_channel(admin, kind, kind, f"{kind} shop", secret=SHOP_SECRET, mapping=None,
                                       check=generic.check_mapping)
        await sources.update_channel(admin, kind, api=channel_sims.module(kind).account_config(systems.urls[f"shop:{kind}"]),
                                     check=generic.check_mapping)
        systems.shops[kind].push_url = f"{api_url}/hooks/{TENANT}/{kind}"
        turn = index % len(warehouses)  # channels prefer different warehouses, so both carry the day
        await allocation_policy.save_policy(admin, {"strategy": "priority", "auto_allocate": True, "allow_split": False,
                                                    "priority": warehouses[turn:] + warehouses[:turn]}, kind)
    await sources.set_carrier_account(admin, "kuaidi100", carrier_sim.account_secret("kuaidi100"),
                                      carrier_sim.account_config("kuaidi100", systems.urls["carrier"]))
    _endpoint, systems.partner.secret = await register_endpoint(
        admin, systems.urls["partner"] + "/hooks/ordergraph", UrlPolicy(allow_private=True),
        description="the simulated partner: every event")
    last = await OrderEvent.filter(tenant_id=tenant.id).order_by("-id").first()
    systems.partner.since_event = last.id if last else 0


async def tenant_id() -> int:
    return (await Tenant.get(slug=TENANT)).id
