"""Allocation: which warehouse ships which line, the reservations that promise it, the pick queue.

Modules: ``policy`` (strategies as validated JSON per tenant or channel),
``strategies`` (pure ranking and filling: priority, region, nearest, cost),
``geo`` (where a destination is), ``allocate`` (the use cases: plan, reserve,
record the decision), ``order_stock`` (what an order's payment, cancel and
shipment do to its stock, called inside the order's transaction) and
``pick_queue`` (urgent tiers first, then ship-by). Builds on ``domain.stock``.
"""
