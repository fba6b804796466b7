"""A busy database answers 503 with Retry-After (the sender retries and loses nothing), never a 500."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import httpx

from tests.intake_support import GENERIC_MAPPING, SECRET, generic_body, standard_headers
from tests.served import served

_SCHEMA = """
import asyncio, os
from tortoise import Tortoise
from api import database
async def main():
    await database.init_db(os.environ["DATABASE_URL"])
    await Tortoise.generate_schemas(safe=True)
    await database.close_db()
asyncio.run(main())
"""


def _cli(*args: str, database_url: str) -> str:
    done = subprocess.run([sys.executable, "-m", "api.cli", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_order_pushed_while_another_process_holds_the_write_lock_gets_503_then_lands(tmp_path):
    path = tmp_path / "busy.sqlite3"
    database_url = f"sqlite://{path}"
    schema = subprocess.run([sys.executable, "-c", _SCHEMA], env={**os.environ, "DATABASE_URL": database_url},
                            capture_output=True, text=True, timeout=120)
    assert schema.returncode == 0, schema.stderr
    _cli("tenants", "create", "acme", "Acme", database_url=database_url)
    key = _cli("keys", "create", "--tenant", "acme", "--role", "admin", "--owner", "test-suite", database_url=database_url).strip().splitlines()[-1]
    # The server waits at most 300 ms for the lock (the URL's pragma wins over the default 5 s).
    with served(f"{database_url}?busy_timeout=300") as base, httpx.Client(base_url=base, timeout=30) as client:
        registered = client.post("/graphql", headers={"authorization": f"Bearer {key}"}, json={
            "query": "mutation($input: RegisterChannelInput!) { registerChannel(input: $input) { errors { message } } }",
            "variables": {"input": {"code": "miniapp", "kind": "generic", "name": "mini", "secret": SECRET,
                                    "mapping": GENERIC_MAPPING}}})
        assert registered.json() == {"data": {"registerChannel": {"errors": []}}}, registered.text
        body = generic_body(order_no="BUSY1")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            refused = client.post("/hooks/acme/miniapp", content=body, headers=standard_headers(body))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "5"
        assert refused.json()["code"] == "UNAVAILABLE"
        retried = client.post("/hooks/acme/miniapp", content=body, headers=standard_headers(body))
        assert retried.status_code == 200, retried.text
    with sqlite3.connect(path) as plain:
        assert plain.execute("SELECT COUNT(*) FROM orders WHERE external_id = 'BUSY1'").fetchone() == (1,)
