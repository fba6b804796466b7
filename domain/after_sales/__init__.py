"""After-sales (RMA): refund-only, return-and-refund and exchange requests about an order, as their own aggregate.

Modules, one job each: ``machine`` (the allowed moves per kind, as data),
``policy`` (the tenant's rules as data: auto-approval, risk, deadlines),
``money`` (what was paid and refunded, what may still be), ``photos`` (the
customer's pictures, checked by their bytes), ``records`` (locks, snapshots,
lineage), ``moves`` (each move on a locked after-sale, shared by the use
cases), ``requests`` (opening one), ``decisions`` (the people's and systems'
moves, a transaction each), ``exchange`` (the replacement order),
``channel`` (following what a sales channel reports), ``ports`` and
``pushes`` (decisions owed to the channel, pushed after commit), ``queries``.

    sale = await open_after_sale(actor, order_id, "refund_only", [(line_id, 1)], "arrived broken")
    await approve(actor, sale.id)
    await refund(actor, sale.id)
"""
