"""docs/integrations.md is true: its examples, run as a merchant's developer would, against a served OrderGraph.

Each fenced block preceded by ``<!-- example: NAME -->`` is taken from the
guide as written: the GraphQL registrations are sent to the server, the
Python scripts and ``curl`` lines are run in a shell with the guide's
environment variables and JSON files, and what the server stored is checked.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.statuses import OrderStatus, ShipmentStatus
from models import Order, QuarantinedPayload, Shipment, TrackingEvent
from tests.intake_support import shipped_order
from tests.served import served

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "integrations.md"
_EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```[a-z]*\n(.*?)\n```", re.S)


def examples() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, code in _EXAMPLE.findall(GUIDE.read_text(encoding="utf-8")):
        assert name not in found, f"example {name} appears twice"
        found[name] = code + "\n"
    return found


EXAMPLES = examples()
SHOPIFY_SECRET = "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"
CHANNEL_SECRET = "whsec_dHJhZGUtcmVsYXktc2lnbmluZy1rZXktMDEyMzQ1Njc4OQ=="
PLAIN_SECRET = "plain-text-channel-secret-42"  # a non-whsec secret is used as its UTF-8 bytes
KUAIDI100_SALT = "k100-salt-7f3a9c"
AFTERSHIP_SECRET = "as_webhook_3b8e1f6d2c9a"


@dataclass(frozen=True)
class Source:
    code: str
    kind: str
    secret: str
    payload: str
    sender: str
    external_id: str
    total: Decimal
    currency: str


SOURCES = [
    Source("shop", "shopify", SHOPIFY_SECRET, "shopify-order.json", "send_shopify.py", "6230194716829", Decimal("86.40"), "EUR"),
    Source("tmall-store", "taobao", CHANNEL_SECRET, "taobao-trade.json", "send_order.py", "4012876645139902417", Decimal("356.00"), "CNY"),
    Source("pdd", "pinduoduo", PLAIN_SECRET, "pinduoduo-order.json", "send_order.py", "261128-094415502183716", Decimal("128.00"), "CNY"),
    Source("douyin", "douyin", CHANNEL_SECRET, "douyin-order.json", "send_order.py", "6931884470125581377", Decimal("248.00"), "CNY"),
    Source("channels", "wechat_channels", CHANNEL_SECRET, "wechat-order.json", "send_order.py", "3719920415287361792", Decimal("158.00"), "CNY"),
    Source("amazon-de", "amazon", CHANNEL_SECRET, "amazon-order.json", "send_order.py", "302-8841205-7719536", Decimal("54.80"), "EUR"),
]
GENERIC = json.loads(EXAMPLES["register-channel.variables.json"])["input"]
#: What each tracking example says about its waybill: (provider, carrier, waybill, key, status the parcel is in after).
PUSHES = [
    ("kdniao", "SF", "SF1320458876412", "8c5d7e1a-42b9-4f0e-9d63-1b2f0a7c4e55", ShipmentStatus.IN_TRANSIT),
    ("kuaidi100", "ZTO", "78531066210452", KUAIDI100_SALT, ShipmentStatus.OUT_FOR_DELIVERY),
    ("aftership", "YTO", "YT7521098834561", AFTERSHIP_SECRET, ShipmentStatus.PICKED_UP),
]


@dataclass
class Guide:
    base: str
    tenant: str
    workdir: Path

    def run(self, name: str, *args: str, **env: str) -> tuple[int, Any]:
        """Run a Python example as written; returns (HTTP status, decoded answer) from what it prints."""
        (self.workdir / name).write_text(EXAMPLES[name], encoding="utf-8")
        done = subprocess.run([sys.executable, name, *args], cwd=self.workdir, env=self._env(env),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        status, _, body = done.stdout.strip().partition(" ")
        return int(status), json.loads(body)

    def curl(self, block: str, **env: str) -> tuple[int, Any]:
        """Run a shell example with ``-w`` added to its curl line, so the HTTP status is seen as well."""
        assert block.count("curl -sS") == 1
        (self.workdir / "example.sh").write_text(block.replace("curl -sS", "curl -sS -w '\\n%{http_code}'"),
                                                 encoding="utf-8")
        done = subprocess.run(["sh", "example.sh"], cwd=self.workdir, env=self._env(env), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        body, _, status = done.stdout.rpartition("\n")
        return int(status), json.loads(body)

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return {**os.environ, "OG_URL": self.base, "OG_TENANT": self.tenant, **extra}


def graphql(base: str, key: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables},
                          headers={"authorization": f"Bearer {key}"}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    return body["data"]


def register_all(base: str, key: str) -> None:
    """Every channel and provider of the examples, registered with the guide's own mutations."""
    mutation = EXAMPLES["register-channel.graphql"]
    for source in SOURCES:
        data = graphql(base, key, mutation, {"input": {"code": source.code, "kind": source.kind, "name": source.kind,
                                                       "secret": source.secret}})
        assert data["registerChannel"]["errors"] == [], data
    data = graphql(base, key, mutation, json.loads(EXAMPLES["register-channel.variables.json"]))
    assert data["registerChannel"]["errors"] == [] and data["registerChannel"]["channel"]["hookPath"] == "/hooks/acme/miniapp"
    save = EXAMPLES["save-carrier-account.graphql"]
    data = graphql(base, key, save, json.loads(EXAMPLES["save-carrier-account.variables.json"]))
    assert data["saveCarrierAccount"]["account"]["hookPath"] == "/hooks/acme/carrier/kdniao"
    for provider, secret in (("kuaidi100", KUAIDI100_SALT), ("aftership", AFTERSHIP_SECRET)):
        assert graphql(base, key, save, {"input": {"provider": provider, "secret": secret}})["saveCarrierAccount"]["errors"] == []


