"""Intake: channel orders arriving by webhook, relay or file, applied exactly once and in order.

Modules: ``receive`` (one webhook delivery through the pipeline),
``apply`` (create or update an order from what the channel says),
``reading`` (what the raw codes mean, per dimension), ``plan`` (the rows a
first-seen order becomes), ``fast_insert`` (writing them in one round trip),
``bulk_import`` (CSV/XLSX files in resumable batches) and ``sources``
(registering channels and carrier accounts).
"""
