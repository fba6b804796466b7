"""Federation: the graph asks the merchant's ERP and WMS, pushes to them, hears from them, and says which one is wrong.

- ``ports``: what an ERP or WMS adapter must offer, the shapes they exchange
  and the evidence each call leaves; adapters implement them and import
  nothing else from here. Callers hand the adapters in (``adapters.systems.SYSTEMS``).
- ``connections``: registering systems, which WMS runs which warehouse;
  ``evidence``: every exchange kept, redacted, linked from lineage;
  ``asking``: one question within a time budget; ``reachability``: a
  system that stops answering is on the board (``system.unreachable``)
  until it answers again, ``wms_probe`` asking a failing WMS meanwhile.
- Writing to the WMS: ``delivery_orders`` (which delivery orders it should
  hold, from the lineage), ``delivery_push`` (sending them and their
  cancellations, with retries and leases); hearing back: ``wms_callbacks``
  (the inbound pipeline), ``wms_shipping`` (a confirmation ships the order's
  lines), ``wms_stock`` (reported stock changes on the ledger); and when
  nothing is heard, ``confirmation_sweep`` (the leader asks the WMS about
  delivery orders it accepted and never confirmed).
- Reading and judging: ``views`` (what ERP and WMS say now, batched),
  ``facts`` (what we, the channel and the carriers say), ``diagnosis`` (pure
  rules and the verdict), ``diagnose`` (asking everyone at once), ``repair``
  (the suggested actions as use cases), ``drift_breaker`` + ``breaker_config``
  (pausing allocation where ERP and WMS stock disagree), ``failure_rate``.
"""
