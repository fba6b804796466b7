"""Lineage exports (JSONL, CSV, PDF), evidence packs, the export job and the complete lineage (issue 17 parts 3-5)."""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import zipfile
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from domain.actor import Role
from domain.errors import Forbidden, NotFound, ValidationFailed
from domain.inbound import payloads
from domain.lineage.export import export_lineage
from domain.lineage.pack import build_pack
from domain.lineage.pdf import order_pdf
from domain.lineage.scope import order_number, order_scope, range_scope
from models import OrderEvent
from tests.conftest import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
RAW = json.dumps({"tid": "T1", "receiver_name": "李四", "receiver_mobile": "13812341234",
                  "receiver_address": "世纪大道 1 号", "title": "龙井"}, ensure_ascii=False).encode()


async def _order(world: World, external_id: str = "T1", placed_at: datetime | None = None):  # type: ignore[no-untyped-def]
    _, digest = await payloads.store(world.tenant.id, "order", "taobao", RAW, {}, "application/json")
    return await _with_payload(world, external_id, placed_at, digest)


async def _with_payload(world: World, external_id: str, placed_at: datetime | None, digest: str):  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from domain import orders
    from domain.orders.create import NewAddress, NewCustomer, NewLine, NewOrder, NewPayment

    return await orders.create_order(world.actor(Role.ADMIN), NewOrder(
        channel_id=world.channel.id, external_id=external_id, placed_at=placed_at,
        lines=[NewLine(sku="TEA-001", quantity=1, unit_price=Decimal("100.00"))],
        customer=NewCustomer(name="李四", phone="13812341234"),
        address=NewAddress(name="李四", phone="13812341234", province="上海", city="上海", district="浦东新区",
                           address="世纪大道 1 号"),
        payment=NewPayment(gateway="wechatpay", amount=Decimal("100.00"))), payload_ref=payloads.ref(digest))


def _decode(global_id: str) -> str:
    return base64.b64decode(global_id).decode()


async def test_an_orders_export_as_jsonl_and_csv_has_every_event_with_ids_times_and_masked_payload(world: World) -> None:
    order = await _order(world)
    auditor = world.actor(Role.AUDITOR)
    expected = list(await OrderEvent.filter(order_id=order.id).order_by("id").values_list("id", "type"))
    assert expected
    scope = await order_scope(auditor, order_number(order.id))
    out = io.BytesIO()
    manifest = await export_lineage(auditor, scope, "jsonl", out.write)
    body = out.getvalue()
    records = [json.loads(line) for line in body.decode().splitlines()]
    assert [(r["id"], r["type"]) for r in records] == expected
    assert manifest["count"] == len(expected) and manifest["first_id"] == expected[0][0]
    assert manifest["last_id"] == expected[-1][0]
    assert manifest["body_sha256"] == hashlib.sha256(body).hexdigest()
    counts: dict[str, int] = {}
    for _, kind in expected:
        counts[kind] = counts.get(kind, 0) + 1
    assert manifest["counts_by_type"] == counts
    first = records[0]
    assert _decode(first["global_id"]) == f"OrderEvent:{first['id']}"
    assert _decode(first["order_gid"]) == f"Order:{order.id}"
    utc = datetime.fromisoformat(first["recorded_utc"])
    local = datetime.fromisoformat(first["recorded_local"])
    assert utc.utcoffset() == timedelta(0) and local.utcoffset() == timedelta(hours=8) and utc == local
    assert first["who"] == "test-admin" and first["source"] == "test"
    with_payload = [r for r in records if r.get("payload_sha256")]
    assert with_payload, records
    payload = with_payload[0]["payload"]
    assert with_payload[0]["payload_sha256"] == hashlib.sha256(RAW).hexdigest()
    assert payload["receiver_mobile"] == "138****1234" and payload["receiver_name"] == "李*"
    assert payload["receiver_address"] == "****" and payload["title"] == "龙井"
    assert "13812341234" not in body.decode()

    out = io.BytesIO()
    manifest_csv = await export_lineage(auditor, scope, "csv", out.write)
    rows = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert [(int(r["id"]), r["type"]) for r in rows] == expected
    assert manifest_csv["body_sha256"] == hashlib.sha256(out.getvalue()).hexdigest()
    assert rows[0]["order"] == order_number(order.id) and _decode(rows[0]["order_gid"]) == f"Order:{order.id}"
    assert rows[0]["recorded_local"].endswith("+08:00")
    assert "138****1234" in out.getvalue().decode() and "13812341234" not in out.getvalue().decode()


