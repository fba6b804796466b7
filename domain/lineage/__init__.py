"""What auditors take away: exports of the lineage (JSONL, CSV, PDF) and one order's evidence pack.

    scope = await order_scope(actor, "OG000000042")
    manifest = await export_lineage(actor, scope, "jsonl", sink)
    data = await build_pack(actor, "OG000000042")         # zip bytes

``scope`` picks the rows, ``records`` turns one row into what an auditor
reads, ``export`` streams them with a manifest, ``pdf`` renders an order's
timeline, ``pack`` zips the evidence of one order.
"""
