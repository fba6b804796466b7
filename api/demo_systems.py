"""The demo's other systems: simulators started beside `ordergraph demo`, connected to the demo tenant.

    systems = start_simulators(api_port=8000)      # a Qimen WMS, a Kingdee ERP and a Taobao shop, each a process
    await connect_demo("demo", systems)            # registers them, links warehouse SH to the WMS, mirrors stock
    ...
    systems.stop()

The Taobao shop is the demo's ``tmall-flagship`` channel: ``POST
<shop>/_sim/orders {"count": 3}`` places paid orders there, a TMC message for
each is posted to OrderGraph (one in five is dropped, as at a peak) and the
leader's poller finds the dropped ones within a minute. Its items (SKU-A…E)
are aliased to demo teas.

Warehouse SH then runs on the simulated WMS: an order allocated there is pushed
as a delivery order, ``POST <wms>/_sim/ship {"code": "OG…-SH"}`` ships it and
calls OrderGraph back, and ``order { wms erp diagnosis }`` asks both systems.
Both start with the demo's own stock for SH, so the drift breaker stays closed
until someone changes one side.

A DingTalk group robot simulator receives the demo's alerts (route ``运营群``,
warning and up) and the urgent-tier rule's messages (route ``warehouse``);
``GET <robots>/_sim/messages`` shows what the group would have read. The six
rule templates are saved; ``urgent_tier`` and ``held_too_long`` are enabled.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

import httpx

from adapters.channels import generic
from adapters.channels.sim import taobao as taobao_shop
from adapters.erp.simulator import kingdee_config
from adapters.systems import SYSTEMS
from adapters.wms.simulator import account_config
from domain.actor import Actor, Role
from domain.catalog.aliases import set_alias
from domain.federation.connections import link_warehouse, save_connection
from domain.intake.sources import update_channel
from domain.notifications import routes
from domain.rules import store as rules
from domain.rules.templates import TEMPLATES
from models import NotificationRoute, Rule, Stock, Tenant, Warehouse

WMS_PORT, ERP_PORT, SHOP_PORT, ROBOTS_PORT = 9300, 9200, 9400, 9600
DEMO_ROBOT_TOKEN = "demo-ops"
DEMO_ROBOT_SECRET = "SECdemo0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
DEMO_RULES_ENABLED = ("urgent_tier", "held_too_long")
DEMO_WAREHOUSE = "SH"
DEMO_SHOP = "tmall-flagship"
#: Signs the simulated shop's TMC messages (a Standard Webhooks secret, as a TMC relay uses).
DEMO_SHOP_SECRET = "whsec_ZGVtby10bWFsbC1zaG9wLXNlY3JldC0wMTIzNDU2Nzg="
#: The simulated shop's items, as the demo's catalogue knows them.
DEMO_SHOP_ALIASES = {"SKU-A": "TEA-010", "SKU-B": "TEA-021", "SKU-C": "TEA-032", "SKU-D": "WARE-01", "SKU-E": "WARE-06"}


def _port(preferred: int) -> int:
    """``preferred`` when it is free, else any free port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]


