"""The set-up CLI as an operator runs it: warehouses, catalogue and stock files, and SQLite shared with a running server.

Every command runs as a real ``python -m api.cli`` process against the test
database. Files are written here (CSV with Excel's BOM, XLSX with openpyxl).
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from domain.actor import Actor, Role
from domain.catalog import items, warehouses
from domain.tenants.accounts import create_api_key, create_tenant
from models import InboundPayload, OrderEvent, Sku, Stock, StockMovement, Warehouse
from tests.served import served


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


async def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(_cli, *args, database_url=database_url)


def _csv(path: Path, text: str) -> Path:
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # Excel's "CSV UTF-8" starts with a BOM
    return path


def _refusals(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  row ")]


async def _shop(slug: str = "acme") -> Actor:
    tenant = await create_tenant(slug, f"{slug} tea")
    return Actor(tenant_id=tenant.id, role=Role.ADMIN, name="test-setup", source="test")


async def test_warehouses_are_created_and_listed_from_the_shell(db):
    await _shop()
    created = await cli("warehouses", "create", "SH", "上海青浦仓", "--tenant", "acme", "--province", "上海", "--city", "上海",
                        "--district", "青浦区", "--street", "华志路 1688 号", "--postal-code", "201708", "--lat", "31.15",
                        "--lng", "121.12", "--handling-cost", "2.50", "--region", "east", "--priority", "10", database_url=db)
    assert created.returncode == 0, created.stderr
    assert "warehouse SH (上海青浦仓) created for tenant acme, active" in created.stdout
    paused = await cli("warehouses", "create", "GZ", "广州白云仓", "--tenant", "acme", "--paused", database_url=db)
    assert paused.returncode == 0, paused.stderr
    refused = await cli("warehouses", "create", "TJ", "天津仓", "--tenant", "acme", "--lat", "95", "--lng", "117", database_url=db)
    assert refused.returncode == 2 and "latitude must be between -90 and 90" in refused.stderr
    duplicate = await cli("warehouses", "create", "SH", "again", "--tenant", "acme", database_url=db)
    assert duplicate.returncode == 2 and "warehouse SH exists" in duplicate.stderr
    nobody = await cli("warehouses", "list", "--tenant", "nobody", database_url=db)
    assert nobody.returncode == 2 and "no tenant nobody" in nobody.stderr

    listed = await cli("warehouses", "list", "--tenant", "acme", database_url=db)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[:8] == ["SH", "active", "prio", "10", "region", "east", "cost", "2.50"]
    assert "CN/上海/上海/青浦区" in lines[0] and "31.1500,121.1200" in lines[0]
    assert lines[1].split()[:2] == ["GZ", "PAUSED"]
    sh = await Warehouse.get(code="SH")
    assert (sh.postal_code, str(sh.handling_cost), sh.address) == ("201708", "2.50", "华志路 1688 号")
    events = await OrderEvent.filter(type="warehouse.created").order_by("id")
    assert [(e.actor, e.source) for e in events] == [(f"cli:warehouses:{getpass.getuser()}", "cli")] * 2


CATALOG = """sku,title,category,barcode,weight_grams,safety_stock,active
TEA-LJ-250,西湖龙井 250g,tea,6901234567892,280,4,yes
TEA-BLC-100,碧螺春 100g,tea,,120,2,
CUP-GW,白瓷盖碗,ware,,heavy,0,true
NEW-NO-TITLE,,tea,,,,
POT-ZS,紫砂壶,ware,6901234567891,500,1,true
TRAY-01,茶盘,ware,,1800,0,true,extra
"""


async def test_catalog_import_reports_each_refused_row_and_a_rerun_changes_nothing(db, tmp_path):
    await _shop()
    path = _csv(tmp_path / "catalogue.csv", CATALOG)
    first = await cli("catalog", "import", str(path), "--tenant", "acme", "--batch", "2", database_url=db)
    assert first.returncode == 1, first.stderr
    assert "catalog import catalogue.csv: 6 rows: 2 created, 0 updated, 0 unchanged, 4 refused" in first.stdout
    assert _refusals(first.stdout) == [
        "row 4: weight_grams: 'heavy' is not a whole number",
        "row 5: title: title is required for the new item NEW-NO-TITLE",
        "row 6: barcode: barcode 6901234567891 is a 13-digit GTIN with a wrong check digit",
        "row 7: 8 cells but only 7 columns in the header",
    ]
    assert "catalogue.csv" in first.stderr  # the progress bar
    tea = await Sku.get(code="TEA-LJ-250")
    assert (tea.title, tea.barcode, tea.weight_grams, tea.safety_stock, tea.active) == ("西湖龙井 250g", "6901234567892", 280, 4, True)
    assert sorted(await Sku.all().values_list("code", flat=True)) == ["TEA-BLC-100", "TEA-LJ-250"]
    created = await OrderEvent.filter(type="catalog.item_created").order_by("id")
    payload = await InboundPayload.get(kind="import", source="catalog")
    assert [e.payload_ref for e in created] == [f"sha256:{payload.sha256}"] * 2
    assert created[0].reason == "catalogue import catalogue.csv row 2" and created[0].source == "cli"

    again = await cli("catalog", "import", str(path), "--tenant", "acme", database_url=db)
    assert "6 rows: 0 created, 0 updated, 2 unchanged, 4 refused" in again.stdout
    assert await OrderEvent.filter(type__startswith="catalog.").count() == 2  # nothing new in the lineage

    fixed = _csv(tmp_path / "fixed.csv", "商品编码,商品名称,重量(克),安全库存\nCUP-GW,白瓷盖碗,150,0\nTEA-BLC-100,碧螺春 100g,120,5\n")
    third = await cli("catalog", "import", str(fixed), "--tenant", "acme", database_url=db)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "2 rows: 1 created, 1 updated, 0 unchanged, 0 refused" in third.stdout
    assert (await Sku.get(code="TEA-BLC-100")).safety_stock == 5


async def test_catalog_import_reads_xlsx_and_refuses_a_file_with_an_unknown_column(db, tmp_path):
    await _shop()
    book = Workbook()
    sheet = book.active
    sheet.append(["SKU", "Title", "Weight grams", "Safety stock", "Active"])
    sheet.append(["TEA-DHP-200", "大红袍 200g", 230, 3, True])
    sheet.append(["TEA-PE-357", "普洱饼 357g", 357.0, 1, False])
    sheet.append(["TEA-BAD", "x", 12.5, 0, True])
    book.save(tmp_path / "items.xlsx")
    done = await cli("catalog", "import", str(tmp_path / "items.xlsx"), "--tenant", "acme", database_url=db)
    assert done.returncode == 1
    assert _refusals(done.stdout) == ["row 4: Weight grams: '12.5' is not a whole number"]
    puer = await Sku.get(code="TEA-PE-357")
    assert (puer.weight_grams, puer.active) == (357, False)

    typo = _csv(tmp_path / "typo.csv", "sku,title,weigth_grams\nX-1,x,1\n")
    refused = await cli("catalog", "import", str(typo), "--tenant", "acme", database_url=db)
    assert refused.returncode == 2 and "unknown column(s) 'weigth_grams'" in refused.stderr
    assert not await Sku.exists(code="X-1")
    not_a_file = await cli("catalog", "import", str(tmp_path / "missing.csv"), "--tenant", "acme", database_url=db)
    assert not_a_file.returncode == 2 and "no file" in not_a_file.stderr


STOCK = """warehouse,sku,quantity,kind,reference
SH,TEA-LJ-250,30,opening,stocktake-2611
GZ,TEA-LJ-250,5,,
SH,CUP-GW,12,receipt,PO-1001
SH,CUP-GW,4,opening,
XX,CUP-GW,1,opening,
SH,GHOST,1,opening,
GZ,CUP-GW,-3,opening,
GZ,CUP-GW,2,receipt,
SH,TEA-LJ-250,6,receipt,PO-1002
"""


async def test_stock_import_books_openings_and_receipts_once(db, tmp_path):
    actor = await _shop()
    for code in ("SH", "GZ"):
        await warehouses.create_warehouse(actor, code, {"name": code})
    await items.upsert_item(actor, "TEA-LJ-250", {"title": "龙井", "safety_stock": 3})
    await items.upsert_item(actor, "CUP-GW", {"title": "盖碗"})
    path = _csv(tmp_path / "stock.csv", STOCK)
    first = await cli("stock", "import", str(path), "--tenant", "acme", "--batch", "3", database_url=db)
    assert first.returncode == 1, first.stderr
    assert "stock import stock.csv: 9 rows: 4 booked, 0 unchanged, 5 refused" in first.stdout
    refusals = _refusals(first.stdout)
    assert refusals[0].startswith("row 5: quantity: CUP-GW in SH already has stock movements (RECEIPT)")
    assert refusals[1].startswith("row 6: warehouse: no warehouse 'XX'")
    assert refusals[2].startswith("row 7: sku: unknown SKU 'GHOST'")
    assert refusals[3] == "row 8: quantity: opening stock must be a whole number, 0 or more, got -3"
    assert refusals[4].startswith("row 9: reference: a receipt needs its reference")

    async def ledger() -> list[tuple[str, str, str, int]]:
        rows = await StockMovement.all().order_by("id").prefetch_related("warehouse")
        return [(m.warehouse.code, m.sku, m.kind, m.on_hand_delta) for m in rows]

    booked = await ledger()
    assert booked == [("SH", "TEA-LJ-250", "OPENING_STOCK", 30), ("GZ", "TEA-LJ-250", "OPENING_STOCK", 5),
                      ("SH", "CUP-GW", "RECEIPT", 12), ("SH", "TEA-LJ-250", "RECEIPT", 6)]
    sh_tea = await Stock.get(warehouse__code="SH", sku="TEA-LJ-250")
    assert (sh_tea.on_hand, sh_tea.safety) == (36, 3)
    opened = await OrderEvent.filter(type="stock.opened").order_by("id").first()
    assert opened is not None and opened.reason == "opening stock: ref stocktake-2611"

    again = await cli("stock", "import", str(path), "--tenant", "acme", "--batch", "3", database_url=db)
    assert "9 rows: 0 booked, 4 unchanged, 5 refused" in again.stdout
    assert await ledger() == booked
    assert await OrderEvent.filter(type__in=["stock.opened", "stock.received"]).count() == 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_cli_write_succeeds_while_a_served_process_writes_to_the_same_sqlite_file(db, tmp_path):
    """The embedded default: `ordergraph serve` and a CLI import share one SQLite file without "database is locked"."""
    actor = await _shop()
    _, key = await create_api_key("acme", Role.OPS, "desk", owner="test-suite")
    await warehouses.create_warehouse(actor, "SH", {"name": "SH"})
    rows = "\n".join(f"SKU-{n:04d},Item {n},bulk,,{100 + n},1,true" for n in range(400))
    path = _csv(tmp_path / "big.csv", "sku,title,category,barcode,weight_grams,safety_stock,active\n" + rows + "\n")
    server_errors: list[Any] = []
    writes = 0
    stop = threading.Event()

    def keep_writing(base: str) -> None:
        nonlocal writes
        with httpx.Client(base_url=base, timeout=30, headers={"authorization": f"Bearer {key}"}) as client:
            while not stop.is_set():
                reply = client.post("/graphql", json={"query": "mutation($i: UpsertCatalogItemInput!) { upsertCatalogItem(input: $i) "
                                                               "{ change errors { code message } } }",
                                                      "variables": {"i": {"sku": "SERVER-SIDE", "title": f"written {writes}"}}})
                body = reply.json()
                if reply.status_code != 200 or body.get("errors") or body["data"]["upsertCatalogItem"]["errors"]:
                    server_errors.append(body)
                writes += 1

    with served(db) as base:
        writer = threading.Thread(target=keep_writing, args=(base,))
        writer.start()
        try:
            imported = await cli("catalog", "import", str(path), "--tenant", "acme", "--batch", "25", database_url=db)
            stocked = await cli("stock", "import", str(_csv(tmp_path / "s.csv", "warehouse,sku,quantity\nSH,SKU-0001,9\n")),
                                "--tenant", "acme", database_url=db)
        finally:
            stop.set()
            writer.join()
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "400 rows: 400 created" in imported.stdout
    assert stocked.returncode == 0, stocked.stdout + stocked.stderr
    assert writes > 5 and server_errors == []
    assert await Sku.filter(code__startswith="SKU-").count() == 400
    with sqlite3.connect(db.removeprefix("sqlite://")) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
