"""Bulk import from CSV and XLSX: the generic mapping, per-row errors by row number, batches, resumable re-runs."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.formats import FORMATS
from adapters.order_files import parsed_groups
from domain.inbound import status_mapping
from domain.intake.apply import channel_actor
from domain.intake.bulk_import import import_file, import_groups, start_run
from models import (
    Alert,
    ImportRowError,
    ImportRun,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
)
from tests.intake_support import add_channel, admin

MAPPING = {
    "source": "csvshop",
    "external_id": "order_id",
    "status": "status",
    "lines": "rows",
    "line.sku": "sku",
    "line.quantity": "qty",
    "line.unit_price": "price",
    "line.title": "title",
    "total_amount": "total",
    "currency": "'CNY'",
    "updated_at": "updated_at",
    "placed_at": "placed_at",
    "customer_name": "buyer",
    "customer_phone": "phone",
    "address.province": "province",
    "address.city": "city",
    "address.address": "address",
    "time_format": "china",
}
HEADER = "order_id,status,sku,qty,price,title,total,updated_at,placed_at,buyer,phone,province,city,address\n"


def _row(order_id: str, sku: str = "A1", qty: str = "1", price: str = "10.00", total: str = "10.00",
         status: str = "PAID", updated: str = "2024-03-01 12:00:00", phone: str = "13900000001") -> str:
    return f"{order_id},{status},{sku},{qty},{price},T {sku},{total},{updated},2024-03-01 11:00:00,王五,{phone},浙江,杭州,文三路 1 号\n"


GOOD_AND_BAD = (HEADER + "".join([
    _row("C1", "A1", "2", "10.00", "30.00"),   # row 2  } one order, two lines
    _row("C1", "B1", "1", "10.00", "30.00"),   # row 3  }
    _row("C2", qty="two"),                      # row 4  refused: quantity
    _row("C3"),                                 # row 5
    "\n",                                       # row 6  blank: skipped
    _row("C4", sku=""),                         # row 7  refused: no SKU
    _row("C1", "C9"),                           # row 8  refused: C1's rows are not adjacent
    _row("C5", updated="01/03/2024"),           # row 9  refused: time format
    _row("C6", status="MYSTERY"),               # row 10 kept, held: unmapped status
])).encode()


@pytest.fixture
async def csv_channel(world):
    channel = await add_channel(world, "csv", "generic", mapping=MAPPING)
    await status_mapping.save(admin(world), "csvshop", {"PAID": {"order": "PAID", "payment": "PAID"},
                                                        "SHIPPED": {"order": "SHIPPED", "payment": "PAID"}})
    return channel


async def _import(world, data: bytes, name: str = "orders.csv", **kwargs) -> ImportRun:
    return await import_file(admin(world), "csv", name, data, files=FORMATS.files, **kwargs)


async def test_valid_rows_are_committed_and_refused_rows_reported_by_number(world, csv_channel):
    run = await _import(world, GOOD_AND_BAD, batch_size=2)
    assert run.status == "done" and run.total_rows == 8 and run.rows_done == 8  # the blank row is not counted
    assert (run.orders_created, run.rows_failed) == (3, 4)
    errors = {e.row: (e.field, e.message) for e in await ImportRowError.filter(run_id=run.id).order_by("row")}
    assert sorted(errors) == [4, 7, 8, 9]
    assert errors[4][0].startswith("lines[0].line.quantity") and "integer" in errors[4][1]
    assert errors[7][0].startswith("lines[0].line.sku")
    assert "C1 already appeared at row 2" in errors[8][1]
    assert errors[9][0].startswith("updated_at")
    c1 = await Order.get(external_id="C1")
    assert c1.status == "PAID" and c1.total_amount == Decimal("30.00")
    assert [l.sku for l in await OrderLine.filter(order_id=c1.id).order_by("id")] == ["A1", "B1"]
    assert (await Payment.get(order_id=c1.id)).amount == Decimal("30.00")
    created = await OrderEvent.get(order_id=c1.id, type="order.created")
    assert created.payload_ref == f"import:{run.id}:row:2" and created.actor == f"import#{run.id}:csv"
    c6 = await Order.get(external_id="C6")
    assert c6.status == "ON_HOLD" and await Alert.filter(order_id=c6.id, kind="intake.unmapped_code").count() == 1
    # customers matched by phone across orders
    assert len({o.customer_id for o in await Order.all()}) == 1  # type: ignore[attr-defined]


async def test_re_running_the_same_file_changes_nothing(world, csv_channel):
    first = await _import(world, GOOD_AND_BAD)
    events = await OrderEvent.all().count()
    again = await _import(world, GOOD_AND_BAD)
    assert again.id == first.id and again.status == "done"
    assert await OrderEvent.all().count() == events and await Order.all().count() == 3
    assert await ImportRowError.filter(run_id=first.id).count() == 4


async def test_an_interrupted_import_resumes_where_it_stopped(world, csv_channel):
    data = (HEADER + "".join(_row(f"R{n}") for n in range(10))).encode()
    actor = admin(world)
    run, start = await start_run(actor, csv_channel, file_name="big.csv", sha256="x" * 64, fmt="csv",
                                 payload_id=None, total_rows=10)
    batches = []

    def crash_after_two(rows: int) -> None:
        batches.append(rows)
        if len(batches) == 2:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C
    with pytest.raises(KeyboardInterrupt):
        await import_groups(channel_actor(world.tenant.id, "csv", "import"), csv_channel, run,
                            parsed_groups(data, "csv", MAPPING, start_row=start), batch_size=3, progress=crash_after_two)
    await run.refresh_from_db()
    assert run.next_row == 8 and run.orders_created == 6 and await Order.all().count() == 6
    run, start = await start_run(actor, csv_channel, file_name="big.csv", sha256="x" * 64, fmt="csv",
                                 payload_id=None, total_rows=10)
    assert start == 8
    run = await import_groups(channel_actor(world.tenant.id, "csv", "import"), csv_channel, run,
                              parsed_groups(data, "csv", MAPPING, start_row=start), batch_size=3)
    assert run.status == "done" and run.orders_created == 10 and run.rows_done == 10
    assert await Order.all().count() == 10 and await OrderEvent.filter(type="order.created").count() == 10


async def test_a_newer_file_updates_and_an_equal_one_is_unchanged(world, csv_channel):
    await _import(world, (HEADER + _row("U1") + _row("U2")).encode())
    newer = (HEADER + _row("U1", status="SHIPPED", updated="2024-03-02 12:00:00") + _row("U2")).encode()
    run = await _import(world, newer, name="later.csv")
    assert (run.orders_created, run.orders_updated, run.orders_unchanged) == (0, 1, 1)
    assert (await Order.get(external_id="U1")).status == "SHIPPED"
    applied = await OrderEvent.get(type="intake.applied")
    assert applied.payload_ref == f"import:{run.id}:row:2"


async def test_xlsx_with_typed_cells(world, csv_channel):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["X1", "PAID", "A1", 2, 59.9, "Tee", 119.8, datetime(2024, 3, 1, 12), datetime(2024, 3, 1, 11),
                  "王五", "13900000001", "浙江", "杭州", "路"])
    sheet.append([3612345678901234567, "PAID", "A1", 1, 1, "Tee", 1, datetime(2024, 3, 1, 12), None, "", "", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    run = await _import(world, buffer.getvalue(), name="orders.xlsx")
    assert run.format == "xlsx" and run.orders_created == 1 and run.rows_failed == 1
    order = await Order.get(external_id="X1")
    assert order.total_amount == Decimal("119.80")
    assert [(l.quantity, l.unit_price) for l in await OrderLine.filter(order_id=order.id)] == [(2, Decimal("59.90"))]
    error = await ImportRowError.get(run_id=run.id)
    assert error.row == 3 and "format the column as text" in error.message


async def test_graphql_import_from_upload_and_server_path(world, gql, csv_channel, tmp_path, monkeypatch):
    query = """mutation($input: ImportOrdersInput!) { importOrders(input: $input) {
        run { id status ordersCreated rowsFailed errors { nodes { row field message } } } errors { code field message } } }"""
    data = (HEADER + _row("G1") + _row("G2", qty="-1")).encode()
    result = (await gql(world.keys["admin"], query, {"input": {
        "channel": "csv", "fileName": "g.csv", "contentBase64": base64.b64encode(data).decode()}}))["importOrders"]
    assert result["errors"] == [] and result["run"]["ordersCreated"] == 1 and result["run"]["rowsFailed"] == 1
    assert result["run"]["errors"]["nodes"][0]["row"] == 3
    denied = (await gql(world.keys["ops"], query, {"input": {"channel": "csv", "contentBase64": ""}}))["importOrders"]
    assert denied["errors"][0]["code"] == "FORBIDDEN"
    outside = (await gql(world.keys["admin"], query, {"input": {"channel": "csv", "serverPath": "../../etc/passwd"}}))
    assert outside["importOrders"]["errors"][0]["field"] == "serverPath"
    folder = Path("var/imports")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"test-{world.tenant.id}-{os.getpid()}.csv").write_bytes((HEADER + _row("G3")).encode())
    try:
        started = (await gql(world.keys["admin"], query, {"input": {
            "channel": "csv", "serverPath": f"test-{world.tenant.id}-{os.getpid()}.csv", "wait": False}}))["importOrders"]
        assert started["errors"] == [] and started["run"]["status"] in ("running", "done")
        poll = '''query($id: ID!) { importRun(id: $id) { status ordersCreated } }'''
        for _ in range(100):
            state = (await gql(world.keys["admin"], poll, {"id": started["run"]["id"]}))["importRun"]
            if state["status"] == "done":
                break
            import asyncio

            await asyncio.sleep(0.05)
        assert state == {"status": "done", "ordersCreated": 1}
    finally:
        (folder / f"test-{world.tenant.id}-{os.getpid()}.csv").unlink()


async def test_a_channel_without_a_mapping_cannot_import(world):
    from domain.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="no field mapping"):
        await import_file(admin(world), "tmall", "x.csv", HEADER.encode(), files=FORMATS.files)


async def test_cli_import_with_a_progress_bar(world, csv_channel, db, tmp_path):
    path = tmp_path / "cli.csv"
    path.write_bytes((HEADER + "".join(_row(f"L{n}") for n in range(25)) + _row("L99", qty="x")).encode())
    env = {**os.environ, "DATABASE_URL": db, "ORDERGRAPH_IMPORT_BATCH": "10"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "import", str(path), "--tenant", "acme", "--channel", "csv"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "25 orders created" in done.stdout and "1 rows refused" in done.stdout
    assert "row 27: lines[0].line.quantity" in done.stdout
    assert "26/26" in done.stderr  # tqdm's bar reached the end
    again = subprocess.run([sys.executable, "-m", "api.cli", "import", str(path), "--tenant", "acme", "--channel", "csv"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert "done: 26 of 26 rows" in again.stdout and await Order.all().count() == 25
