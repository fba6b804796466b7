"""The catalogue: what orders refer to — channels, warehouses, SKUs.

Modules: ``setup`` (create channels and warehouses, upsert SKUs).
"""