@pytest.fixture
def guide(world, db, tmp_path) -> Iterator[Guide]:  # noqa: ANN001
    for name, code in EXAMPLES.items():
        if name.endswith(".json"):
            (tmp_path / name).write_text(code, encoding="utf-8")
    with served(db) as base:
        register_all(base, world.keys["admin"])
        yield Guide(base, "acme", tmp_path)


def env_for(source: Source) -> dict[str, str]:
    return {"OG_CHANNEL": source.code, "OG_SECRET": source.secret}


async def test_every_channel_example_in_python_is_signed_right_and_read_right(guide, world):
    for source in SOURCES:
        status, answer = guide.run(source.sender, source.payload, **env_for(source))
        assert (status, answer["status"]) == (200, "created"), (source.kind, answer)
        order = await Order.get(tenant_id=world.tenant.id, external_id=source.external_id)
        assert (order.total_amount, order.currency) == (source.total, source.currency), source.kind
        assert answer["orderStatus"] == order.status == OrderStatus.PAID, source.kind
        # a resend (new delivery id, same content) changes nothing
        status, again = guide.run(source.sender, source.payload, **env_for(source))
        assert (status, again["status"], again["order"]) == (200, "duplicate", answer["order"]), source.kind


async def test_a_secret_made_as_the_guide_says_signs_deliveries(guide, world):
    made = subprocess.run(["sh", "-c", EXAMPLES["make-secret"]], capture_output=True, text=True, timeout=30, check=True)
    secret = made.stdout.strip()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    data = graphql(guide.base, world.keys["admin"], EXAMPLES["register-channel.graphql"],
                   {"input": {"code": "fresh-relay", "kind": "taobao", "name": "Tmall relay", "secret": secret}})
    assert data["registerChannel"]["channel"]["hasSecret"] is True
    status, answer = guide.run("send_order.py", "taobao-trade.json", OG_CHANNEL="fresh-relay", OG_SECRET=secret)
    assert (status, answer["status"]) == (200, "created"), answer


async def test_a_generic_source_is_read_by_its_mapping_and_its_codes_mapped_once(guide, world):
    env = {"OG_CHANNEL": GENERIC["code"], "OG_SECRET": GENERIC["secret"]}
    status, answer = guide.run("send_order.py", "generic-order.json", **env)
    assert (status, answer["status"], answer["orderStatus"]) == (200, "created", "ON_HOLD"), answer
    order = await Order.get(tenant_id=world.tenant.id, external_id="MP202611280071")
    assert order.total_amount == Decimal("197.00") and order.ship_city == "北京市"
    saved = graphql(guide.base, world.keys["admin"], EXAMPLES["save-status-mapping.graphql"],
                    json.loads(EXAMPLES["save-status-mapping.variables.json"]))["saveStatusMapping"]
    assert saved["errors"] == [] and saved["reevaluatedOrders"] == 1
    await order.refresh_from_db()
    assert order.status == OrderStatus.PAID