async def test_api_key_actors_show_the_key_label_and_role(world: World) -> None:
    from domain.lineage.records import key_of

    assert key_of("ops desk (ops key)") == {"owner": None, "label": "ops desk", "role": "ops"}
    assert key_of("auditor key #7") == {"owner": None, "label": "", "role": "auditor", "number": "7"}
    assert key_of("cli:reconcile:root") is None


async def test_only_auditors_and_admins_export_and_the_export_is_an_event(world: World) -> None:
    order = await _order(world)
    with pytest.raises(Forbidden):
        await order_scope(world.actor(Role.OPS), order_number(order.id))
    with pytest.raises(NotFound):
        await order_scope(world.actor(Role.AUDITOR), "OG999999999")
    with pytest.raises(ValidationFailed):
        await order_scope(world.actor(Role.AUDITOR), "nonsense")
    auditor = world.actor(Role.AUDITOR)
    manifest = await export_lineage(auditor, await order_scope(auditor, order.id), "jsonl", io.BytesIO().write)
    recorded = await OrderEvent.filter(tenant_id=world.tenant.id, type="lineage.exported").first()
    assert recorded is not None and recorded.actor == "test-auditor"
    assert recorded.after["params"] == {"order": order_number(order.id), "format": "jsonl"}
    assert recorded.after["count"] == manifest["count"] and recorded.order_id is None


async def test_a_day_by_placed_time_differs_from_a_day_by_recorded_time(world: World) -> None:
    today = datetime.now(SHANGHAI).date()
    long_ago = today - timedelta(days=10)
    # Placed late in the evening of long_ago, Shanghai time (still the day before in UTC), recorded today.
    late = datetime(long_ago.year, long_ago.month, long_ago.day, 23, 30, tzinfo=SHANGHAI)
    old = await _order(world, "OLD", placed_at=late)
    new = await _order(world, "NEW")
    auditor = world.actor(Role.AUDITOR)

    async def ids(first: date, by: str) -> set[int]:
        out = io.BytesIO()
        await export_lineage(auditor, await range_scope(auditor, first, first, by=by), "jsonl", out.write,
                             record_event=False)
        return {json.loads(line)["id"] for line in out.getvalue().decode().splitlines()}

    old_events = set(await OrderEvent.filter(order_id=old.id).values_list("id", flat=True))
    new_events = set(await OrderEvent.filter(order_id=new.id).values_list("id", flat=True))
    assert await ids(long_ago, "placed") == old_events
    assert await ids(long_ago - timedelta(days=1), "placed") == set()     # 15:30 UTC the day before: not that day
    assert await ids(long_ago, "recorded") == set()
    recorded_today = await ids(today, "recorded")
    assert old_events | new_events <= recorded_today
    assert await ids(today, "placed") == new_events
    with pytest.raises(ValidationFailed):
        await range_scope(auditor, today, long_ago)


