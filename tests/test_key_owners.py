"""Lineage names the person or system behind an API key (issue 17 b): owner given at creation, validated,
shown in every event the key writes, parsed back into export records, old names still parsed."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys

import pytest

from domain.actor import Role
from domain.errors import ValidationFailed
from domain.lineage.export import export_lineage
from domain.lineage.records import key_of
from domain.lineage.scope import order_scope
from domain.tenants.accounts import authenticate, create_api_key, validate_owner
from models import ApiKey, OrderEvent
from tests.conftest import World
from tests.helpers import CREATE_ORDER, order_input

OWNER = "Li Wei <li.wei@acme.cn>"


@pytest.mark.parametrize("given, stored", [
    ("Li Wei <li.wei@acme.cn>", "Li Wei <li.wei@acme.cn>"),
    ("  Li   Wei  <li.wei@ACME.cn> ", "Li Wei <li.wei@acme.cn>"),
    ("li.wei@acme.cn", "li.wei@acme.cn"),
    ("demo-seed", "demo-seed"),
    ("ERP nightly sync (Kingdee)", "ERP nightly sync (Kingdee)"),
    ("王芳 <wang.fang@acme.cn>", "王芳 <wang.fang@acme.cn>"),
])
def test_an_owner_is_trimmed_and_its_email_normalised(given: str, stored: str) -> None:
    assert validate_owner(given) == stored


@pytest.mark.parametrize("given, says", [
    ("", "required"),
    ("   ", "required"),
    (None, "required"),
    ("x" * 121, "at most 120"),
    ("Li Wei <li.wei-at-acme.cn>", "not a valid email"),
    ("li.wei@", "not a valid email"),
    ("Li Wei li.wei@acme.cn", "Name <name@example.com>"),
    ("Li Wei <li.wei@acme.cn", "Name <name@example.com>"),
    ("ops via vpn", "via"),
    ("Li\x00Wei", "control"),
])
def test_a_bad_owner_is_refused_with_a_clear_error(given: str | None, says: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate_owner(given)
    assert refused.value.field == "owner" and says in str(refused.value)


async def test_every_new_key_needs_an_owner_and_the_name_must_fit_lineage(world: World) -> None:
    with pytest.raises(ValidationFailed, match="owner is required"):
        await create_api_key("acme", Role.AUDITOR, "books", owner=" ")
    with pytest.raises(ValidationFailed, match="fit 100 characters"):
        await create_api_key("acme", Role.OPS, "l" * 60, owner="o" * 50)
    assert not await ApiKey.filter(name="books").exists()
    key, secret = await create_api_key("acme", Role.AUDITOR, "books", owner="KPMG audit <audit@kpmg.example>")
    assert key.owner == "KPMG audit <audit@kpmg.example>"
    actor = await authenticate(secret)
    assert actor is not None and actor.name == "KPMG audit <audit@kpmg.example> via books (auditor key)"
    _, unlabelled = await create_api_key("acme", Role.OPS, owner="demo-seed")
    actor = await authenticate(unlabelled)
    assert actor is not None and actor.name.startswith("demo-seed via ops key #")


async def test_events_written_with_a_key_name_its_owner_and_exports_parse_it_back(world: World, gql) -> None:  # type: ignore[no-untyped-def]
    _, secret = await create_api_key("acme", Role.OPS, "ops-console", owner=OWNER)
    created = (await gql(secret, CREATE_ORDER, {"input": order_input("OWNED-1")}))["createOrder"]
    assert created["errors"] == [], created
    event = await OrderEvent.filter(tenant_id=world.tenant.id, type="order.created").order_by("-id").first()
    assert event is not None and event.actor == f"{OWNER} via ops-console (ops key)"

    auditor = world.actor(Role.AUDITOR)
    scope = await order_scope(auditor, event.order_id)
    out = io.BytesIO()
    await export_lineage(auditor, scope, "jsonl", out.write, record_event=False)
    records = [json.loads(line) for line in out.getvalue().decode().splitlines()]
    created_record = next(r for r in records if r["type"] == "order.created")
    assert created_record["who"] == f"{OWNER} via ops-console (ops key)"
    assert created_record["key"] == {"owner": OWNER, "label": "ops-console", "role": "ops"}

    out = io.BytesIO()
    await export_lineage(auditor, scope, "csv", out.write, record_event=False)
    row = next(r for r in csv.DictReader(io.StringIO(out.getvalue().decode())) if r["type"] == "order.created")
    assert (row["key_owner"], row["key_label"], row["key_role"]) == (OWNER, "ops-console", "ops")


def test_old_and_new_actor_names_parse() -> None:
    assert key_of("ops desk (ops key)") == {"owner": None, "label": "ops desk", "role": "ops"}
    assert key_of("auditor key #7") == {"owner": None, "label": "", "role": "auditor", "number": "7"}
    assert key_of("Li Wei <li.wei@acme.cn> via ops-console (ops key)") == {
        "owner": "Li Wei <li.wei@acme.cn>", "label": "ops-console", "role": "ops"}
    assert key_of("demo-seed via admin key #12") == {"owner": "demo-seed", "label": "", "role": "admin",
                                                      "number": "12"}
    # The first " via " separates (an owner never holds one); the label may hold one and parentheses.
    assert key_of("ERP sync (Kingdee) via sync via vpn (eu) (ops key)") == {
        "owner": "ERP sync (Kingdee)", "label": "sync via vpn (eu)", "role": "ops"}
    assert key_of("cli:reconcile:root") is None
    assert key_of("rules via scheduler") is None


def _cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=60)


async def test_the_cli_requires_an_owner_and_lists_it(world: World, db: str) -> None:
    base = ("keys", "create", "--tenant", "acme", "--role", "auditor", "--name", "books")
    missing = await asyncio.to_thread(_cli, *base, database_url=db)
    assert missing.returncode == 2 and "--owner" in missing.stderr
    bad = await asyncio.to_thread(_cli, *base, "--owner", "Li Wei <nope>", database_url=db)
    assert bad.returncode != 0 and "not a valid email" in bad.stderr and "Traceback" not in bad.stderr
    made = await asyncio.to_thread(_cli, *base, "--owner", OWNER, database_url=db)
    assert made.returncode == 0, made.stderr
    actor = await authenticate(made.stdout.strip().splitlines()[-1])
    assert actor is not None and actor.name == f"{OWNER} via books (auditor key)"
    listed = await asyncio.to_thread(_cli, "keys", "list", "--tenant", "acme", database_url=db)
    assert f"books  (owner: {OWNER})" in listed.stdout