async def test_every_curl_example_produces_a_valid_signature(guide, world):
    status, answer = guide.curl(EXAMPLES["curl-shopify"], **env_for(SOURCES[0]))
    assert (status, answer["status"]) == (200, "created"), answer
    for source in (SOURCES[1], SOURCES[2]):  # a whsec_ secret and a plain one
        block = EXAMPLES["curl-standard-webhooks"].replace("BODY=taobao-trade.json", f"BODY={source.payload}")
        status, answer = guide.curl(block, **env_for(source))
        assert (status, answer["status"]) == (200, "created"), (source.kind, answer)
    assert await Order.filter(tenant_id=world.tenant.id).count() == 3
    status, answer = guide.curl(EXAMPLES["curl-standard-webhooks"], OG_CHANNEL=SOURCES[1].code, OG_SECRET=PLAIN_SECRET)
    assert (status, answer["status"]) == (401, "unauthorized")


async def test_a_taobao_tmc_message_is_refused_and_kept(guide, world):
    status, answer = guide.run("send_order.py", "taobao-tmc.json", **env_for(SOURCES[1]))
    assert (status, answer["status"], answer["error"], answer["field"]) == (422, "quarantined", "announcement_unfetched",
                                                                           "content")
    row = await QuarantinedPayload.get(id=answer["quarantineId"])
    assert row.source == SOURCES[1].code and row.verified


async def test_a_wrong_secret_or_an_unknown_channel_answers_as_the_guide_says(guide):
    status, answer = guide.run("send_order.py", "taobao-trade.json", OG_CHANNEL=SOURCES[1].code, OG_SECRET=PLAIN_SECRET)
    assert (status, answer["status"]) == (401, "unauthorized")
    status, answer = guide.run("send_order.py", "taobao-trade.json", OG_CHANNEL="nowhere", OG_SECRET=PLAIN_SECRET)
    assert (status, answer["status"], answer["error"]) == (404, "refused", "unknown_channel")


async def _shipments(world) -> dict[str, Shipment]:  # noqa: ANN001
    made = {}
    for provider, carrier, waybill, _, _ in PUSHES:
        _, shipment = await shipped_order(world, f"DOC-{provider}", carrier, waybill)
        made[provider] = shipment
    return made


async def test_every_tracking_example_in_python_is_signed_right_and_applied(guide, world):
    shipments = await _shipments(world)
    replies = {}
    for provider, _, waybill, key, status_after in PUSHES:
        status, replies[provider] = guide.run(f"send_{provider}.py", f"{provider}-push.json", OG_SECRET=key)
        assert status == 200, (provider, replies[provider])
        shipment = await Shipment.get(id=shipments[provider].id)
        assert shipment.status == status_after, provider
        assert await TrackingEvent.filter(shipment_id=shipment.id).count() >= 1, provider
    assert replies["kuaidi100"] == {"result": True, "returnCode": "200", "message": "成功"}
    assert replies["kdniao"]["Success"] is True and replies["kdniao"]["EBusinessID"] == "1651234"
    assert replies["aftership"] == {"success": True}
    status, refused = guide.run("send_kuaidi100.py", "kuaidi100-push.json", OG_SECRET="not-the-salt")
    assert status == 401 and refused["result"] is False


async def test_every_tracking_curl_example_produces_a_valid_signature(guide, world):
    shipments = await _shipments(world)
    for provider, _, _, key, status_after in PUSHES:
        status, reply = guide.curl(EXAMPLES[f"curl-{provider}"], OG_SECRET=key)
        assert status == 200, (provider, reply)
        assert (await Shipment.get(id=shipments[provider].id)).status == status_after, provider


def test_the_guides_status_tables_are_the_codes_tables():
    printed = subprocess.run([sys.executable, "scripts/status_tables.py"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60, check=True).stdout
    text = GUIDE.read_text(encoding="utf-8")
    committed = text.split("<!-- status-tables:start -->\n", 1)[1].split("<!-- status-tables:end -->", 1)[0]
    assert committed == printed, "run: .venv/bin/python scripts/status_tables.py --write"



def test_every_example_in_the_guide_is_one_these_tests_run():
    run_here = {source.payload for source in SOURCES} | {source.sender for source in SOURCES} | {
        "register-channel.graphql", "register-channel.variables.json", "save-carrier-account.graphql",
        "save-carrier-account.variables.json", "save-status-mapping.graphql", "save-status-mapping.variables.json",
        "make-secret", "generic-order.json", "taobao-tmc.json", "curl-shopify", "curl-standard-webhooks",
    } | {f"{provider}-push.json" for provider, *_ in PUSHES} | {f"send_{provider}.py" for provider, *_ in PUSHES} | {
        f"curl-{provider}" for provider, *_ in PUSHES}
    assert set(EXAMPLES) == run_here, "an example was added to or removed from the guide: test it here"
