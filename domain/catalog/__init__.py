"""The catalogue: what orders refer to — warehouses, items (SKUs), channels' names for them.

Modules: ``warehouses`` (create, change, pause and resume), ``items``
(upsert catalogue items, list them), ``aliases`` (a channel's SKU names),
``sheets`` (a set-up spreadsheet applied row by row, in batches) with
``item_sheet`` (catalogue files) and ``stock_sheet`` (opening stock and
receipts files), ``channels`` (the channel row; registering one for intake is
``domain.intake.sources``), ``checks`` (the shared field checks) and
``setup`` (actor-less shortcuts for the seed and fixtures only). Opening
stock is ``domain.stock.levels.set_opening_stock``.
"""
