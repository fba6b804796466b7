"""A returning buyer's customer row is matched by phone and read, not written: orders of one buyer (or of one masked
phone many platforms give out) must not queue behind each other's transactions on that row."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from domain.intake.apply import customer_for
from domain.orders.create import NewCustomer
from models import Customer


async def test_a_returning_buyer_fills_only_what_was_missing(world, db):
    first = await customer_for(world.tenant.id, NewCustomer(name="王小明", phone="13800001111", email=""))
    again = await customer_for(world.tenant.id, NewCustomer(name="王小明", phone="13800001111", email="a@example.cn"))
    third = await customer_for(world.tenant.id, NewCustomer(name="王小明", phone="13800001111", email="b@example.cn"))
    assert first == again == third
    assert (await Customer.get(id=first)).email == "a@example.cn"  # filled once, never replaced
    assert await Customer.filter(tenant_id=world.tenant.id).count() == 1


async def test_an_open_order_transaction_does_not_lock_a_returning_buyer(world, db):
    if not db.startswith("postgres"):
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer anyway")
    first = await customer_for(world.tenant.id, NewCustomer(name="王小明", phone="13800001111", email="a@example.cn"))
    other = await asyncpg.connect(db.replace("postgres://", "postgresql://", 1))
    try:
        await other.execute("SET lock_timeout = '500ms'")
        async with in_transaction():  # an order's transaction, still open while another order of the buyer arrives
            assert await customer_for(world.tenant.id, NewCustomer(name="王小明", phone="13800001111",
                                                                   email="b@example.cn")) == first
            await other.execute("SELECT 1 FROM customer WHERE id = $1 FOR UPDATE", first)  # not held: no wait
    finally:
        await other.close()
