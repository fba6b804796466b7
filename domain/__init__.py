"""The business rules and the use cases that change state: the one write path.

A package per capability, each saying in its ``__init__`` what it owns:
``orders`` (create, moves, holds, cancel, ship), ``stock`` (ledger,
reservations, quarantine), ``allocation`` (policies, decisions, pick queue),
``inbound`` (evidence, formats, status mapping, quarantine), ``intake``
(channel orders), ``tracking`` (carrier scans, the customer's view),
``alerts``, ``webhooks``, ``catalog``, ``tenants``.

The kernel every package may use sits at this level: ``errors``, ``actor``,
``statuses``, ``masking``, ``unit_of_work``, ``snapshots``, ``sql``,
``order_machine`` (the order state machine as data), ``order_writes`` (lock,
save with lineage) and ``idempotency``. Arrows point down: kernel ← stock ←
allocation ← orders ← intake/tracking; ``inbound`` sits below intake and
tracking. Nothing here imports ``adapters/``: wire formats come in as ports
(``domain.inbound.formats``). ``tests/test_architecture.py`` keeps it so.
"""
