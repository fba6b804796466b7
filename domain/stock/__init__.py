"""Stock truth per (warehouse, SKU): the ledger, reservations, quarantine, low-stock signals.

Modules: ``ledger`` (every level change: a ledger row and one conditional
UPDATE), ``reservations`` (units promised to order lines, from promise to
shipment or release), ``reservation_statement`` (the same in one statement on
PostgreSQL), ``levels`` (receive, adjust, count sync, safety stock,
inspection), ``returns`` (returned items into quarantine) and ``low_stock``.
The invariants: reserved = Σ active reservations, reserved ≤ on hand.
"""
