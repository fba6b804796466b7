"""Intake: channel orders arriving by webhook, relay or file, applied exactly once, in order, and whole.

Modules: ``receive`` (one webhook delivery through the pipeline),
``apply`` (create or update an order from what the channel says, and the
status reconciliation), ``changes`` (what an update changes besides status:
receiver, lines, amounts, email), ``reading`` (what the raw codes mean, per
dimension), ``plan`` (the rows a first-seen order becomes), ``rows`` (those
rows as models, shared by the webhook and file writers), ``fast_insert``
(writing them in one round trip), ``bulk_import`` (CSV/XLSX files in
resumable batches), ``lookup`` (the order and the channel's SKU aliases in
one read), ``contact`` (clear, masked and sealed receiver data), ``amounts``
(the money parts and their checks), ``waybills`` (the channel's parcels as
shipments), ``buyer_requests`` (cancel/refund requests: hold and alert) and
``sources`` (registering channels and carrier accounts).
"""