@dataclass
class DemoSystems:
    wms_url: str
    erp_url: str
    shop_url: str
    robots_url: str
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def start_simulators(api_port: int, tenant: str = "demo") -> DemoSystems:
    """Start both simulators as child processes and wait until they answer."""
    wms_port, erp_port, shop_port, robots_port = _port(WMS_PORT), _port(ERP_PORT), _port(SHOP_PORT), _port(ROBOTS_PORT)
    callback = f"http://127.0.0.1:{api_port}/hooks/{tenant}/wms/{DEMO_WAREHOUSE}"
    commands = [
        [sys.executable, "-m", "api.cli", "sim", "wms", "--port", str(wms_port), "--callback", callback],
        [sys.executable, "-m", "api.cli", "sim", "erp", "--port", str(erp_port)],
        [sys.executable, "-m", "api.cli", "sim", "channel", "--kind", "taobao", "--port", str(shop_port),
         "--orders", "0", "--push", f"http://127.0.0.1:{api_port}/hooks/{tenant}/{DEMO_SHOP}",
         "--secret", DEMO_SHOP_SECRET, "--faults", '{"drop_push": 0.2}'],
        [sys.executable, "-m", "api.cli", "sim", "notify", "--port", str(robots_port),
         "--dingtalk", f"{DEMO_ROBOT_TOKEN}:{DEMO_ROBOT_SECRET}"],
    ]
    systems = DemoSystems(f"http://127.0.0.1:{wms_port}", f"http://127.0.0.1:{erp_port}",
                          f"http://127.0.0.1:{shop_port}", f"http://127.0.0.1:{robots_port}")
    for command in commands:
        systems.processes.append(subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL))
    deadline = time.monotonic() + 20
    for url, probe in ((systems.wms_url, "/_sim/profile"), (systems.erp_url, "/_sim/calls"),
                       (systems.shop_url, "/_sim/stats"), (systems.robots_url, "/_sim/stats")):
        while True:
            try:
                httpx.get(url + probe, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    systems.stop()
                    raise RuntimeError(f"the simulator at {url} did not start") from None
                time.sleep(0.2)
    return systems


async def connect_demo(tenant_slug: str, systems: DemoSystems) -> None:
    """Register the simulators for the demo tenant (again on every start: their ports may differ) and mirror SH's stock."""
    tenant = await Tenant.get(slug=tenant_slug)
    admin = Actor(tenant_id=tenant.id, role=Role.ADMIN, name="demo set-up", source="cli")
    await save_connection(admin, "wms-demo", "wms", "qimen", name="Qimen WMS (simulated)",
                          config=account_config(systems.wms_url), systems=SYSTEMS)
    await save_connection(admin, "erp-demo", "erp", "kingdee", name="Kingdee K3 Cloud (simulated)",
                          config=kingdee_config(systems.erp_url), systems=SYSTEMS)
    warehouse = await Warehouse.get(tenant_id=tenant.id, code=DEMO_WAREHOUSE)
    await link_warehouse(admin, warehouse.id, wms="wms-demo", wms_warehouse_code=DEMO_WAREHOUSE,
                         erp_warehouse_code=DEMO_WAREHOUSE)
    levels = {sku: on_hand for sku, on_hand in
              await Stock.filter(warehouse_id=warehouse.id).values_list("sku", "on_hand")}
    async with httpx.AsyncClient(timeout=10) as client:
        await client.put(f"{systems.wms_url}/_sim/inventory", json={"warehouse": DEMO_WAREHOUSE, "levels": levels})
        await client.put(f"{systems.erp_url}/_sim/stock", json={"warehouse": DEMO_WAREHOUSE, "on_hand": levels})
    await update_channel(admin, DEMO_SHOP, secret=DEMO_SHOP_SECRET, api=taobao_shop.account_config(systems.shop_url),
                         check=generic.check_mapping)
    for alias, sku in DEMO_SHOP_ALIASES.items():
        await set_alias(admin, DEMO_SHOP, alias, sku)
    await _notifications_and_rules(admin, systems.robots_url)


async def _notifications_and_rules(admin: Actor, robots_url: str) -> None:
    """Routes to the simulated DingTalk group (re-pointed on every start) and the rule templates, saved once."""
    config = {"access_token": DEMO_ROBOT_TOKEN, "secret": DEMO_ROBOT_SECRET, "base_url": robots_url}
    for name, min_severity in (("运营群", "warning"), ("warehouse", "info")):
        route = await NotificationRoute.filter(tenant_id=admin.tenant_id, name=name).first()
        if route is None:
            await routes.create_route(admin, name=name, target="dingtalk", config=config, min_severity=min_severity,
                                      kinds=("rule",) if name == "warehouse" else ())
        else:
            await routes.update_route(admin, route.id, config=config)
    for template in TEMPLATES:
        if not await Rule.filter(tenant_id=admin.tenant_id, name=template).exists():
            rule = await rules.from_template(admin, template)
            if template in DEMO_RULES_ENABLED:
                await rules.set_enabled(admin, rule.id, True)