def _pdf_text(data: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (object streams hold the document's title)."""
    parts = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


async def test_the_pdf_is_a_pdf_of_the_orders_timeline(world: World) -> None:
    order = await _order(world)
    auditor = world.actor(Role.AUDITOR)
    data = await order_pdf(auditor, await order_scope(auditor, order.id))
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert f"({order_number(order.id)}".encode() in _pdf_text(data)
    with pytest.raises(ValidationFailed):
        await order_pdf(auditor, await range_scope(auditor, date.today(), date.today()))


async def test_the_evidence_pack_holds_every_kind_of_evidence(world: World) -> None:
    order = await _order(world)
    auditor = world.actor(Role.AUDITOR)
    data = await build_pack(auditor, order_number(order.id))
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    digest = hashlib.sha256(RAW).hexdigest()
    assert {"timeline.pdf", "lineage.jsonl", "manifest.json", "exchanges.json", "carrier_scans.json",
            "contents.json", f"payloads/{digest}.json"} <= names
    assert archive.read("timeline.pdf").startswith(b"%PDF-")
    payload = json.loads(archive.read(f"payloads/{digest}.json"))
    assert payload["body"]["receiver_mobile"] == "138****1234"
    contents = json.loads(archive.read("contents.json"))["files"]
    assert contents["lineage.jsonl"] == hashlib.sha256(archive.read("lineage.jsonl")).hexdigest()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["body_sha256"] == contents["lineage.jsonl"]
    assert b"13812341234" not in b"".join(archive.read(name) for name in names if name != "timeline.pdf")
    admin_pack = zipfile.ZipFile(io.BytesIO(await build_pack(world.actor(Role.ADMIN), order.id)))
    assert admin_pack.read(f"payloads/{digest}.raw") == RAW                # an admin sees what was received
    assert await OrderEvent.filter(type="lineage.exported", tenant_id=world.tenant.id).count() == 2


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


async def test_the_cli_exports_with_a_progress_bar_and_packs(world: World, db: str, tmp_path: Path) -> None:
    order = await _order(world)
    number = order_number(order.id)
    target = tmp_path / "order.jsonl"
    done = await asyncio.to_thread(_cli, "lineage", "export", "--tenant", "acme", "--order", number,
                                   "--format", "jsonl", "-o", str(target), database_url=db)
    assert done.returncode == 0, done.stderr
    count = await OrderEvent.filter(order_id=order.id).count()
    assert f"{count}/{count}" in done.stderr                                 # tqdm's bar reached the end
    manifest = json.loads((tmp_path / "order.jsonl.manifest.json").read_text())
    assert manifest["body_sha256"] == hashlib.sha256(target.read_bytes()).hexdigest() and manifest["count"] == count
    day = datetime.now(SHANGHAI).date().isoformat()
    csv_file = tmp_path / "day.csv"
    done = await asyncio.to_thread(_cli, "lineage", "export", "--tenant", "acme", "--from", day, "--to", day,
                                   "--by", "recorded", "--format", "csv", "-o", str(csv_file), database_url=db)
    assert done.returncode == 0, done.stderr
    assert len(list(csv.DictReader(csv_file.open()))) >= count
    pdf = tmp_path / "order.pdf"
    done = await asyncio.to_thread(_cli, "lineage", "export", "--tenant", "acme", "--order", number,
                                   "--format", "pdf", "-o", str(pdf), database_url=db)
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    pack = tmp_path / "pack.zip"
    done = await asyncio.to_thread(_cli, "lineage", "pack", "--tenant", "acme", "--order", number, "-o", str(pack),
                                   database_url=db)
    assert done.returncode == 0, done.stderr
    assert "timeline.pdf" in zipfile.ZipFile(pack).namelist()
    refused = await asyncio.to_thread(_cli, "lineage", "pack", "--tenant", "acme", "--order", "OG999999999",
                                      "-o", str(pack), database_url=db)
    assert refused.returncode == 2 and "no order OG999999999" in refused.stderr


# ------------------------------------------------------------------ GraphQL: jobs, download, events, releaseHold

START = """mutation($i: StartLineageExportInput!) { startLineageExport(input: $i) {
  job { id status } errors { code field message } } }"""
JOB = "query($id: ID!) { lineageExport(id: $id) { status progress total downloadUrl manifest error requestedBy } }"
EVENTS = """query($f: EventFilter) { events(filter: $f) {
  edges { cursor node { eventId type: typeCode actor reason } } pageInfo { hasNextPage endCursor } } }"""


async def _finished(gql, key: str, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        job = (await gql(key, JOB, {"id": job_id}))["lineageExport"]
        if job["status"] != "RUNNING" or asyncio.get_running_loop().time() > deadline:
            return job
        await asyncio.sleep(0.05)


async def test_a_background_export_reaches_done_and_its_download_needs_an_auditor_of_the_tenant(
        world: World, other_world: World, gql) -> None:  # type: ignore[no-untyped-def]
    order = await _order(world)
    auditor = world.keys["auditor"]
    started = (await gql(auditor, START, {"i": {"order": order_number(order.id), "format": "JSONL"}}))["startLineageExport"]
    assert started["errors"] == [] and started["job"]["status"] in ("RUNNING", "DONE")
    job = await _finished(gql, auditor, started["job"]["id"])
    count = await OrderEvent.filter(order_id=order.id).count()
    assert job["status"] == "DONE", job
    assert job["progress"] == job["total"] == count and job["manifest"]["count"] == count
    url = job["downloadUrl"]
    answer = await gql.http.get(url, headers={"authorization": f"Bearer {auditor}"})
    assert answer.status_code == 200, answer.text
    assert hashlib.sha256(answer.content).hexdigest() == job["manifest"]["body_sha256"]
    assert len(answer.content.decode().splitlines()) == count
    assert (await gql.http.get(url)).status_code == 401
    assert (await gql.http.get(url, headers={"authorization": f"Bearer {other_world.keys['auditor']}"})).status_code == 403
    assert (await gql.http.get(url, headers={"authorization": f"Bearer {world.keys['ops']}"})).status_code == 403
    assert (await gql.http.get(url, headers={"authorization": f"Bearer {world.keys['admin']}"})).status_code == 200
    assert (await gql.http.get("/exports/lineage/99999", headers={"authorization": f"Bearer {auditor}"})).status_code == 404
    refused = (await gql(world.keys["ops"], START, {"i": {"order": order_number(order.id)}}))["startLineageExport"]
    assert refused["job"] is None and refused["errors"][0]["code"] == "FORBIDDEN"
    bad = (await gql(auditor, START, {"i": {"from": "2026-11-30"}}))["startLineageExport"]
    assert bad["errors"][0]["code"] == "VALIDATION"
    other = (await gql.post(other_world.keys["auditor"], JOB, {"id": started["job"]["id"]})).json()
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_day_exports_in_the_background_as_csv(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    await _order(world)
    day = datetime.now(SHANGHAI).date().isoformat()
    started = (await gql(world.keys["admin"], START, {"i": {"from": day, "to": day, "by": "RECORDED",
                                                             "format": "CSV"}}))["startLineageExport"]
    job = await _finished(gql, world.keys["admin"], started["job"]["id"])
    assert job["status"] == "DONE" and job["manifest"]["count"] > 0
    answer = await gql.http.get(job["downloadUrl"], headers={"authorization": f"Bearer {world.keys['admin']}"})
    assert len(list(csv.DictReader(io.StringIO(answer.text)))) == job["manifest"]["count"]


async def test_interrupted_jobs_are_marked_failed_on_start(world: World) -> None:
    from domain.lineage.jobs import fail_interrupted
    from models import ExportJob

    job = await ExportJob.create(tenant_id=world.tenant.id, requested_by="x", params={}, status="running")
    assert await fail_interrupted() == 1
    job = await ExportJob.get(id=job.id)
    assert job.status == "failed" and "restart" in job.error


async def test_the_events_root_lists_every_kind_of_event_for_auditors_and_records_the_look_up(
        world: World, gql) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import stock_up

    from domain.orders.holds import hold_order

    order = await _order(world)
    await hold_order(world.actor(Role.ADMIN), order.id, ["address check"])
    await stock_up(world.actor(Role.ADMIN), [world.warehouses[0].id])
    auditor = world.keys["auditor"]
    everything = (await gql(auditor, EVENTS, {"f": {"first": 500}}))["events"]
    kinds = {edge["node"]["type"] for edge in everything["edges"]}
    assert any(kind.startswith("stock.") for kind in kinds) and "order.created" in kinds
    ids = [edge["node"]["eventId"] for edge in everything["edges"]]
    assert ids == sorted(ids)
    stock_only = (await gql(auditor, EVENTS, {"f": {"types": ["stock.*"]}}))["events"]["edges"]
    assert stock_only and all(edge["node"]["type"].startswith("stock.") for edge in stock_only)
    from resolvers.ids import encode

    of_order = (await gql(auditor, EVENTS, {"f": {"orderId": encode("Order", order.id), "first": 1}}))["events"]
    assert len(of_order["edges"]) == 1 and of_order["pageInfo"]["hasNextPage"]
    rest = (await gql(auditor, EVENTS, {"f": {"orderId": encode("Order", order.id),
                                                 "after": of_order["pageInfo"]["endCursor"]}}))["events"]["edges"]
    assert [e["node"]["eventId"] for e in of_order["edges"] + rest] == list(
        await OrderEvent.filter(order_id=order.id).order_by("id").values_list("id", flat=True))
    future = (await gql(auditor, EVENTS, {"f": {"from": "2100-01-01T00:00:00Z"}}))["events"]["edges"]
    assert future == []
    looked = await OrderEvent.filter(type="lineage.looked_up", tenant_id=world.tenant.id).count()
    assert looked == 5
    refused = (await gql.post(world.keys["ops"], EVENTS, {})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


RELEASE = """mutation($i: ReleaseHoldInput!) { releaseHold(input: $i) { order { status } errors { code field } } }"""
HOLD = """mutation($i: HoldOrderInput!) { holdOrder(input: $i) { errors { code } } }"""


async def test_release_hold_records_its_reason_in_lineage(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    from resolvers.ids import encode

    order = await _order(world)
    key = world.keys["ops"]
    assert (await gql(key, HOLD, {"i": {"id": encode("Order", order.id), "reasons": ["fraud check"]}}))["holdOrder"]["errors"] == []
    done = (await gql(key, RELEASE, {"i": {"id": encode("Order", order.id), "reason": "buyer called back"}}))["releaseHold"]
    assert done["errors"] == []
    event = await OrderEvent.filter(order_id=order.id, type="order.hold_released").first()
    assert event is not None and event.reason == "buyer called back (lifted: fraud check)"


async def test_once_sealed_the_manifest_names_its_checkpoint_and_the_pack_holds_inclusion_proofs(world: World) -> None:
    from domain.audit.sealer import checkpoint_now, seal_pending

    order = await _order(world)
    auditor = world.actor(Role.AUDITOR)
    scope = await order_scope(auditor, order.id)
    unsealed = await export_lineage(auditor, scope, "jsonl", io.BytesIO().write, record_event=False)
    assert unsealed["checkpoint"] is None
    from models import AuditCheckpoint

    assert await seal_pending() > 0
    await checkpoint_now(world.tenant.id)                  # signs unless sealing already did
    checkpoint = await AuditCheckpoint.filter(tenant_id=world.tenant.id).order_by("-tree_size").first()
    assert checkpoint is not None
    manifest = await export_lineage(auditor, scope, "jsonl", io.BytesIO().write, record_event=False)
    assert manifest["checkpoint"]["tree_size"] == checkpoint.tree_size
    assert manifest["checkpoint"]["leaf_index"] < checkpoint.tree_size
    archive = zipfile.ZipFile(io.BytesIO(await build_pack(auditor, order.id)))
    proofs = json.loads(archive.read("proofs.json"))
    events = list(await OrderEvent.filter(order_id=order.id).order_by("id").values_list("id", flat=True))
    assert [p["event_id"] for p in proofs] == events
    assert all("proof" in p and p["proof"]["tree_size"] == checkpoint.tree_size for p in proofs), proofs
